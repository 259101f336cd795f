// What farm gateways serve, for real: a cache disk on a network block device (qemu-nbd) and a podman image store over NFSv4 (NFS-Ganesha).

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { fillImageStore } from '../../src/testbed/image-store.ts';
import { NfsServer } from '../../src/testbed/nfs-server.ts';
import { blobDownloads, freePort, requestsAnswered, type LocalRegistry } from '../../src/testbed/registry.ts';
import { outputNames } from '../../src/image/output-names.ts';
import { NBD_IO_TIMEOUT_SECONDS } from '../../src/init/nbd.ts';
import { FORWARD_ADDRESS } from '../../src/vm/qemu.ts';
import { bootB2c, expectCleanEnd, ownRegistry, step, testImage } from './boot.ts';
import { blankDisk, journalNeedsRecovery, partitionFile } from './disks.ts';

const MiB = 1024 * 1024;
const folder = mkdtempSync(join(tmpdir(), 'b2c-remote-'));
const servers: Array<{ stop(): Promise<void> }> = [];
afterAll(async () => {
  for (const server of servers) await server.stop();
  rmSync(folder, { recursive: true, force: true });
});

// The images come from a registry of this file's own, whose log counts its requests only.
let registry: LocalRegistry;
beforeAll(async () => {
  registry = await ownRegistry();
  servers.push(registry);
});

