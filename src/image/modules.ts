// Picks kernel modules and their dependencies from a Debian kernel package, decompressed, with depmod run on the subset.

import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, readdir, rm, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { runChecked, type System } from '../system/system.ts';
import { B2cError } from '../errors.ts';
import { withLock } from '../host-cache.ts';
import { canonicalModuleName, indexLineWords, parseSoftDependencies } from '../module-index.ts';

export interface ModuleSelection {
  /** Module file paths relative to the modules folder, dependencies first (`kernel/fs/ext4/ext4.ko.xz`). */
  files: string[];
  /** Requested modules that are built into this kernel: nothing to ship. */
  builtin: string[];
  /** Requested modules this kernel does not have, among those allowed to be missing. */
  missing?: string[];
}

/** A module's name as modprobe knows it: `kernel/fs/fuse/cuse.ko.xz` → `cuse`, dashes as underscores. */
export function moduleName(path: string): string {
  const file = path.slice(path.lastIndexOf('/') + 1);
  return canonicalModuleName(file.replace(/\.ko(\.(xz|zst|gz))?$/, ''));
}

/** Where stageModules puts a module modules.dep names (`kernel/fs/ext4/ext4.ko.xz` → `kernel/fs/ext4/ext4.ko`): decompressed. */
export function stagedModulePath(path: string): string {
  return path.replace(/\.(xz|zst|gz)$/, '');
}

/** Reads modules.dep (`path: dep dep ...`, each dependency list already transitive) into a map. */
export function parseModulesDep(text: string): Map<string, string[]> {
  const deps = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    deps.set(
      line.slice(0, colon),
      line
        .slice(colon + 1)
        .trim()
        .split(/\s+/)
        .filter((dep) => dep !== ''),
    );
  }
  return deps;
}

/**
 * The files to ship for the requested module names, with their dependencies
 * and their soft dependencies (a MAC's PHY driver: `softdep r8169 pre:
 * realtek`) where those are modules of this kernel; an unknown requested name
 * is an error that says so.
 */
export function selectModules(
  requested: readonly string[],
  modulesDep: string,
  modulesBuiltin: string,
  modulesSoftdep = '',
  /** Names this kernel may lack: skipped, and listed in `missing`. */
  mayLack: readonly string[] = [],
): ModuleSelection {
  const softdeps = parseSoftDependencies(modulesSoftdep);
  const deps = parseModulesDep(modulesDep);
  const byName = new Map<string, string>();
  for (const path of deps.keys()) byName.set(moduleName(path), path);
  const builtinNames = new Set(
    modulesBuiltin
      .split('\n')
      .filter((line) => line !== '')
      .map(moduleName),
  );

  const files: string[] = [];
  const builtin: string[] = [];
  const missing: string[] = [];
  const take = (path: string): void => {
    if (!files.includes(path)) files.push(path);
  };
  const taken = new Set<string>();
  const takeWithDependencies = (path: string): void => {
    if (taken.has(path)) return;
    taken.add(path);
    // modules.dep lists a module's dependencies nearest first: load order is the reverse.
    for (const dep of [...(deps.get(path) ?? [])].reverse()) takeWithDependencies(dep);
    const soft = softdeps.get(moduleName(path));
    // A soft dependency that is an alias or built in is left to modprobe and the kernel.
    const modulePath = (name: string): string | undefined => byName.get(canonicalModuleName(name));
    for (const pre of soft?.pre ?? []) if (modulePath(pre) !== undefined) takeWithDependencies(modulePath(pre) as string);
    take(path);
    for (const post of soft?.post ?? []) if (modulePath(post) !== undefined) takeWithDependencies(modulePath(post) as string);
  };
  for (const requestedName of requested) {
    const name = canonicalModuleName(requestedName);
    const path = byName.get(name);
    if (path === undefined) {
      if (builtinNames.has(name)) builtin.push(name);
      else if (mayLack.includes(requestedName)) missing.push(requestedName);
      else throw new B2cError(`kernel module ${requestedName} is neither a module nor built into this kernel`);
      continue;
    }
    takeWithDependencies(path);
  }
  return { files, builtin, ...(missing.length > 0 ? { missing } : {}) };
}

export interface KernelModuleIndex {
  /** The kernel's modules folder (`…/lib/modules/RELEASE`), where the module files are. */
  modulesDir: string;
  /** Where modules.dep, modules.alias and the rest are: the modules folder, or a folder of b2c's when it had none. */
  indexDir: string;
  modulesDep: string;
  modulesBuiltin: string;
  modulesSoftdep: string;
}

/**
 * The full dependency map of a kernel's modules folder. When the folder has
 * no modules.dep, the host's depmod writes one: into the folder itself when
 * it is b2c's (an extracted package in the cache), else into `ownIndexDir`,
 * so a farm's folder is only read.
 */
export async function indexKernelModules(system: System, modulesDir: string, release: string, ownIndexDir?: string): Promise<KernelModuleIndex> {
  // An extracted package is shared by every b2c process: one indexes it while the others wait, then all read the whole index.
  if (ownIndexDir === undefined) return withLock(modulesDir, () => indexModulesFolder(system, modulesDir, release));
  return indexModulesFolder(system, modulesDir, release, ownIndexDir);
}

