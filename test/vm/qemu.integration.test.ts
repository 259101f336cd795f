// The forwarder command as QEMU's user networking runs it for each guest connection: a real busybox nc against real ports on 127.0.0.1.

import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/testbed/registry.ts';
import { forwarderCommand } from '../../src/vm/qemu.ts';

/** Runs the command as slirp does (its words split as a shell would), the guest's side on stdin, stdout and stderr alike. */
function carry(command: string, input: string): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', `exec ${command}`], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, output }));
    // A forwarder that ends at once (the host port refused) may leave the guest's bytes unread: a broken pipe, as a guest would see it.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

let server: Server;
let port: number;
beforeAll(async () => {
  server = createServer((socket) => socket.on('data', (data) => socket.end(`echo:${data.toString()}`)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('the forwarder of a forwarded port', () => {
  it("carries the guest's bytes to the host port and back", async () => {
    const result = await carry(forwarderCommand('busybox', port), 'GET');
    expect(result.output).toBe('echo:GET');
  });

  it('gives the guest nothing but a closed connection when the host port refuses', async () => {
    const result = await carry(forwarderCommand('busybox', await freePort()), 'GET /v2/ HTTP/1.1\r\n\r\n');
    expect(result.output).toBe('');
    expect(result.status).not.toBe(0);
  });
});
