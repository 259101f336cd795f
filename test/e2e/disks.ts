// Virtual disks for the end-to-end tests.

import { closeSync, ftruncateSync, openSync } from 'node:fs';
import { join } from 'node:path';

/** A sparse raw disk image of `bytes` full of zeros: no partition table, no filesystem. */
export function blankDisk(folder: string, name: string, bytes: number): string {
  const path = join(folder, name);
  const fd = openSync(path, 'w');
  ftruncateSync(fd, bytes);
  closeSync(fd);
  return path;
}
