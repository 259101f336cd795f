// The floor both benchmarks compare with: the same kernel, and an initramfs whose /init, a static busybox shell, powers off at once.

import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { S_IFCHR, S_IFDIR, S_IFLNK, S_IFREG, cpioChunks, type CpioEntry } from '../src/image/cpio.ts';

/** Writes the floor's xz archive into `folder` and returns its path. */
export async function buildFloor(folder: string): Promise<string> {
  const busybox = await readFile('/bin/busybox');
  const text = (value: string): Uint8Array => new TextEncoder().encode(value);
  const entries: CpioEntry[] = [
    { path: 'bin', mode: S_IFDIR | 0o755, data: new Uint8Array() },
    { path: 'bin/busybox', mode: S_IFREG | 0o755, data: busybox },
    { path: 'bin/sh', mode: S_IFLNK | 0o777, data: text('busybox') },
    { path: 'dev', mode: S_IFDIR | 0o755, data: new Uint8Array() },
    { path: 'dev/console', mode: S_IFCHR | 0o600, data: new Uint8Array(), rdevMajor: 5, rdevMinor: 1 },
    { path: 'init', mode: S_IFREG | 0o755, data: text('#!/bin/sh\necho floor-init-$((6*7))\n/bin/busybox poweroff -f\n') },
  ];
  const cpio = join(folder, 'floor.cpio');
  await writeFile(cpio, Buffer.concat([...cpioChunks(entries, 0)]));
  const compressed = spawnSync('xz', ['--check=crc32', '--force', '--keep', cpio]);
  if (compressed.status !== 0) throw new Error(`xz failed: ${compressed.stderr.toString()}`);
  return `${cpio}.xz`;
}
