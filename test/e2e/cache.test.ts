// The cache disk in a real VM, on virtual disks this test makes: auto, reuse, reset, named devices, and what must be left alone.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { blobDownloads, type LocalRegistry } from '../../src/testbed/registry.ts';
import { QmpClient } from '../../src/vm/qmp.ts';
import { blankDisk as blankDiskIn, cacheDisk, journalNeedsRecovery, partitionedDisk, partitionFile } from './disks.ts';
import { bootB2c, expectCleanEnd, ownRegistry, sectionText, step, testImage, type BootOptions } from './boot.ts';

const MiB = 1024 * 1024;
const folder = mkdtempSync(join(tmpdir(), 'b2c-cache-'));
// The big image comes from a registry of this file's own, whose log counts its downloads only.
let registry: LocalRegistry;
beforeAll(async () => {
  registry = await ownRegistry();
});
afterAll(async () => {
  await registry?.stop();
  rmSync(folder, { recursive: true, force: true });
});

const blankDisk = (name: string, bytes: number): string => blankDiskIn(folder, name, bytes);

/** A disk with a GPT and one partition (1 MiB in), filled with `fill` when given: someone else's data. */
function theirDisk(name: string, bytes: number, fill?: Uint8Array): string {
  const { path } = partitionedDisk(folder, name, bytes, 'THEIRS');
  if (fill) {
    const fd = openSync(path, 'r+');
    writeSync(fd, fill, 0, fill.length, MiB);
    closeSync(fd);
  }
  return path;
}

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');
const downloadsOfBigLayer = (): number => blobDownloads(registry.log(), inject('bigLayerDigest'));

/** The ext4 label of the first partition, read by the host's blkid. */
function firstPartitionLabel(disk: string): string {
  return spawnSync('blkid', ['-p', '-o', 'value', '-s', 'LABEL', '-O', String(MiB), disk], { encoding: 'utf8' }).stdout.trim();
}

const bigStep = (marker: string): string =>
  step('b2c.container', `sh -c 'echo ${marker}-$((6*7)) $(grep -c b2c-swapfile /proc/swaps)'`, testImage('big', registry.port));
/** What a boot that pulls the big image needs: its disk, and the forward to this file's registry. */
const withBigImage = (disk: string): BootOptions => ({ disks: [disk], runOptions: ['--forward', String(registry.port)] });

