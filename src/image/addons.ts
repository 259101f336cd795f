// The archives a bootloader loads after the initramfs (modules, firmware, GPU firmware) and the device trees, written beside the image.

import { cp, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Architecture } from '../architectures.ts';
import type { System } from '../system/system.ts';
import { ADDON_FIRMWARE_PACKAGES, ADDON_MODULE_FAMILIES, GPU_FIRMWARE } from './contents.ts';
import { FIRMWARE_FOLDER, firmwareBelow, moduleFirmwareNames, selectFirmware, storedOnce, type FirmwareFile } from './firmware.ts';
import type { FirmwareSource } from './firmware-source.ts';
import { addModules, type StagedModules } from './kernel-modules.ts';
import type { KernelSource } from './kernel-source.ts';
import { megabytes } from './manifest.ts';
import { stagedModulePath } from './modules.ts';
import { compressEach, writeArchive, type WrittenArchive } from './outputs.ts';
import type { Progress } from './progress.ts';
import { ImageTree } from './tree.ts';

/** What every add-on writer needs: the machine, the firmware packages, where to work and the archives' time stamps. */
export interface AddonContext {
  system: System;
  arch: Architecture;
  firmware: FirmwareSource;
  /** A scratch folder of this build's own. */
  workDir: string;
  sourceDateEpoch: number;
  progress: Progress;
}

/** The firmware names the staged modules declare. */
export async function firmwareNamesOf(staged: string, files: readonly string[]): Promise<string[]> {
  const names = new Set<string>();
  for (const path of files) {
    for (const name of moduleFirmwareNames(await readFile(join(staged, stagedModulePath(path))))) names.add(name);
  }
  return [...names];
}

/** The modules add-on: each module compressed on its own, which busybox's modprobe reads, so it costs its compressed size in RAM. */
export async function writeModulesAddon(context: AddonContext, modules: StagedModules, kernel: KernelSource, target: string): Promise<WrittenArchive> {
  const { addonFiles, stagedWithAddon } = modules;
  await compressEach(
    context.system,
    addonFiles.map((path) => join(stagedWithAddon, stagedModulePath(path))),
  );
  const addon = new ImageTree();
  await addModules(addon, stagedWithAddon, modules.modulesFolder, addonFiles, 'modules', kernel.name, true);
  const written = await writeArchive(addon, target, context.sourceDateEpoch, context.arch);
  const families = Object.entries(ADDON_MODULE_FAMILIES).map(([family, names]) => `${family} (${names.join(', ')})`);
  context.progress.update(`${addonFiles.length} modules: ${families.join(', ')}; ${megabytes(written.bytes)}, ${megabytes(written.unpackedBytes)} unpacked`);
  return written;
}

/** The firmware add-on: what the image's and the add-on's drivers ask for, but the files the image has. */
export async function writeFirmwareAddon(
  context: AddonContext,
  modules: StagedModules,
  inImage: readonly FirmwareFile[],
  target: string,
): Promise<WrittenArchive> {
  const names = await firmwareNamesOf(modules.stagedWithAddon, [...modules.selection.files, ...modules.addonFiles]);
  const inImageNames = new Set(inImage.map((found) => found.name));
  const chosen = selectFirmware(names, await context.firmware.root(ADDON_FIRMWARE_PACKAGES));
  const files = chosen.files.filter((found) => !inImageNames.has(found.name));
  const written = await writeFirmwareArchive(context, files, target);
  context.progress.update(
    `${files.length} files for ${names.length} names the drivers ask for (${chosen.missing.length} in no package); ` +
      `${megabytes(written.bytes)}, ${megabytes(written.unpackedBytes)} unpacked`,
  );
  return written;
}

