import { mkdirSync, mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARCHITECTURES } from '../../src/architectures.ts';
import type { ServeEvent } from '../../src/serve/events.ts';
import { BootHttpServer } from '../../src/serve/http.ts';
import type { MachineBoot, MachinesTable } from '../../src/serve/machines.ts';

const dir = mkdtempSync(join(tmpdir(), 'b2c-http-'));
const kernel = join(dir, 'linux-amd64');
const initramfs = join(dir, 'initramfs.linux_amd64.cpio.xz');
const addon = join(dir, 'linux-amd64.modules.cpio.xz');
writeFileSync(kernel, Buffer.alloc(3000, 1));
writeFileSync(initramfs, Buffer.alloc(70_000, 2));
writeFileSync(addon, Buffer.alloc(500, 3));

const machine: MachineBoot = {
  key: '52:54:00:12:34:56',
  arch: ARCHITECTURES.amd64 as MachineBoot['arch'],
  kernel,
  initrds: [initramfs, addon],
  cmdline: 'console=ttyS0 b2c.container="docker://r:5000/t:1"',
};

describe('the HTTP server of b2c serve, on 127.0.0.1', () => {
  let table: MachinesTable = { machines: new Map([[machine.key, machine]]) };
  const events: Array<Omit<ServeEvent, 'time'>> = [];
  let server: BootHttpServer;
  let base: string;

  beforeAll(async () => {
    server = new BootHttpServer(
      () => table,
      'http://10.77.0.1:8080',
      (event) => events.push(event),
    );
    await server.listen('127.0.0.1', 0);
    base = `http://127.0.0.1:${server.port}`;
  });

  afterAll(async () => {
    await server.close();
  });

  it('serves the chain script, then the machine’s own, whichever way iPXE writes the MAC', async () => {
    expect(await (await fetch(`${base}/boot.ipxe`)).text()).toContain('chain http://10.77.0.1:8080/boot/${mac}.ipxe');
    for (const path of ['/boot/52:54:00:12:34:56.ipxe', '/boot/52%3A54%3A00%3A12%3A34%3A56.ipxe']) {
      const script = await (await fetch(`${base}${path}`)).text();
      expect(script).toContain(`kernel http://10.77.0.1:8080/files/52%3A54%3A00%3A12%3A34%3A56/kernel/linux-amd64 ${machine.cmdline}`);
    }
    expect(events.filter((event) => event.step === 'script' && event.mac === machine.key)).toHaveLength(2);
  });

  it("streams the machine's files whole, and says how many bytes each took, with the MAC of the script before", async () => {
    const script = await (await fetch(`${base}/boot/52:54:00:12:34:56.ipxe`)).text();
    const urls = script
      .split('\n')
      .filter((line) => /^(kernel|initrd) /.test(line))
      .map((line) => (line.split(' ')[1] as string).replace('http://10.77.0.1:8080', base));
    const sizes = [];
    for (const url of urls) sizes.push((await (await fetch(url)).arrayBuffer()).byteLength);
    expect(sizes).toEqual([3000, 70_000, 500]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const served = events.filter((event) => event.step === 'kernel' || event.step === 'initrd');
    expect(served.map((event) => [event.step, event.mac, event.bytes])).toEqual([
      ['kernel', machine.key, 3000],
      ['initrd', machine.key, 70_000],
      ['initrd', machine.key, 500],
    ]);
  });

  it('says how far a download broken off by the machine got, in bytes the connection took', async () => {
    // A large initramfs (sparse: reading it costs nothing), of which the machine reads 1 MiB and hangs up.
    const large = join(dir, 'large', 'initramfs.linux_amd64.cpio.xz');
    mkdirSync(join(dir, 'large'));
    const size = 256 * 1024 * 1024;
    writeFileSync(large, '');
    truncateSync(large, size);
    table = { machines: new Map([[machine.key, { ...machine, initrds: [large] }]]) };
    const wanted = 1024 * 1024;
    const received = await new Promise<number>((resolve, reject) => {
      const client = connect(server.port, '127.0.0.1', () =>
        client.write(`GET /files/52%3A54%3A00%3A12%3A34%3A56/initrd/0/initramfs.linux_amd64.cpio.xz HTTP/1.1\r\nHost: b2c\r\n\r\n`),
      );
      let bytes = 0;
      client.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes >= wanted) {
          client.destroy();
          resolve(bytes);
        }
      });
      client.on('error', reject);
    });
    let event: Omit<ServeEvent, 'time'> | undefined;
    for (let tries = 0; event === undefined && tries < 100; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      event = events.find((candidate) => candidate.file === large);
    }
    table = { machines: new Map([[machine.key, machine]]) };
    const match = /^initramfs\.linux_amd64\.cpio\.xz broken off after (\d+) of (\d+) bytes sent$/.exec(event?.message ?? '');
    expect(match, event?.message).not.toBeNull();
    expect(Number(match?.[2])).toBe(size);
    // At least what the machine read (less the headers), and far from the whole file: what the socket buffers held on top.
    expect(event?.bytes).toBe(Number(match?.[1]));
    expect(event?.bytes).toBeGreaterThanOrEqual(received - 1024);
    expect(event?.bytes).toBeLessThan(size / 2);
  });

  it('sends a machine it does not know back to its firmware, or boots it by the default entry', async () => {
    expect(await (await fetch(`${base}/boot/52:54:00:00:00:01.ipxe`)).text()).toMatch(/not in the machines file.*\nexit 1/);
    table = { machines: new Map(), default: { ...machine, key: 'default' } };
    expect(await (await fetch(`${base}/boot/52:54:00:00:00:01.ipxe`)).text()).toContain('/files/default/kernel/linux-amd64');
    expect((await fetch(`${base}/files/default/initrd/1/linux-amd64.modules.cpio.xz`)).status).toBe(200);
  });

  it('answers 404 for anything else, and serves no other file of the host', async () => {
    for (const path of ['/files/default/initrd/7/x', '/files/52%3A54%3A00%3A12%3A34%3A56/kernel/linux-amd64', '/etc/passwd', '/boot/nonsense.ipxe']) {
      expect((await fetch(`${base}${path}`)).status, path).toBe(404);
    }
    // As sent, not as fetch would tidy them: dot segments, escaped or not.
    for (const path of ['/files/default/../../etc/passwd', '/files/default/kernel/..%2F..%2Fetc%2Fpasswd', '/files/..%2F..%2Fetc/kernel/passwd']) {
      const status = await new Promise<number | undefined>((resolve, reject) => {
        request({ host: '127.0.0.1', port: server.port, path }, (response) => {
          response.resume();
          resolve(response.statusCode);
        })
          .on('error', reject)
          .end();
      });
      expect(status, path).toBe(404);
    }
    expect((await fetch(`${base}/boot.ipxe`, { method: 'POST' })).status).toBe(405);
  });

  it('says which port is taken', async () => {
    const second = new BootHttpServer(
      () => table,
      base,
      () => {},
    );
    await expect(second.listen('127.0.0.1', server.port)).rejects.toThrow(`cannot serve HTTP on 127.0.0.1:${server.port}: it is in use`);
  });
});