describe('the cache disk', () => {
  it('auto makes a B2C_CACHE partition on a blank disk, with swap, and the next boot reuses it without downloading a layer', async () => {
    const disk = blankDisk('cache.img', 2048 * MiB);
    const before = downloadsOfBigLayer();
    const first = await bootB2c(['b2c.cache_device=auto', 'b2c.swap=64M', bigStep('first')], withBigImage(disk));
    expectCleanEnd(first, 0);
    expect(first.output).toContain('No B2C_CACHE partition: making one on the blank disk /dev/vda');
    // The container saw the swap file in /proc/swaps.
    expect(first.output).toMatch(/^first-42 1\r?$/m);
    expect(downloadsOfBigLayer()).toBe(before + 1);
    expect(firstPartitionLabel(disk)).toBe('B2C_CACHE');
    const table = JSON.parse(spawnSync('sfdisk', ['--json', disk], { encoding: 'utf8' }).stdout) as {
      partitiontable: { label: string; partitions: Array<{ name: string }> };
    };
    expect(table.partitiontable.label).toBe('gpt');
    expect(table.partitiontable.partitions.map((partition) => partition.name)).toEqual(['B2C_CACHE']);
    expect(journalNeedsRecovery(disk)).toBe(false);
    // On the cache, containers and dangling images would outlive the boot: podman removes them.
    expect(sectionText(first.console, 'b2c_cleanup')).not.toContain('nothing to remove');

    const second = await bootB2c(['b2c.cache_device=auto', bigStep('second')], withBigImage(disk));
    expectCleanEnd(second, 0);
    expect(second.output).toContain('Using the cache partition /dev/vda1');
    expect(second.output).toMatch(/^second-42 0\r?$/m);
    expect(downloadsOfBigLayer()).toBe(before + 1);
    expect(journalNeedsRecovery(disk)).toBe(false);
    const firstStart = first.secondsUntil('first-42');
    const secondStart = second.secondsUntil('second-42');
    console.log(`first boot: container output after ${firstStart} s; second boot (cached): ${secondStart} s`);
    expect(firstStart).toBeDefined();
    expect(secondStart).toBeDefined();
  });

  it('reset formats the cache partition anew: what it held is gone, the partition and its label stay', async () => {
    const disk = cacheDisk(folder, 'reset.img', 512 * MiB, { 'marker.txt': 'from-an-earlier-boot\n' });
    expect(partitionFile(disk, '/marker.txt')).toBe('from-an-earlier-boot\n');
    // Farm lines give the job upstream's scratch folder on the cache.
    const scratchStep = step(
      'b2c.container',
      `sh -c 'echo reset-$((6*7)) > /storage/job.txt; cat /storage/job.txt'`,
      `-v /container/tmp:/storage ${testImage()}`,
    );
    const result = await bootB2c(['b2c.cache_device=reset', scratchStep], { disks: [disk] });
    expectCleanEnd(result, 0);
    expect(result.output).toContain('Formatting the cache partition /dev/vda1 anew (b2c.cache_device=reset)');
    expect(result.output).toMatch(/^reset-42\r?$/m);
    expect(partitionFile(disk, '/marker.txt')).toBeUndefined();
    expect(partitionFile(disk, '/tmp/job.txt')).toBe('reset-42\n');
    expect(firstPartitionLabel(disk)).toBe('B2C_CACHE');
  });

  it('a B2C_CACHE partition that does not mount is repaired by e2fsck', async () => {
    // A partition b2c did not make: a file in the scratch folder farm jobs mount as /container/tmp.
    const corrupt = cacheDisk(folder, 'corrupt.img', 512 * MiB, { 'marker.txt': 'kept-through-the-repair\n', 'tmp/left.txt': 'left-by-a-job\n' });
    // Zero the group descriptors (the block after the superblock): the kernel refuses the filesystem, e2fsck rebuilds them from a backup.
    const fd = openSync(corrupt, 'r+');
    writeSync(fd, new Uint8Array(4096), 0, 4096, MiB + 4096);
    closeSync(fd);
    const scratch = `-v /container/tmp:/storage ${testImage()}`;
    const result = await bootB2c(['b2c.cache_device=auto', step('b2c.container', `sh -c 'cat /storage/left.txt; echo repaired-$((5*5))'`, scratch)], {
      disks: [corrupt],
    });
    expectCleanEnd(result, 0);
    expect(result.output).toMatch(/\/dev\/vda1 does not mount .*: checking it with e2fsck/);
    expect(result.output).toContain('e2fsck repaired /dev/vda1');
    expect(result.output).toMatch(/^repaired-25\r?$/m);
    expect(result.output).toMatch(/^left-by-a-job\r?$/m);
    // The repair kept what the cache held.
    expect(partitionFile(corrupt, '/marker.txt')).toBe('kept-through-the-repair\n');
  });

  it('a named disk is partitioned; a named filesystem is mounted as the cache', async () => {
    const disk = blankDisk('named.img', 512 * MiB);
    const named = await bootB2c(['b2c.cache_device=/dev/vda', step('b2c.container', `sh -c 'echo named-$((3*3))'`)], { disks: [disk] });
    expectCleanEnd(named, 0);
    expect(named.output).toContain('/dev/vda has no B2C_CACHE partition: repartitioning it (b2c.cache_device=/dev/vda)');
    expect(named.output).toMatch(/^named-9\r?$/m);
    expect(firstPartitionLabel(disk)).toBe('B2C_CACHE');

    const filesystem = await bootB2c(
      [
        'b2c.filesystem="fast,type=ext4,src=/dev/vda1"',
        'b2c.cache_device=fast',
        step('b2c.container', `sh -c 'echo fs-$((4*4)) $(grep -c /var/lib/containers /proc/mounts)'`),
      ],
      { disks: [disk] },
    );
    expectCleanEnd(filesystem, 0);
    expect(filesystem.output).toContain('Mounting the filesystem fast (/dev/vda1) as the cache');
    expect(filesystem.output).toMatch(/^fs-16 [1-9]\d*\r?$/m);
  });

  it('waits for a named disk that is plugged in while the machine boots', async () => {
    const disk = blankDisk('late.img', 512 * MiB);
    const socket = join(folder, 'qmp.sock');
    let plugged: Promise<void> | undefined;
    const result = await bootB2c(['b2c.cache_device=/dev/vda', step('b2c.container', `sh -c 'echo late-$((6*6))'`)], {
      qmp: socket,
      onConsole: (text) => {
        // Plug the disk in once the init says it is waiting for it.
        if (plugged === undefined && text.includes('Waiting up to 10 s for /dev/vda to appear')) {
          plugged = (async () => {
            const qmp = await QmpClient.connect(socket);
            await qmp.plugDisk(disk, 'late');
            qmp.close();
          })();
        }
      },
    });
    await plugged;
    expectCleanEnd(result, 0);
    expect(result.output).not.toContain('did not appear');
    expect(plugged).toBeDefined();
    // No disk at boot, so no disk driver yet: the wait itself must load it.
    expect(result.output).toMatch(/Loading the drivers of this machine's devices: .*virtio_blk/);
    expect(result.output).toContain('/dev/vda has no B2C_CACHE partition: repartitioning it (b2c.cache_device=/dev/vda)');
    expect(result.output).toMatch(/^late-36\r?$/m);
    expect(firstPartitionLabel(disk)).toBe('B2C_CACHE');
  });

  it('a named partition without a label is formatted', async () => {
    const disk = theirDisk('partition.img', 512 * MiB);
    const result = await bootB2c(['b2c.cache_device=/dev/vda1', step('b2c.container', `sh -c 'echo partition-$((7*3))'`)], { disks: [disk] });
    expectCleanEnd(result, 0);
    expect(result.output).toContain('/dev/vda1 has no label: formatting it as the cache');
    expect(result.output).toMatch(/^partition-21\r?$/m);
    expect(firstPartitionLabel(disk)).toBe('B2C_CACHE');
  });

  it('auto leaves a disk with partitions alone, and a missing device falls back to RAM: the pipeline still runs', async () => {
    const theirs = theirDisk('theirs.img', 256 * MiB, new Uint8Array(MiB).fill(0x5a));
    const hash = sha256(theirs);
    const inRam = step('b2c.container', `sh -c 'echo ram-$((9*9)) > /storage/job.txt; cat /storage/job.txt'`, `-v /container/tmp:/storage ${testImage()}`);
    const auto = await bootB2c(['b2c.cache_device=auto', inRam], { disks: [theirs] });
    expectCleanEnd(auto, 0);
    expect(auto.output).toContain('No B2C_CACHE partition and no blank disk; left alone: /dev/vda (a GPT partition table): the cache stays in RAM');
    expect(auto.output).toMatch(/^ram-81\r?$/m);
    expect(sha256(theirs)).toBe(hash);

    const missing = await bootB2c(['b2c.cache_device=/dev/vdz', step('b2c.container', `sh -c 'echo missing-$((8*8))'`)], { disks: [theirs] });
    expectCleanEnd(missing, 0);
    expect(missing.output).toContain('/dev/vdz did not appear within 10 s');
    expect(missing.output).toContain('/dev/vdz does not exist: the cache stays in RAM');
    expect(missing.output).toMatch(/^missing-64\r?$/m);
    expect(sha256(theirs)).toBe(hash);
  });

  it('a cache too small for the image fails the pipeline with a clear error and still powers off cleanly', async () => {
    const small = blankDisk('small.img', 64 * MiB);
    const result = await bootB2c(['b2c.cache_device=auto', bigStep('small')], withBigImage(small));
    expectCleanEnd(result, 125);
    expect(result.output).toMatch(/no space left on device/i);
    expect(result.output).not.toMatch(/^small-42/m);
  });
});
