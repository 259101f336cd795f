// Virtual disks for the end-to-end tests, made and read on the host: blank ones, someone else's, and B2C_CACHE partitions with content.

import { spawnSync } from 'node:child_process';
import { closeSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { singlePartitionGpt } from '../../src/init/gpt.ts';
import { B2cError } from '../../src/errors.ts';

const MiB = 1024 * 1024;
/** Where singlePartitionGpt starts the partition: 1 MiB in. */
export const PARTITION_OFFSET = MiB;

/** A sparse raw disk image of `bytes` full of zeros: no partition table, no filesystem. */
export function blankDisk(folder: string, name: string, bytes: number): string {
  const path = join(folder, name);
  const fd = openSync(path, 'w');
  ftruncateSync(fd, bytes);
  closeSync(fd);
  return path;
}

/** A disk with a GPT and one partition named `partitionName` from 1 MiB to the end; returns the disk and the partition's size. */
export function partitionedDisk(folder: string, name: string, bytes: number, partitionName: string): { path: string; partitionBytes: number } {
  const path = blankDisk(folder, name, bytes);
  const layout = singlePartitionGpt(bytes, 512, partitionName, () => '5e1f0000-0000-4000-8000-000000000001');
  const fd = openSync(path, 'r+');
  for (const write of layout.writes) writeSync(fd, write.data, 0, write.data.length, write.offset);
  closeSync(fd);
  return { path, partitionBytes: (layout.lastLba + 1) * 512 - PARTITION_OFFSET };
}

/**
 * A disk whose one partition holds an ext4 filesystem labelled B2C_CACHE, as
 * b2c makes it, with `files` in it: a cache that a test can find again, or
 * find gone.
 */
export function cacheDisk(folder: string, name: string, bytes: number, files: Record<string, string>): string {
  const { path, partitionBytes } = partitionedDisk(folder, name, bytes, 'B2C_CACHE');
  const content = mkdtempSync(join(folder, 'content-'));
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(join(content, file, '..'), { recursive: true });
    writeFileSync(join(content, file), text);
  }
  const made = spawnSync(
    'mke2fs',
    ['-q', '-F', '-t', 'ext4', '-O', 'encrypt', '-L', 'B2C_CACHE', '-d', content, '-E', `offset=${PARTITION_OFFSET}`, path, `${partitionBytes / 1024}k`],
    { encoding: 'utf8' },
  );
  rmSync(content, { recursive: true, force: true });
  if (made.status !== 0) throw new B2cError(`mke2fs could not make the cache partition of ${path}: ${made.stderr}`);
  return path;
}

/** A file of the first partition's ext filesystem, read by the host's debugfs; undefined when it is not there. */
export function partitionFile(disk: string, file: string): string | undefined {
  const partition = `${disk}.partition`;
  const input = openSync(disk, 'r');
  const output = openSync(partition, 'w');
  const buffer = Buffer.alloc(4 * MiB);
  const zeros = Buffer.alloc(buffer.length);
  // A copy as sparse as the disk: the chunks of zeros are left as holes.
  for (let offset = PARTITION_OFFSET; ; offset += buffer.length) {
    const read = readSync(input, buffer, 0, buffer.length, offset);
    if (read === 0) break;
    if (!buffer.subarray(0, read).equals(zeros.subarray(0, read))) writeSync(output, buffer, 0, read, offset - PARTITION_OFFSET);
    else ftruncateSync(output, offset - PARTITION_OFFSET + read);
  }
  closeSync(input);
  closeSync(output);
  const result = spawnSync('debugfs', ['-R', `cat ${file}`, partition], { encoding: 'utf8' });
  rmSync(partition);
  return result.stderr.includes('File not found') ? undefined : result.stdout;
}

/** Whether the ext4 journal of the first partition still needs recovery: true after an unclean shutdown. */
export function journalNeedsRecovery(disk: string): boolean {
  const superblock = Buffer.alloc(1024);
  const fd = openSync(disk, 'r');
  readSync(fd, superblock, 0, 1024, PARTITION_OFFSET + 1024);
  closeSync(fd);
  if (superblock.readUInt16LE(0x38) !== 0xef53) throw new B2cError(`${disk} has no ext4 superblock 1 MiB in`);
  // s_feature_incompat, EXT4_FEATURE_INCOMPAT_RECOVER.
  return (superblock.readUInt32LE(0x60) & 0x4) !== 0;
}