/** The GPU firmware add-on: whole folders of the GPU firmware packages, the links between folders kept. */
export async function writeGpuFirmwareAddon(context: AddonContext, target: string): Promise<WrittenArchive> {
  const files: FirmwareFile[] = [];
  const folderLinks: Array<{ name: string; target: string }> = [];
  const missing: string[] = [];
  for (const [pkg, folders] of Object.entries(GPU_FIRMWARE)) {
    const chosen = firmwareBelow(folders, await context.firmware.root([pkg]));
    files.push(...chosen.files);
    folderLinks.push(...chosen.folderLinks);
    missing.push(...chosen.missing);
  }
  const written = await writeFirmwareArchive(context, files, target, (done) => context.progress.update(`compressing ${done}/${files.length}`), folderLinks);
  const dangling = missing.length > 0 ? ` (${missing.length} links lead to no file: ${missing.slice(0, 3).join(', ')})` : '';
  context.progress.update(
    `${files.length} files and ${folderLinks.length} folder links of ${Object.keys(GPU_FIRMWARE).join(', ')}${dangling}; ` +
      `${megabytes(written.bytes)}, ${megabytes(written.unpackedBytes)} unpacked`,
  );
  return written;
}

/** The kernel package's device trees, copied as a folder (the bootloader picks the board's file); undefined when the kernel has none. */
export async function copyDeviceTrees(kernel: KernelSource, target: string, progress: Progress): Promise<WrittenArchive | undefined> {
  if (kernel.dtbs === undefined) return undefined;
  const partial = `${target}.${process.pid}.partial`;
  await rm(partial, { recursive: true, force: true });
  await cp(kernel.dtbs, partial, { recursive: true });
  await rm(target, { recursive: true, force: true });
  await rename(partial, target);
  const files = await deviceTreeFiles(target);
  const bytes = (await Promise.all(files.map(async (file) => (await stat(file)).size))).reduce((sum, size) => sum + size, 0);
  progress.update(`${files.filter((file) => file.endsWith('.dtb')).length} device trees in ${target}`);
  return { path: target, bytes, unpackedBytes: bytes };
}

/** Every file of a device tree folder (the vendors' subfolders included). */
export async function deviceTreeFiles(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

/**
 * Writes firmware files as an add-on archive, each compressed with xz on its
 * own: the kernel's loader reads `NAME.xz` (with CRC32 checks, which its
 * decoder knows), so the files cost their compressed size in RAM.
 */
async function writeFirmwareArchive(
  context: AddonContext,
  files: readonly FirmwareFile[],
  target: string,
  onProgress: (done: number) => void = () => undefined,
  folderLinks: ReadonlyArray<{ name: string; target: string }> = [],
): Promise<WrittenArchive> {
  const { firmware } = context;
  const work = join(context.workDir, 'firmware');
  await rm(work, { recursive: true, force: true });
  const addon = new ImageTree();
  const { stored, links } = storedOnce(files);
  // A file a package ships compressed is taken as it is; the others get compressed here.
  const compressedAlready = (name: string): boolean => /\.(xz|zst)$/.test(name);
  const plain = stored.filter((found) => !compressedAlready(found.name));
  for (const found of stored.filter((candidate) => !plain.includes(candidate)))
    addon.add(`${FIRMWARE_FOLDER}/${found.name}`, { kind: 'file', mode: 0o644, data: await firmware.read(found), origin: found.origin });
  for (const found of plain) {
    await mkdir(dirname(join(work, found.name)), { recursive: true });
    await writeFile(join(work, found.name), await firmware.read(found));
  }
  await compressEach(
    context.system,
    plain.map((found) => join(work, found.name)),
    onProgress,
  );
  for (const found of plain) {
    addon.add(`${FIRMWARE_FOLDER}/${found.name}.xz`, { kind: 'file', mode: 0o644, data: await readFile(join(work, `${found.name}.xz`)), origin: found.origin });
  }
  // The other names of a stored file are links, compressed as it is: the kernel's loader follows links.
  const asStored = (name: string): string => (compressedAlready(name) ? name : `${name}.xz`);
  for (const link of links) {
    addon.add(`${FIRMWARE_FOLDER}/${asStored(link.name)}`, { kind: 'symlink', target: `/${FIRMWARE_FOLDER}/${asStored(link.target)}`, origin: 'b2c' });
  }
  for (const link of folderLinks)
    addon.add(`${FIRMWARE_FOLDER}/${link.name}`, { kind: 'symlink', target: `/${FIRMWARE_FOLDER}/${link.target}`, origin: 'b2c' });
  await rm(work, { recursive: true, force: true });
  return writeArchive(addon, target, context.sourceDateEpoch, context.arch);
}
