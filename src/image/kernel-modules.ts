// The kernel modules of an image and of its modules add-on: chosen by the module policy, staged (decompressed, stripped, indexed), and laid into trees.

import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Architecture } from '../architectures.ts';
import { ADDON_ALIASES_FOLDER, BOOT_MODULES_LIST, MODULE_INDEX_FILES, MODULE_INDEXES_FOLDER } from '../image-layout.ts';
import type { System } from '../system/system.ts';
import { textFile } from './base-tree.ts';
import {
  ADDON_MODULE_FOLDERS,
  ADDON_MODULES,
  ARCHITECTURE_MODULE_FAMILIES,
  BOOT_MODULES,
  imageModules,
  MODULE_FAMILIES,
  MODULES_SOME_KERNELS_LACK,
} from './contents.ts';
import type { KernelSource } from './kernel-source.ts';
import { megabytes } from './manifest.ts';
import { indexKernelModules, indexLinesFor, moduleName, modulesBelow, selectModules, stagedModulePath, stageModules, type ModuleSelection } from './modules.ts';
import { outputNames } from './output-names.ts';
import type { Progress } from './progress.ts';
import type { ImageTree } from './tree.ts';

/**
 * The aliases of the add-on's modules `/init` looks up: the modaliases its
 * report of devices without a driver names (src/init/devices.ts), and the
 * filesystems a b2c.filesystem's device may hold (src/init/filesystems.ts).
 */
const REPORTED_ALIAS_PREFIXES = ['pci:', 'usb:', 'virtio:', 'of:', 'fs-'];

export interface StagedModules {
  /** `usr/lib/modules/RELEASE`, in the image and its add-ons. */
  modulesFolder: string;
  /** The image's modules, as modules.dep names them. */
  selection: ModuleSelection;
  /** The modules add-on's, none of which is in the image. */
  addonFiles: string[];
  /** The image's modules staged with an index of their own. */
  staged: string;
  /** The image's and the add-on's staged together, which the add-on's index and the firmware add-on read. */
  stagedWithAddon: string;
  /** modules.alias of the whole kernel, for the add-on's aliases the image names. */
  kernelAliases: string;
  /** Bytes of each module family, for the manifest. */
  familyBytes: Record<string, number>;
}

/** Chooses and stages the image's modules, and the add-on's when an add-on needs them. */
export async function stageKernelModules(
  system: System,
  kernel: KernelSource,
  arch: Architecture,
  withAddonModules: boolean,
  workDir: string,
  strip: string[] | undefined,
  progress: Progress,
): Promise<StagedModules> {
  const release = kernel.release;
  const index = await indexKernelModules(system, kernel.modulesDir, release, kernel.own ? join(workDir, 'own-kernel-index') : undefined);
  // A farm's kernel may build in, or leave out, any module of the policy: the image takes what it has.
  const mayLack = kernel.own ? [...imageModules(arch.debian), ...ADDON_MODULES] : MODULES_SOME_KERNELS_LACK;
  const select = (names: readonly string[]): ModuleSelection => selectModules(names, index.modulesDep, index.modulesBuiltin, index.modulesSoftdep, mayLack);
  const selection = select(imageModules(arch.debian));
  const inImage = new Set(selection.files);
  // The add-on's modules may need the image's: those stay in the image only.
  const addonFiles = select([...ADDON_MODULES, ...modulesBelow(ADDON_MODULE_FOLDERS, index.modulesDep)]).files.filter((path) => !inImage.has(path));
  // The image's modules get a depmod of their own: with more modules beside them, depmod orders their dependency lists
  // otherwise, and the image would differ with the add-on built or not.
  const staged = await stageModules(system, index.modulesDir, release, selection, join(workDir, 'modules'), strip);
  const stagedWithAddon = withAddonModules
    ? await stageModules(
        system,
        index.modulesDir,
        release,
        { files: [...selection.files, ...addonFiles], builtin: selection.builtin },
        join(workDir, 'modules-addon'),
        strip,
      )
    : staged;
  const lacking = selection.missing ? `; not in this kernel: ${selection.missing.join(', ')}` : '';
  for (const needed of ['overlay', 'ext4']) {
    if (selection.missing?.includes(needed))
      progress.update(`warning: this kernel has no ${needed}, built in or as a module: ${needed === 'overlay' ? 'podman cannot run' : 'no cache disk'}`);
  }
  progress.update(`${selection.files.length} modules (built in: ${selection.builtin.join(', ') || 'none'}${lacking})`);
  const familyBytes: Record<string, number> = {};
  for (const [family, names] of Object.entries({ ...MODULE_FAMILIES, ...ARCHITECTURE_MODULE_FAMILIES[arch.debian] })) {
    const sizes = await Promise.all(select(names).files.map(async (path) => (await stat(join(staged, stagedModulePath(path)))).size));
    familyBytes[family] = sizes.reduce((sum, size) => sum + size, 0);
  }
  progress.update(
    Object.entries(familyBytes)
      .map(([family, bytes]) => `${family} ${megabytes(bytes)}`)
      .join(', '),
  );
  const kernelAliases = existsSync(join(index.indexDir, 'modules.alias')) ? await readFile(join(index.indexDir, 'modules.alias'), 'utf8') : '';
  return { modulesFolder: `usr/lib/modules/${release}`, selection, addonFiles, staged, stagedWithAddon, kernelAliases, familyBytes };
}

