// What farm gateways serve, for real: a cache disk on a network block device (qemu-nbd) and a podman image store over NFSv4 (NFS-Ganesha).

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { fillImageStore } from '../../src/testbed/image-store.ts';
import { NfsServer } from '../../src/testbed/nfs-server.ts';
import { blobDownloads, freePort, requestsAnswered } from '../../src/testbed/registry.ts';
import { outputNames } from '../../src/image/output-names.ts';
import { FORWARD_ADDRESS } from '../../src/vm/qemu.ts';
import { bootB2c, expectCleanEnd, step, testImage } from './boot.ts';
import { blankDisk, journalNeedsRecovery, partitionFile } from './disks.ts';

const MiB = 1024 * 1024;
const folder = mkdtempSync(join(tmpdir(), 'b2c-remote-'));
const servers: Array<{ stop(): Promise<void> }> = [];
afterAll(async () => {
  for (const server of servers) await server.stop();
  rmSync(folder, { recursive: true, force: true });
});

const registryLog = (): string => readFileSync(inject('registryLog'), 'utf8');

/** qemu-nbd serving a raw file on 127.0.0.1, for as many connections as the farm's line asks. */
async function serveNbd(file: string): Promise<{ port: number; stop(): Promise<void> }> {
  const port = await freePort();
  const child: ChildProcess = spawn('qemu-nbd', ['--bind', '127.0.0.1', '--port', String(port), '--format', 'raw', '--persistent', '--shared', '5', file], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  // qemu-nbd listens before it returns from its setup; a short wait covers the start of the process.
  await new Promise((resolve) => setTimeout(resolve, 500));
  if (child.exitCode !== null) throw new Error(`qemu-nbd exited with ${child.exitCode}: install qemu-utils`);
  const server = {
    port,
    async stop(): Promise<void> {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
  servers.push(server);
  return server;
}

describe('remote storage from a farm gateway', () => {
  it('a cache on a network block device is formatted on the first boot, reused on the second, and left consistent', async () => {
    const file = blankDisk(folder, 'nbd.img', 1024 * MiB);
    const nbd = await serveNbd(file);
    const words = [`b2c.nbd=/dev/nbd0,host=${FORWARD_ADDRESS},port=${nbd.port},connections=5`, 'b2c.cache_device=/dev/nbd0'];
    const options = { runOptions: ['--forward', String(nbd.port)] };
    const before = blobDownloads(registryLog(), inject('bigLayerDigest'));
    const big = (marker: string): string =>
      step('b2c.container', `sh -c 'echo ${marker}-$((6*7)) > /storage/job.txt; cat /storage/job.txt'`, `-v /container/tmp:/storage ${testImage('big')}`);

    const first = await bootB2c([...words, big('first')], options);
    expectCleanEnd(first, 0);
    expect(first.output).toMatch(new RegExp(`/dev/nbd0 is connected to ${FORWARD_ADDRESS}:${nbd.port}: 1073741824 bytes`));
    expect(first.output).toContain('/dev/nbd0 has no B2C_CACHE partition: repartitioning it');
    expect(first.output).toMatch(/^first-42\r?$/m);
    expect(first.output).toContain('Disconnected /dev/nbd0');
    expect(blobDownloads(registryLog(), inject('bigLayerDigest'))).toBe(before + 1);
    // Disconnected after the unmount: the server's file holds a clean filesystem with the job's scratch file.
    expect(journalNeedsRecovery(file)).toBe(false);
    expect(partitionFile(file, '/tmp/job.txt')).toBe('first-42\n');

    // The image itself has no NFS client (it is in the modules add-on): a line that names a share says so, and the pipeline still runs.
    const share = `b2c.filesystem=elsewhere,type=nfs,src=${FORWARD_ADDRESS}:/share`;
    const second = await bootB2c([...words, share, big('second')], options);
    expectCleanEnd(second, 0);
    expect(second.output).toContain('Using the cache partition /dev/nbd0p1');
    expect(second.output).toMatch(/^second-42\r?$/m);
    expect(second.output).toContain('Warning: this kernel has no NFSv4 client: the bootloader must load the modules add-on');
    expect(blobDownloads(registryLog(), inject('bigLayerDigest'))).toBe(before + 1);
    expect(journalNeedsRecovery(file)).toBe(false);
  });

  it('runs steps by image ID from an image store on NFS with no registry request, and mounts an NFS share as a volume', async () => {
    const { store, imageId } = fillImageStore(join(folder, 'gateway'), `127.0.0.1:${inject('registryPort')}/b2c-test/busybox:1`);
    const share = join(folder, 'share');
    mkdirSync(share);
    writeFileSync(join(share, 'from-gateway.txt'), 'gateway-data\n');
    const nfs = await NfsServer.start([
      { directory: store, pseudoPath: '/imgstore/public', readOnly: true },
      { directory: share, pseudoPath: '/share', readOnly: false },
    ]);
    servers.push(nfs);
    const requests = requestsAnswered(registryLog());
    const result = await bootB2c(
      [
        // The farm's own line, with the test server's port.
        `b2c.filesystem=publicimgstore,type=nfs,src=${FORWARD_ADDRESS}:/imgstore/public,opts=ro|nolock|port=${nfs.port}`,
        'b2c.storage="additionalimagestores=publicimgstore"',
        `b2c.filesystem=share,type=nfs,src=${FORWARD_ADDRESS}:/share,opts=port=${nfs.port}`,
        'b2c.volume=shared,filesystem=share',
        `b2c.run="-ti ${imageId} sh -c 'echo by-id-$((6*7))'"`,
        `b2c.run="-v shared:/shared ${imageId.slice(0, 12)} sh -c 'cat /shared/from-gateway.txt; echo job-$((7*7)) > /shared/from-job.txt'"`,
      ],
      // NFS is in the modules add-on, which farms that mount shares load after the initramfs.
      { runOptions: ['--forward', String(nfs.port), '--addon', join('out', outputNames('amd64').addons.modules)] },
    );
    expectCleanEnd(result, 0);
    expect(result.output).toContain('Kernel modules from the add-ons: modules');
    expect(result.output).toContain(`Image store publicimgstore: ${FORWARD_ADDRESS}:/imgstore/public mounted read-only on /run/b2c/stores/publicimgstore`);
    expect(result.output).toMatch(/^by-id-42\r?$/m);
    expect(result.output).toMatch(/^gateway-data\r?$/m);
    expect(readFileSync(join(share, 'from-job.txt'), 'utf8')).toBe('job-49\n');
    expect(requestsAnswered(registryLog())).toBe(requests);
  });
});
