// Faults of the cache disk in real boots: power cuts (QEMU quit over QMP) while podman writes a pull, and a superblock written over.

import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FaultProxy } from '../../src/testbed/fault-proxy.ts';
import { FORWARD_ADDRESS } from '../../src/vm/qemu.ts';
import { QmpClient } from '../../src/vm/qmp.ts';
import { bootB2c, expectCleanEnd, sectionText, step, type BootResult } from './boot.ts';
import { blankDisk, cacheDisk, journalNeedsRecovery, PARTITION_OFFSET, partitionedDisk, partitionFile } from './disks.ts';

const MiB = 1024 * 1024;
const folder = mkdtempSync(join(tmpdir(), 'b2c-disk-faults-'));
let proxy: FaultProxy;
beforeAll(async () => {
  proxy = await FaultProxy.start(inject('registryPort'));
});
afterAll(async () => {
  await proxy?.close();
  rmSync(folder, { recursive: true, force: true });
});

const bigImage = (): string => `docker://${FORWARD_ADDRESS}:${proxy.port}/b2c-test/big:1`;

let cuts = 0;
/** Boots, and pulls the plug (QMP `quit`: the guest's page cache is lost, as in a power cut) the first time `when` holds for the console. */
async function bootAndCut(words: string[], disk: string, when: (consoleText: string) => boolean): Promise<BootResult> {
  const qmp = join(folder, `qmp-${++cuts}.sock`);
  let cut: Promise<void> | undefined;
  const result = await bootB2c(words, {
    disks: [disk],
    qmp,
    runOptions: ['--forward', String(proxy.port)],
    onConsole: (consoleText) => {
      if (cut === undefined && when(consoleText)) cut = QmpClient.connect(qmp).then((client) => client.execute('quit').then(() => undefined));
    },
  });
  expect(cut, `the console never showed the moment to cut:\n${result.console.slice(-3000)}`).toBeDefined();
  await cut?.catch(() => undefined);
  expect(result.console).not.toContain('Execution is over');
  return result;
}

