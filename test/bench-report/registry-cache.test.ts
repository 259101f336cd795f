// The registry-cache benchmark's arithmetic: upstream bytes read from docker-registry's own log, and a round's row.

import { describe, expect, it } from 'vitest';
import { bytesSent, registryCacheRow } from '../../src/bench-report/registry-cache.ts';

function line(method: string, uri: string, status: number, written: number): string {
  return (
    `time="2026-12-06T09:00:00Z" level=info msg="response completed" go.version=go1.24.4 http.request.method=${method} ` +
    `http.request.remoteaddr="192.168.77.1:40000" http.request.uri="${uri}" http.response.duration=1.2s ` +
    `http.response.status=${status} http.response.written=${written}`
  );
}

describe('the registry-cache benchmark', () => {
  it('counts the bytes of the blobs and manifests an upstream sent, by its log: GETs that succeeded, not HEADs, errors or the API root', () => {
    const log = [
      line('GET', '/v2/', 200, 2),
      line('HEAD', '/v2/mesa/test-gl/manifests/42', 200, 0),
      line('GET', '/v2/mesa/test-gl/manifests/42', 200, 528),
      line('GET', '/v2/mesa/test-gl/blobs/sha256:aaaa', 200, 67_200_000),
      line('GET', '/v2/mesa/test-gl/blobs/sha256:bbbb', 404, 157),
      'time="2026-12-06T09:00:00Z" level=info msg="listening on 192.168.77.2:5000"',
    ].join('\n');
    expect(bytesSent(log)).toBe(528 + 67_200_000);
  });

  it('gives the upstream bytes against the image size, and the median and slowest of the machines that reached their status line', () => {
    expect(
      registryCacheRow({ machines: 3, mode: 'single flight', cache: 'cold', upstreamBytes: 67_300_000, imageBytes: 67_200_000, seconds: [40, undefined, 30] }),
    ).toEqual(['3', 'single flight', 'cold', '67.3 MB', '1.00', '2 of 3', '30.0', '40.0']);
  });
});
