// Whether a build has anything to do: its outputs are keyed by what goes into them, and kept when nothing changed.

import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Everything a build's bytes depend on. */
export interface BuildInputs {
  arch: string;
  suite: string;
  mirror: string;
  keyring: string;
  compressions: readonly string[];
  addons: readonly string[];
  sourceDateEpoch: number;
  version: string;
  /** The suite's signed package lists, which fix every package version the build resolves; with the host's (amd64) lists, whose tools make the keymaps. */
  packageLists: string;
  /** A farm's own kernel (its files' names, sizes and times), or empty for the suite's. */
  ownKernel: string;
  /** b2c's own code and locked dependencies: the builder and the init it bundles. */
  builder: string;
  /** The host programs whose output lands in the archives (xz, zstd, depmod). */
  hostTools: string;
}

/** The key of a build: equal keys give the same bytes. */
export function buildKey(inputs: BuildInputs): string {
  const canonical = { ...inputs, compressions: [...new Set(inputs.compressions)].sort(), addons: [...new Set(inputs.addons)].sort() };
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}

interface Stamp<T> {
  key: string;
  result: T;
  /** Each output as written: a file touched since does not count as the build's. */
  outputs: Array<{ path: string; size: number; modified: number }>;
}

/** Where the last build of an architecture into a folder left its key. */
export function stampPath(outDir: string, arch: string): string {
  return join(outDir, `.b2c-build.${arch}.json`);
}

/** The result of the last build when it had this key and its outputs are as it wrote them; undefined otherwise. */
export async function keptBuild<T>(path: string, key: string): Promise<T | undefined> {
  let stamp: Stamp<T>;
  try {
    stamp = JSON.parse(await readFile(path, 'utf8')) as Stamp<T>;
  } catch {
    return undefined;
  }
  if (stamp.key !== key) return undefined;
  for (const output of stamp.outputs) {
    const info = await stat(output.path).catch(() => undefined);
    if (info === undefined || info.size !== output.size || info.mtimeMs !== output.modified) return undefined;
  }
  return stamp.result;
}

/** Forgets the last build: its outputs are about to be replaced. */
export async function dropStamp(path: string): Promise<void> {
  await rm(path, { force: true });
}

export async function writeStamp<T>(path: string, key: string, result: T, outputs: readonly string[]): Promise<void> {
  const described = await Promise.all(
    outputs.map(async (output) => {
      const info = await stat(output);
      return { path: output, size: info.size, modified: info.mtimeMs };
    }),
  );
  await writeFile(path, `${JSON.stringify({ key, result, outputs: described } satisfies Stamp<T>, null, 2)}\n`);
}

/** A digest of every file below `folder` (names and bytes), in a stable order; `skip` leaves folders out by name. */
export async function digestFolder(folder: string, skip: readonly string[] = []): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (dir: string): Promise<void> => {
    for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!skip.includes(entry.name)) await walk(path);
      } else if (entry.isFile()) {
        hash.update(`${relative(folder, path)}\0`).update(await readFile(path));
      }
    }
  };
  await walk(folder);
  return hash.digest('hex');
}

/** A fingerprint of a folder or file by names, sizes and times: cheap for a kernel's thousands of modules. */
export async function fingerprint(path: string): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (current: string): Promise<void> => {
    const info = await stat(current);
    hash.update(`${relative(path, current)}\0${info.size}\0${info.mtimeMs}\n`);
    if (info.isDirectory()) for (const name of (await readdir(current)).sort()) await walk(join(current, name));
  };
  await walk(path);
  return hash.digest('hex');
}

/** The parts of src/ that only run on the host and never shape an image: a change there rebuilds nothing. */
const HOST_ONLY_FOLDERS = ['bench-report', 'cli', 'serve', 'testbed', 'vm'];

/** b2c's own code that makes the image (the builder, and the init it bundles) and its locked dependencies. */
export async function builderDigest(): Promise<string> {
  const source = fileURLToPath(new URL('..', import.meta.url));
  const hash = createHash('sha256').update(await digestFolder(source, HOST_ONLY_FOLDERS));
  // esbuild reads the compiler options when it bundles /init.
  for (const file of ['package-lock.json', 'tsconfig.json']) {
    const path = join(source, '..', file);
    hash.update(`${file}\0`).update(existsSync(path) ? await readFile(path) : '');
  }
  return hash.digest('hex');
}

/** The versions of the host programs the build runs on its outputs. */
export function hostToolVersions(programs: readonly string[]): string {
  return programs.map((program) => `${program}: ${spawnSync(program, ['--version'], { encoding: 'utf8' }).stdout ?? 'missing'}`).join('\n');
}