/** Lays the image's modules into its tree: the files, their index, the boot list, and which add-on has the drivers it lacks. */
export async function addImageModules(tree: ImageTree, modules: StagedModules, kernel: KernelSource, arch: Architecture): Promise<void> {
  const { modulesFolder, staged } = modules;
  await addModules(tree, staged, modulesFolder, modules.selection.files, 'image', kernel.name);
  for (const name of ['modules.order', 'modules.builtin', 'modules.builtin.modinfo']) {
    if (existsSync(join(staged, name)))
      tree.add(`${modulesFolder}/${name}`, { kind: 'file', mode: 0o644, data: await readFile(join(staged, name)), origin: kernel.name });
  }
  // Which add-on has the driver a device needs, for a machine booted without it; only the buses the driver report lists: an ACPI or DMI
  // alias would never be looked up.
  const addonNames = new Set(modules.addonFiles.map(moduleName));
  const reportedAliases = indexLinesFor('modules.alias', modules.kernelAliases, addonNames)
    .split('\n')
    .filter((line) => REPORTED_ALIAS_PREFIXES.some((prefix) => line.startsWith(`alias ${prefix}`)))
    .map((line) => `${line}\n`)
    .join('');
  tree.add(`${modulesFolder}/${ADDON_ALIASES_FOLDER}/modules`, textFile(`# ${outputNames(arch.debian).addons.modules}\n${reportedAliases}`, 'b2c'));
  tree.add(BOOT_MODULES_LIST.slice(1), textFile(`${BOOT_MODULES.join('\n')}\n`, 'b2c'));
}

/**
 * The staged `files` (as modules.dep names them, maybe compressed) and the
 * lines of the index about them, under the archive's own index folder;
 * `compressed`: the `.ko.xz` staged beside each, named so in modules.dep.
 */
export async function addModules(
  tree: ImageTree,
  staged: string,
  modulesFolder: string,
  files: readonly string[],
  indexName: string,
  origin: string,
  compressed = false,
): Promise<void> {
  const names = new Set<string>();
  const shipped = new Set<string>();
  for (const path of files) {
    const unpacked = stagedModulePath(path);
    const name = compressed ? `${unpacked}.xz` : unpacked;
    tree.add(`${modulesFolder}/${name}`, { kind: 'file', mode: 0o644, data: await readFile(join(staged, name)), origin });
    names.add(moduleName(path));
    shipped.add(unpacked);
  }
  for (const indexFile of MODULE_INDEX_FILES) {
    const text = existsSync(join(staged, indexFile)) ? await readFile(join(staged, indexFile), 'utf8') : '';
    // depmod wrote the paths uncompressed, as staged; a dependency in another archive keeps its own name.
    let lines = indexLinesFor(indexFile, text, names);
    if (compressed && indexFile === 'modules.dep') lines = lines.replace(/[^\s:]+\.ko(?=[\s:])/g, (path) => (shipped.has(path) ? `${path}.xz` : path));
    tree.add(`${modulesFolder}/${MODULE_INDEXES_FOLDER}/${indexName}/${indexFile}`, textFile(lines, 'b2c'));
  }
}
