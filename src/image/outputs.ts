// Writing the build's outputs: each file appears whole under its name or not at all, even with another b2c build writing beside it.

import { createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Architecture } from '../architectures.ts';
import { runChecked, type System } from '../system/system.ts';
import { compress } from './compression.ts';
import { cpioChunks } from './cpio.ts';
import type { ImageTree } from './tree.ts';

/** An archive the build wrote: where, its size, and what it unpacks to. */
export interface WrittenArchive {
  path: string;
  bytes: number;
  unpackedBytes: number;
}

/** Writes `target` through a file of this process's own beside it, renamed into place once whole. */
export async function writeAtomically(target: string, write: (path: string) => Promise<void>): Promise<void> {
  const partial = `${target}.${process.pid}.partial`;
  try {
    await write(partial);
    await rename(partial, target);
  } finally {
    await rm(partial, { force: true });
  }
}

/** Writes a tree as an uncompressed cpio archive; returns how many entries it has and the bytes its files unpack to. */
export async function writeCpio(tree: ImageTree, target: string, sourceDateEpoch: number): Promise<{ entries: number; unpackedBytes: number }> {
  const entries = tree.toCpioEntries();
  await writeAtomically(target, (path) => pipeline(Readable.from(cpioChunks(entries, sourceDateEpoch)), createWriteStream(path)));
  return { entries: entries.length, unpackedBytes: entries.reduce((sum, entry) => sum + entry.data.length, 0) };
}

/** Writes a tree as an xz cpio archive (an add-on beside the image). */
export async function writeArchive(tree: ImageTree, target: string, sourceDateEpoch: number, arch: Architecture): Promise<WrittenArchive> {
  const cpioPath = `${target}.${process.pid}.cpio`;
  try {
    const { unpackedBytes } = await writeCpio(tree, cpioPath, sourceDateEpoch);
    await writeAtomically(target, (path) => compress(cpioPath, path, 'xz', arch));
    return { path: target, bytes: (await stat(target)).size, unpackedBytes };
  } finally {
    await rm(cpioPath, { force: true });
  }
}

/**
 * Compresses each file with xz beside itself (`NAME.xz`, the original kept),
 * with CRC32 checks, which the kernel's firmware loader and busybox's
 * modprobe both read; a hundred files per xz run.
 */
export async function compressEach(system: System, paths: readonly string[], onProgress: (done: number) => void = () => undefined): Promise<void> {
  for (let start = 0; start < paths.length; start += 100) {
    const batch = paths.slice(start, start + 100);
    await runChecked(system, ['xz', '--check=crc32', '--threads=1', '-6', '--keep', '--force', '--', ...batch], { context: 'compressing files of an add-on' });
    onProgress(start + batch.length);
  }
}
