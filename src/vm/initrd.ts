// The one initramfs QEMU loads: the image followed by its add-ons, as a bootloader that takes several initrds concatenates them.

import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { B2cError } from '../errors.ts';

/**
 * Writes `archives` one after the other into a temporary file and returns it,
 * with a function that removes it. The kernel unpacks each compressed cpio of
 * the sequence in turn; xz streams end on a 4-byte boundary, as the format
 * of an initramfs with several archives wants.
 */
export async function concatenateArchives(archives: readonly string[]): Promise<{ path: string; remove: () => Promise<void> }> {
  for (const archive of archives) if (!existsSync(archive)) throw new B2cError(`${archive} does not exist`);
  const folder = await mkdtemp(join(tmpdir(), 'b2c-initrd-'));
  const path = join(folder, 'initrd');
  const output = createWriteStream(path);
  for (const archive of archives) await pipeline(createReadStream(archive), output, { end: false });
  await new Promise<void>((resolve, reject) => output.end((error?: Error | null) => (error ? reject(error) : resolve())));
  return { path, remove: () => rm(folder, { recursive: true, force: true }) };
}
