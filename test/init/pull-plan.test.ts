import { describe, expect, it } from 'vitest';
import { parseContainerStep, type ContainerStep } from '../../src/cmdline/container.ts';
import { classifyPullFailure, podmanPullArgs, pullDelaySeconds } from '../../src/init/pull-plan.ts';

function step(args: string): ContainerStep {
  const parsed = parseContainerStep(args);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.step;
}

describe('podmanPullArgs', () => {
  it('pulls with the options that say how to reach the image, and none of the others', () => {
    expect(podmanPullArgs(step('-ti --tls-verify=false --creds ci:token -v job:/job --platform linux/arm64 docker://r:5000/i:1 sh -c true'))).toEqual([
      'podman',
      'pull',
      '--tls-verify=false',
      '--creds',
      'ci:token',
      '--platform',
      'linux/arm64',
      'docker://r:5000/i:1',
    ]);
  });

  it('pulls nothing for an image named by its ID: it is in a local store', () => {
    expect(podmanPullArgs(step(`--tls-verify=false ${'3f0a9c'.repeat(10)}e8f9 setup`))).toBeUndefined();
    expect(podmanPullArgs(step('sha256:0123456789abcdef'))).toBeUndefined();
    expect(podmanPullArgs(step('docker://r/abcdef012345'))).toBeDefined();
  });
});

describe('classifyPullFailure', () => {
  const failure = (message: string): string => `Trying to pull r:5000/i:1...\nError: initializing source docker://r:5000/i:1: ${message}\n`;

  it('tries again what a farm network does for a while: 5xx, resets, timeouts, bodies cut short', () => {
    for (const message of [
      'reading manifest 1 in r:5000/i: received unexpected HTTP status: 503 Service Unavailable',
      'pinging container registry r:5000: Get "http://r:5000/v2/": dial tcp 10.0.2.100:5000: connect: connection refused',
      'read tcp 10.0.2.15:40000->10.0.2.100:5000: read: connection reset by peer',
      'Get "http://r:5000/v2/i/blobs/sha256:ab": net/http: TLS handshake timeout',
      'writing blob: storing blob to file "/var/tmp/x": happened during read: unexpected EOF',
    ]) {
      expect(classifyPullFailure(failure(message)).kind, message).toBe('transient');
    }
  });

  it('gives up at once on what the registry will keep saying, and names it', () => {
    for (const message of [
      'reading manifest 1 in r:5000/i: manifest unknown',
      'reading manifest 1 in r:5000/i: unauthorized: authentication required',
      'reading manifest 1 in r:5000/i: received unexpected HTTP status: 404 Not Found',
      'pinging container registry r:5000: Get "https://r:5000/v2/": tls: failed to verify certificate: x509: certificate signed by unknown authority',
    ]) {
      expect(classifyPullFailure(failure(message)), message).toEqual({ kind: 'permanent', reason: `initializing source docker://r:5000/i:1: ${message}` });
    }
  });

  it('gives up at once when the storage itself fails', () => {
    for (const message of [
      'faccessat /var/lib/containers/storage/libpod/bolt_state.db: input/output error',
      'creating read-write layer: mkdir /var/lib/containers/storage/overlay/x: read-only file system',
    ]) {
      expect(classifyPullFailure(`Error: ${message}\n`), message).toEqual({ kind: 'permanent', reason: message });
    }
  });

  it('knows a full disk, which a prune may mend', () => {
    expect(classifyPullFailure('Error: writing blob: write /var/lib/containers/storage/tmp/x: no space left on device\n').kind).toBe('no-space');
  });

  it('waits longer after each failed try', () => {
    expect([1, 2, 3, 4].map(pullDelaySeconds)).toEqual([1, 2, 4, 8]);
  });
});