async function indexModulesFolder(system: System, modulesDir: string, release: string, ownIndexDir?: string): Promise<KernelModuleIndex> {
  if (!existsSync(modulesDir)) throw new B2cError(`the kernel has no modules folder for ${release} (${modulesDir})`);
  if (!existsSync(join(modulesDir, 'modules.builtin'))) throw new B2cError(`${modulesDir} has no modules.builtin: is it a modules_install folder?`);
  let indexDir = modulesDir;
  if (!existsSync(join(modulesDir, 'modules.dep'))) {
    // depmod -b reads BASE/lib/modules/RELEASE and writes its index there.
    // Beside the extracted package (…/usr/lib/modules/RELEASE → ….depmod), so its modules folder holds one release.
    const base = ownIndexDir ?? `${join(modulesDir, '../../../..')}.depmod`;
    const target = join(base, 'lib/modules', release);
    await rm(base, { recursive: true, force: true });
    await mkdir(dirname(target), { recursive: true });
    if (ownIndexDir === undefined) {
      await symlink(modulesDir, target);
    } else {
      // A folder of links to the farm's entries: the index lands beside them, not among them.
      await mkdir(target);
      for (const entry of await readdir(modulesDir)) await symlink(join(modulesDir, entry), join(target, entry));
      indexDir = target;
    }
    await runChecked(system, ['depmod', '-b', base, release], { context: `depmod over the modules of ${release}` });
  }
  return {
    modulesDir,
    indexDir,
    modulesDep: await readFile(join(indexDir, 'modules.dep'), 'utf8'),
    modulesBuiltin: await readFile(join(modulesDir, 'modules.builtin'), 'utf8'),
    modulesSoftdep: existsSync(join(indexDir, 'modules.softdep')) ? await readFile(join(indexDir, 'modules.softdep'), 'utf8') : '',
  };
}

/**
 * Lays out the selected modules decompressed in `workDir/lib/modules/VERSION`
 * and runs depmod there; returns that folder, ready to be copied into the image.
 */
export async function stageModules(
  system: System,
  modulesDir: string,
  kernelVersion: string,
  selection: ModuleSelection,
  workDir: string,
  /** The argv of a strip for the architecture: the modules lose the local symbols no relocation uses. */
  strip?: readonly string[],
): Promise<string> {
  await rm(workDir, { recursive: true, force: true });
  const staged = join(workDir, 'lib/modules', kernelVersion);
  await mkdir(staged, { recursive: true });
  for (const file of selection.files) {
    const target = join(staged, stagedModulePath(file));
    await mkdir(dirname(target), { recursive: true });
    const suffix = /\.(xz|zst|gz)$/.exec(file)?.[1];
    if (suffix === undefined) {
      await copyFile(join(modulesDir, file), target);
    } else {
      const compressed = `${target}.${suffix}`;
      await copyFile(join(modulesDir, file), compressed);
      // Each removes the compressed file once decompressed (zstd only when told).
      const decompress = { xz: ['xz', '--decompress', '--quiet'], zst: ['zstd', '--decompress', '--quiet', '--rm'], gz: ['gzip', '--decompress', '--quiet'] }[
        suffix as 'xz' | 'zst' | 'gz'
      ];
      await runChecked(system, [...decompress, compressed]);
    }
  }
  if (strip !== undefined && selection.files.length > 0) {
    const files = selection.files.map((file) => join(staged, stagedModulePath(file)));
    await runChecked(system, [...strip, '--discard-locals', ...files], { context: 'stripping the modules of local symbols' });
  }
  for (const name of ['modules.order', 'modules.builtin', 'modules.builtin.modinfo']) {
    if (existsSync(join(modulesDir, name))) await copyFile(join(modulesDir, name), join(staged, name));
  }
  await runChecked(system, ['depmod', '-b', workDir, kernelVersion], { context: 'depmod over the shipped modules' });
  // The binary indexes are for kmod's modprobe; busybox reads the text files.
  for (const name of await readdir(staged)) {
    if (name.endsWith('.bin')) await rm(join(staged, name));
  }
  return staged;
}

/** The module named by an index line: the path before `:` in modules.dep, the last word of alias and symbol lines, the second of softdep lines. */
function indexLineModule(file: string, line: string): string | undefined {
  if (file === 'modules.dep') return line.includes(':') ? moduleName(line.slice(0, line.indexOf(':'))) : undefined;
  const words = indexLineWords(line);
  if (file === 'modules.softdep') return words[0] === 'softdep' && words[1] !== undefined ? words[1].replace(/-/g, '_') : undefined;
  return words[0] === 'alias' && words.length >= 3 ? (words.at(-1) as string).replace(/-/g, '_') : undefined;
}

/**
 * The lines of one index file that are about `modules` (names): depmod runs
 * once over every module shipped, and each archive keeps the lines of its own.
 */
export function indexLinesFor(file: string, text: string, modules: ReadonlySet<string>): string {
  const kept = text.split('\n').filter((line) => {
    const module = indexLineModule(file, line);
    return module !== undefined && modules.has(module);
  });
  return kept.length === 0 ? '' : `${kept.join('\n')}\n`;
}

/** The names of every module below the given folders of the kernel's `drivers/` (`net/ethernet`), as modules.dep lists them. */
export function modulesBelow(folders: readonly string[], modulesDep: string): string[] {
  const prefixes = folders.map((folder) => `kernel/drivers/${folder}/`);
  return [...parseModulesDep(modulesDep).keys()].filter((path) => prefixes.some((prefix) => path.startsWith(prefix))).map(moduleName);
}
