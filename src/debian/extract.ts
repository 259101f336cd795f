// Debian packages extracted once into the host cache, safely when several b2c processes extract the same one at once.

import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { runChecked, type System } from '../system/system.ts';

/** Where a .deb is (or will be) extracted in the host cache. */
export function extractedPath(debPath: string, cacheDir: string): string {
  return join(cacheDir, 'extracted', basename(debPath, '.deb'));
}

/**
 * Extracts a .deb once into the host cache (dpkg-deb -x) and returns the
 * folder. Each process extracts into a folder of its own and renames it into
 * place: a folder at the final name is always whole, and when another process
 * got there first, its copy is kept.
 */
export async function extractDeb(system: System, debPath: string, cacheDir: string): Promise<string> {
  const target = extractedPath(debPath, cacheDir);
  if (existsSync(target)) return target;
  await mkdir(dirname(target), { recursive: true });
  const partial = await mkdtemp(`${target}.partial-`);
  try {
    await runChecked(system, ['dpkg-deb', '--extract', debPath, partial], { context: `extracting ${basename(debPath)}` });
    await rename(partial, target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (!((code === 'ENOTEMPTY' || code === 'EEXIST') && existsSync(target))) throw error;
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
  return target;
}