/** Whether something listens on 127.0.0.1:port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** qemu-nbd serving a raw file on 127.0.0.1, for as many connections as the farm's line asks; pause() stops it answering (SIGSTOP). */
async function serveNbd(file: string): Promise<{ port: number; pause(): void; resume(): void; stop(): Promise<void> }> {
  const port = await freePort();
  const child: ChildProcess = spawn('qemu-nbd', ['--bind', '127.0.0.1', '--port', String(port), '--format', 'raw', '--persistent', '--shared', '5', file], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.once('error', () => undefined);
  // Ready once it accepts a connection.
  for (let tries = 0; !(await accepts(port)); tries++) {
    if (child.exitCode !== null || tries === 100) throw new Error(`qemu-nbd did not start (status ${child.exitCode}): install qemu-utils`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const server = {
    port,
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
    async stop(): Promise<void> {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGCONT');
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
    const options = { runOptions: ['--forward', String(nbd.port), '--forward', String(registry.port)] };
    const before = blobDownloads(registry.log(), inject('bigLayerDigest'));
    const big = (marker: string): string =>
      step(
        'b2c.container',
        `sh -c 'echo ${marker}-$((6*7)) > /storage/job.txt; cat /storage/job.txt'`,
        `-v /container/tmp:/storage ${testImage('big', registry.port)}`,
      );

    const first = await bootB2c([...words, big('first')], options);
    expectCleanEnd(first, 0);
    expect(first.output).toMatch(new RegExp(`/dev/nbd0 is connected to ${FORWARD_ADDRESS}:${nbd.port}: 1073741824 bytes`));
    expect(first.output).toContain('/dev/nbd0 has no B2C_CACHE partition: repartitioning it');
    expect(first.output).toMatch(/^first-42\r?$/m);
    expect(first.output).toContain('Disconnected /dev/nbd0');
    expect(blobDownloads(registry.log(), inject('bigLayerDigest'))).toBe(before + 1);
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
    expect(blobDownloads(registry.log(), inject('bigLayerDigest'))).toBe(before + 1);
    expect(journalNeedsRecovery(file)).toBe(false);
  });

  it('runs a step by image ID from an image store on a local disk, loading the module of the ext4 it holds (no type=, no cache)', async () => {
    const { store, imageId } = fillImageStore(join(folder, 'disk-store'), `127.0.0.1:${inject('registryPort')}/b2c-test/busybox:1`);
    const disk = blankDisk(folder, 'store.img', 256 * MiB);
    const made = spawnSync('mke2fs', ['-q', '-F', '-t', 'ext4', '-d', store, disk], { encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);
    const result = await bootB2c(
      ['b2c.filesystem=imgstore,src=/dev/vda,opts=ro', 'b2c.storage="additionalimagestores=imgstore"', `b2c.run="${imageId} sh -c 'echo from-disk-$((6*7))'"`],
      { disks: [disk], sharedRegistry: false },
    );
    expectCleanEnd(result, 0);
    expect(result.output).toContain('Image store imgstore: /dev/vda mounted read-only on /run/b2c/stores/imgstore');
    expect(result.output).toMatch(/^from-disk-42\r?$/m);
  });

  // It waits 120 s on a silent server: the NFS case below boots meanwhile (it counts requests to this file's registry only, which this
  // case never asks).
  it.concurrent('a cache whose server is gone for 120 s fails the step instead of hanging it, and the machine still powers off', async () => {
    const file = blankDisk(folder, 'gone.img', 512 * MiB);
    const nbd = await serveNbd(file);
    let stoppedAt: number | undefined;
    const result = await bootB2c(
      [
        `b2c.nbd=/dev/nbd0,host=${FORWARD_ADDRESS},port=${nbd.port}`,
        'b2c.cache_device=/dev/nbd0',
        // The step's I/O waits 120 s by design, as long as the kernel's hung-task report: that report would read as a crash here.
        'sysctl.kernel.hung_task_timeout_secs=0',
        step(
          'b2c.container',
          `sh -c 'echo writing-$((6*7)); i=0; while dd if=/dev/zero of=/storage/f bs=64k count=16 conv=fsync 2>/dev/null; do i=$((i+1)); done; ` +
            `echo failed-after-$i; exit 9'`,
          `-v /container/tmp:/storage ${testImage()}`,
        ),
      ],
      {
        timeoutSeconds: 420,
        runOptions: ['--forward', String(nbd.port)],
        onConsole: (text) => {
          // The server stops answering (its process stopped, its connection kept) once the step writes.
          if (stoppedAt === undefined && /^writing-42\r?$/m.test(text)) {
            stoppedAt = Date.now();
            nbd.pause();
          }
        },
      },
    );
    nbd.resume();
    const tail = result.console.slice(-3000);
    expect(stoppedAt, tail).toBeDefined();
    // The step's own shell saw its write fail, or podman, whose storage is on the same device, ended first with its own I/O error
    // (seen in a CI run: its storage lock could not be opened, and the shell's line never came out).
    expect(result.output, tail).toMatch(/^failed-after-\d+\r?$|storage.*input\/output error/m);
    const status = Number(/^\[[0-9.]+\]: Execution is over, pipeline status: (\d+)\r?$/m.exec(result.console)?.[1] ?? 0);
    expect(status, tail).toBeGreaterThan(0);
    expect(result.console, tail).toMatch(/^It's now safe to turn off your computer\r?$/m);
    expect(result.console).not.toMatch(/Kernel panic|Oops/);
    expect(result.exitCode).toBe(status);
    expect(result.console).toMatch(/nbd0: Connection timed out/);
    // In the machine's own time: from the step's start to its end, the 120 s of the I/O timeout and little more.
    const waited = (result.uptimeAt('Container 1 exited') ?? Infinity) - (result.uptimeAt('Container 1: podman run') ?? 0);
    console.log(`cache server gone: the step ended ${waited.toFixed(1)} s after it started`);
    expect(waited).toBeGreaterThanOrEqual(NBD_IO_TIMEOUT_SECONDS);
    expect(waited).toBeLessThan(NBD_IO_TIMEOUT_SECONDS + 60);
  });

  it.concurrent('runs steps by image ID from an image store on NFS with no registry request, and mounts an NFS share as a volume', async () => {
    const { store, imageId } = fillImageStore(join(folder, 'gateway'), `127.0.0.1:${inject('registryPort')}/b2c-test/busybox:1`);
    const share = join(folder, 'share');
    mkdirSync(share);
    writeFileSync(join(share, 'from-gateway.txt'), 'gateway-data\n');
    const nfs = await NfsServer.start([
      { directory: store, pseudoPath: '/imgstore/public', readOnly: true },
      { directory: share, pseudoPath: '/share', readOnly: false },
    ]);
    servers.push(nfs);
    const requests = requestsAnswered(registry.log());
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
      // The only registry the machine reaches is this file's, which must see no request.
      {
        sharedRegistry: false,
        runOptions: ['--forward', String(nfs.port), '--forward', String(registry.port), '--addon', join('out', outputNames('amd64').addons.modules)],
      },
    );
    expectCleanEnd(result, 0);
    expect(result.output).toContain('Kernel modules from the add-ons: modules');
    expect(result.output).toContain(`Image store publicimgstore: ${FORWARD_ADDRESS}:/imgstore/public mounted read-only on /run/b2c/stores/publicimgstore`);
    expect(result.output).toMatch(/^by-id-42\r?$/m);
    expect(result.output).toMatch(/^gateway-data\r?$/m);
    expect(readFileSync(join(share, 'from-job.txt'), 'utf8')).toBe('job-49\n');
    expect(requestsAnswered(registry.log())).toBe(requests);
  });
});
