// The fault proxy in front of a real HTTP server on 127.0.0.1: each fault as a client meets it.

import { createHash } from 'node:crypto';
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultProxy } from '../../src/testbed/fault-proxy.ts';

const BODY = Buffer.from(Array.from({ length: 4096 }, (_, index) => index % 251));

/** What a client gets: the status and body, or the error that ended the exchange. */
function fetchFrom(port: number, path: string): Promise<{ status?: number; body: Buffer; error?: string; seconds: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const done = (result: { status?: number; error?: string }): void =>
      resolve({ ...result, body: Buffer.concat(chunks), seconds: (Date.now() - started) / 1000 });
    get({ host: '127.0.0.1', port, path }, (response) => {
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => done({ status: response.statusCode ?? 0 }));
      response.on('error', (error) => done({ status: response.statusCode ?? 0, error: error.message }));
      response.on('aborted', () => done({ status: response.statusCode ?? 0, error: 'aborted' }));
    }).on('error', (error) => done({ error: error.message }));
  });
}

describe('the fault proxy', () => {
  let server: Server;
  let proxy: FaultProxy;

  beforeAll(async () => {
    server = createServer((_request, response) => response.writeHead(200, { 'content-length': String(BODY.length) }).end(BODY));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = await FaultProxy.start((server.address() as AddressInfo).port);
  });

  afterAll(async () => {
    await proxy.close();
    await new Promise((resolve) => server.close(resolve));
  });

  it('passes requests through untouched, and gives a status fault only as many times as asked', async () => {
    proxy.add({ path: /^\/flaky$/, fault: { kind: 'status', status: 503 }, times: 2 });
    const answers = [];
    for (let attempt = 0; attempt < 3; attempt++) answers.push(await fetchFrom(proxy.port, '/flaky'));
    expect(answers.map((answer) => answer.status)).toEqual([503, 503, 200]);
    expect(answers[2]?.body.equals(BODY)).toBe(true);
    expect(proxy.seen(/^\/flaky$/).map((request) => request.fault)).toEqual(['status', 'status', undefined]);
  });

  it('takes a request and never answers it while the connection stays open', async () => {
    proxy.add({ path: /^\/stall$/, fault: { kind: 'stall' }, times: 1 });
    const answer = await Promise.race([fetchFrom(proxy.port, '/stall'), new Promise<'silent'>((resolve) => setTimeout(() => resolve('silent'), 1500))]);
    expect(answer).toBe('silent');
    expect(proxy.seen(/^\/stall$/).map((request) => request.fault)).toEqual(['stall']);
    expect((await fetchFrom(proxy.port, '/stall')).status).toBe(200);
  });

  it('resets a connection, cuts a body short, and corrupts one byte of it', async () => {
    proxy.add({ path: /^\/reset$/, fault: { kind: 'reset' } });
    proxy.add({ path: /^\/cut$/, fault: { kind: 'cut', bytes: 1000 } });
    proxy.add({ path: /^\/corrupt$/, fault: { kind: 'corrupt' } });
    expect((await fetchFrom(proxy.port, '/reset')).error).toBeDefined();
    const cut = await fetchFrom(proxy.port, '/cut');
    expect(cut.error).toBeDefined();
    expect(cut.body.length).toBe(1000);
    const corrupt = await fetchFrom(proxy.port, '/corrupt');
    expect(corrupt.body.length).toBe(BODY.length);
    expect(createHash('sha256').update(corrupt.body).digest('hex')).not.toBe(createHash('sha256').update(BODY).digest('hex'));
  });

  it('slows a body down to the pace asked', async () => {
    proxy.add({ path: /^\/slow$/, fault: { kind: 'slow', bytesPerSecond: 4096 } });
    const slow = await fetchFrom(proxy.port, '/slow');
    expect(slow.body.equals(BODY)).toBe(true);
    expect(slow.seconds).toBeGreaterThanOrEqual(0.8);
  });
});
