// Puts programs into the image tree with their loader and the closure of their shared libraries, as ld.so would find them; stubbed libraries end the walk.

import { readFile } from 'node:fs/promises';
import type { Architecture } from '../architectures.ts';
import { B2cError } from '../errors.ts';
import { STUBBED_LIBRARIES, type StubbedLibrary } from './contents.ts';
import { isElf, readElfDynamicInfo, readElfExports } from './elf.ts';
import type { PackageRoot } from './package-root.ts';
import { writeStubLibrary } from './stub-library.ts';
import type { ImageTree } from './tree.ts';

type ResolvedFile = ReturnType<PackageRoot['resolveChain']>[number];

export async function readFileFromRoot(root: PackageRoot, path: string): Promise<Uint8Array> {
  const chain = root.resolveChain(path);
  return readFile((chain[chain.length - 1] as ResolvedFile).file.hostPath);
}

/** Adds the links on the way to a path as the packages have them; returns the file they end at. */
function addLinksTo(tree: ImageTree, root: PackageRoot, path: string): ResolvedFile {
  const chain = root.resolveChain(path);
  for (const { path: linkPath, file: entry } of chain.slice(0, -1)) {
    tree.add(linkPath, { kind: 'symlink', target: entry.target as string, origin: entry.pkg.name });
  }
  return chain[chain.length - 1] as ResolvedFile;
}

/** Adds a path as the packages have it: every link on the way, then the file. Returns the file's image path. */
export async function addPath(tree: ImageTree, root: PackageRoot, path: string): Promise<{ path: string; data: Uint8Array }> {
  const last = addLinksTo(tree, root, path);
  const data = await readFile(last.file.hostPath);
  if (!tree.has(last.path)) tree.add(last.path, { kind: 'file', mode: last.file.mode, data, origin: last.file.pkg.name });
  return { path: last.path, data };
}

/** A program with its loader and the closure of its DT_NEEDED libraries, searched as ld.so would. */
export async function addProgram(tree: ImageTree, root: PackageRoot, arch: Architecture, path: string): Promise<void> {
  const pending: string[] = [path];
  const done = new Set<string>();
  while (pending.length > 0) {
    const next = pending.shift() as string;
    if (done.has(next)) continue;
    done.add(next);
    const stubbed = STUBBED_LIBRARIES.find((library) => library.soname === next.slice(next.lastIndexOf('/') + 1));
    if (stubbed !== undefined) {
      await addStubLibrary(tree, root, next, stubbed);
      continue;
    }
    const added = await addPath(tree, root, next);
    if (!isElf(added.data)) continue;
    const info = readElfDynamicInfo(added.data);
    if (info.interpreter) pending.push(info.interpreter);
    const origin = added.path.slice(0, added.path.lastIndexOf('/'));
    const searchPath = [...info.runPaths.map((dir) => dir.replace('$ORIGIN', `/${origin}`)), `/usr/lib/${arch.triplet}`, '/usr/lib'];
    for (const needed of info.needed) {
      const dir = searchPath.find((candidate) => root.exists(`${candidate}/${needed}`));
      if (dir === undefined) throw new B2cError(`${needed}, needed by /${added.path}, is in none of the packages (searched ${searchPath.join(', ')})`);
      pending.push(`${dir}/${needed}`);
    }
  }
}

/** A stub in place of a library, under the same path and links; the real one's own libraries are not followed. */
async function addStubLibrary(tree: ImageTree, root: PackageRoot, path: string, library: StubbedLibrary): Promise<void> {
  const last = addLinksTo(tree, root, path);
  if (tree.has(last.path)) return;
  const exports = readElfExports(await readFile(last.file.hostPath));
  if (exports.soname !== library.soname) throw new B2cError(`${path} is ${exports.soname}, not the ${library.soname} b2c stubs`);
  tree.add(last.path, { kind: 'file', mode: last.file.mode, data: writeStubLibrary(exports, library.failing), origin: `${last.file.pkg.name} (stub)` });
}