describe('power cuts on the cache disk', () => {
  it('a cut while the pull is written and one just after it: the next boot checks the images, and the step runs', async () => {
    const disk = blankDisk(folder, 'cut.img', 2048 * MiB);
    const bigStep = (marker: string, then = ''): string => step('b2c.container', `sh -c 'echo ${marker}-$((6*7))${then}'`, bigImage());
    // The 50 MB layer comes at 4 MB/s: the cut falls inside the pull.
    proxy.add({
      method: 'GET',
      path: new RegExp(`^/v2/b2c-test/big/blobs/${inject('bigLayerDigest')}$`),
      fault: { kind: 'slow', bytesPerSecond: 4 * MiB },
      times: 1,
    });
    let cacheReadyAt: number | undefined;
    await bootAndCut(['b2c.cache_device=auto', bigStep('never')], disk, (consoleText) => {
      if (cacheReadyAt === undefined && /section_end:\d+:b2c_cache/.test(consoleText)) cacheReadyAt = Date.now();
      return cacheReadyAt !== undefined && Date.now() - cacheReadyAt > 8000;
    });
    proxy.clearFaults();
    expect(journalNeedsRecovery(disk)).toBe(true);

    // Cut as soon as the step has started: the layer was just written, and a power cut now finds what the kernel had not yet written back.
    const second = await bootAndCut(['b2c.cache_device=auto', bigStep('pulled', '; sleep 600')], disk, (consoleText) => /^pulled-42\r?$/m.test(consoleText));
    expect(sectionText(second.console, 'b2c_cache')).toContain("The last boot on the cache did not unmount it (a power cut, a reset or a farm's timeout)");
    expect(journalNeedsRecovery(disk)).toBe(true);

    const third = await bootB2c(['b2c.cache_device=auto', bigStep('third')], { disks: [disk], runOptions: ['--forward', String(proxy.port)] });
    expectCleanEnd(third, 0);
    const cache = sectionText(third.console, 'b2c_cache');
    expect(cache).toContain('Using the cache partition /dev/vda1');
    expect(cache).toContain("checking podman's images on it");
    expect(cache).toMatch(/podman's images on the cache are sound|Damaged images were removed/);
    expect(third.output).toMatch(/^third-42\r?$/m);
    expect(journalNeedsRecovery(disk)).toBe(false);
    console.log(`after two power cuts: ${/podman's images on the cache are sound \([\d.]+ s\)|Damaged images were removed[^\n]*/.exec(cache)?.[0]}`);
  });
});

describe('a cache partition written over', () => {
  it('a partition b2c made but never formatted (the power went before mke2fs wrote) is formatted and used', async () => {
    const { path: disk } = partitionedDisk(folder, 'unformatted.img', 512 * MiB, 'B2C_CACHE');
    const result = await bootB2c(['b2c.cache_device=auto', step('b2c.container', `sh -c 'echo ran-$((6*7))'`)], { disks: [disk] });
    expectCleanEnd(result, 0);
    const cache = sectionText(result.console, 'b2c_cache');
    expect(cache).toContain("/dev/vda1 is b2c's partition (named B2C_CACHE) but was never formatted: formatting it");
    expect(result.output).toMatch(/^ran-42\r?$/m);
    expect(journalNeedsRecovery(disk)).toBe(false);
  });

  it("auto finds b2c's partition by its GPT name when its superblock is gone, repairs it from a backup, and keeps what it held", async () => {
    const disk = cacheDisk(folder, 'superblock.img', 512 * MiB, { 'marker.txt': 'kept\n' });
    // The primary superblock, 1024 bytes into the partition, zeroed.
    const fd = openSync(disk, 'r+');
    writeSync(fd, Buffer.alloc(1024), 0, 1024, PARTITION_OFFSET + 1024);
    closeSync(fd);
    const result = await bootB2c(['b2c.cache_device=auto', step('b2c.container', `sh -c 'echo ran-$((6*7))'`)], { disks: [disk] });
    expectCleanEnd(result, 0);
    const cache = sectionText(result.console, 'b2c_cache');
    expect(cache).toContain("/dev/vda1 is b2c's partition (named B2C_CACHE) but its filesystem lost its first superblock: repairing it from a backup");
    expect(cache).toContain('e2fsck repaired /dev/vda1');
    expect(result.output).toMatch(/^ran-42\r?$/m);
    expect(partitionFile(disk, '/marker.txt')).toBe('kept\n');
    expect(journalNeedsRecovery(disk)).toBe(false);
  });
});

describe('a cache disk that goes away', () => {
  it('unplugged (QMP device_del) while a step runs: the steps fail, the cleanup still runs, and the machine powers off', async () => {
    const disk = blankDisk(folder, 'unplugged.img', 1024 * MiB);
    const socket = join(folder, 'unplug.sock');
    let qmp: Promise<QmpClient> | undefined;
    let unplugged: Promise<unknown> | undefined;
    const result = await bootB2c(
      [
        'b2c.cache_device=/dev/vda',
        // The step goes on once the disk has gone (or after 30 s, should the unplug never come).
        step(
          'b2c.container',
          `sh -c 'echo before-unplug-$((6*7)); i=0; while [ -e /sys/block/vda ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; ` +
            `echo gone-after-$i; echo written > /after.txt && sync && echo wrote-$((6*7))'`,
        ),
        step('b2c.container', `sh -c 'echo second-$((6*7))'`),
        step('b2c.post_container', `sh -c 'echo post-$((6*7))'`),
      ],
      {
        qmp: socket,
        timeoutSeconds: 400,
        onConsole: (text) => {
          // The disk comes in while the init waits for it (a disk on the hot-plug port), and goes once the first step has started.
          if (qmp === undefined && text.includes('Waiting up to 10 s for /dev/vda to appear')) {
            qmp = QmpClient.connect(socket).then(async (client) => {
              await client.plugDisk(disk, 'gone');
              return client;
            });
          }
          if (qmp !== undefined && unplugged === undefined && /^before-unplug-42\r?$/m.test(text)) {
            unplugged = qmp.then((client) => client.execute('device_del', { id: 'gone-device' }));
          }
        },
      },
    );
    await unplugged;
    expect(unplugged).toBeDefined();
    const tail = result.console.split('\n').slice(-60).join('\n');
    expect(result.console, tail).toMatch(/^\[[0-9.]+\]: Execution is over, pipeline status: [1-9]\d*\r?$/m);
    expect(result.console, tail).toMatch(/^It's now safe to turn off your computer\r?$/m);
    expect(result.output).not.toMatch(/^wrote-42/m);
    expect(result.output).not.toMatch(/^second-42/m);
    expect(sectionText(result.console, 'b2c_cleanup')).not.toBe('');
    console.log(`cache unplugged: status line after ${result.secondsUntil('Execution is over')} s, b2c run ended with ${result.exitCode}`);
    console.log(tail);
  });
});
