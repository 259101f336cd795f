// `b2c build`: Debian packages in, initramfs + kernel + manifest out, byte-identical for the same package versions; nothing done when nothing changed.

import { existsSync } from 'node:fs';
import { copyFile, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { architecture, type Architecture } from '../architectures.ts';
import { DEFAULT_KEYRING, DEFAULT_MIRROR, PrivateApt, type AptSource, type DebianPackage } from '../debian/apt.ts';
import { extractDeb, extractedPath } from '../debian/extract.ts';
import { DebianTools, HOST_ARCH } from '../debian/tools.ts';
import { B2cError } from '../errors.ts';
import { privateWorkDir, withLock } from '../host-cache.ts';
import type { System } from '../system/system.ts';
import {
  copyDeviceTrees,
  deviceTreeFiles,
  firmwareNamesOf,
  writeFirmwareAddon,
  writeGpuFirmwareAddon,
  writeModulesAddon,
  type AddonContext,
} from './addons.ts';
import { assembleBaseTree } from './base-tree.ts';
import { builderDigest, buildKey, dropStamp, fingerprint, hostToolVersions, keptBuild, stampPath, writeStamp } from './build-stamp.ts';
import { compress } from './compression.ts';
import { IMAGE_FIRMWARE, IMAGE_PACKAGES } from './contents.ts';
import { FIRMWARE_FOLDER, selectFirmware } from './firmware.ts';
import { FirmwareSource } from './firmware-source.ts';
import { bundleInit } from './init-bundle.ts';
import { addImageModules, stageKernelModules } from './kernel-modules.ts';
import { ownKernel, type KernelSource } from './kernel-source.ts';
import { KEYMAP_PACKAGES } from './keymaps.ts';
import { buildManifest, megabytes } from './manifest.ts';
import { moduleName } from './modules.ts';
import { writeAtomically, writeCpio } from './outputs.ts';
import { outputNames, type Addon, type Compression } from './output-names.ts';
import { PackageRoot } from './package-root.ts';
import type { Progress } from './progress.ts';

export interface BuildOptions {
  arch: string;
  suite: string;
  mirror?: string;
  keyring?: string;
  cacheDir: string;
  outDir: string;
  /** xz is written too: it is the archive farms fetch (unless `developerRun`). */
  compressions: Compression[];
  /** b2c run's own build of a kernel tree: only `compressions`, no xz archive, which a VM does not need and costs a minute of CPU. */
  developerRun?: boolean;
  /** Fetch the package lists again even when cached, and build even when nothing changed. */
  refresh: boolean;
  /** Every mtime in the archive. */
  sourceDateEpoch: number;
  version: string;
  /** Add-on archives to write beside the image. */
  addons: Addon[];
  /** A farm's own kernel instead of the suite's: a linux-image .deb or a modules_install folder, and its image. */
  kernel?: { path: string; image?: string };
}

export interface BuildResult {
  initramfs: Record<Compression, string | undefined>;
  kernel: string;
  manifest: string;
  unpackedBytes: number;
  sizes: Partial<Record<Compression, number>>;
  /** Each add-on written: its path, its size and what it unpacks to. */
  addons: Partial<Record<Addon, { path: string; bytes: number; unpackedBytes: number }>>;
  /** True when nothing had changed since the last build, whose outputs were kept. */
  kept?: boolean;
}

/**
 * Builds one architecture's image into the output folder. Two builds of the
 * same architecture into one folder take turns; the second finds the first's
 * outputs and keeps them when nothing that goes into them changed.
 */
export async function buildImage(system: System, options: BuildOptions, progress: Progress): Promise<BuildResult> {
  const arch = architecture(options.arch);
  await mkdir(options.outDir, { recursive: true });
  return withLock(
    join(options.outDir, `.b2c-build.${arch.debian}`),
    () => buildLocked(system, options, arch, progress),
    () => progress.step(`waiting for another b2c build of ${arch.debian} into ${options.outDir}`),
  );
}

async function buildLocked(system: System, options: BuildOptions, arch: Architecture, progress: Progress): Promise<BuildResult> {
  const source = { suite: options.suite, mirror: options.mirror ?? DEFAULT_MIRROR, keyring: options.keyring ?? DEFAULT_KEYRING };
  const apt = new PrivateApt(system, options.cacheDir, { ...source, arch: arch.debian }, (message) => progress.update(message));

  progress.step(`package lists for ${options.suite}/${arch.debian}`);
  const lists = await apt.prepare(options.refresh);
  progress.update(lists === 'cached' ? 'using the cached lists (--refresh fetches them again)' : 'fetched and verified');

  const stamp = stampPath(options.outDir, arch.debian);
  const key = buildKey({
    ...source,
    arch: arch.debian,
    compressions: [...farmCompressions(options)],
    addons: options.addons,
    sourceDateEpoch: options.sourceDateEpoch,
    version: options.version,
    packageLists: await packageListsDigest(system, options.cacheDir, source, apt),
    ownKernel: options.kernel === undefined ? '' : await ownKernelFingerprint(options.kernel),
    builder: await builderDigest(),
    hostTools: hostToolVersions(['xz', 'depmod', ...(options.compressions.includes('zstd') ? ['zstd'] : [])]),
  });
  const kept = options.refresh ? undefined : await keptBuild<BuildResult>(stamp, key);
  if (kept !== undefined) {
    progress.step(`nothing changed since the last build (packages, options, kernel, b2c's code): keeping ${options.outDir} (--refresh builds anew)`);
    return { ...kept, kept: true };
  }
  await dropStamp(stamp);
  const workDir = await privateWorkDir(options.cacheDir, `build-${arch.debian}`);
  try {
    const result = await buildAnew(system, options, arch, apt, workDir, progress);
    await writeStamp(stamp, key, result, await outputsOf(result));
    return result;
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/** The archives a build writes: xz, and those asked for. */
function farmCompressions(options: BuildOptions): Set<Compression> {
  return new Set<Compression>([...(options.developerRun === true ? [] : (['xz'] as const)), ...options.compressions]);
}

/**
 * The image's lists, and for another architecture the host's too: the keymap
 * tools come from amd64 packages. Host lists not fetched yet digest as
 * empty, which differs from any earlier build's.
 */
async function packageListsDigest(system: System, cacheDir: string, source: Omit<AptSource, 'arch'>, apt: PrivateApt): Promise<string> {
  const own = await apt.listsDigest();
  if (apt.source.arch === HOST_ARCH) return own;
  const host = new PrivateApt(system, cacheDir, { ...source, arch: HOST_ARCH }, () => {});
  return `${own}\n${HOST_ARCH} ${await host.listsDigest()}`;
}

/**
 * What a farm's kernel brings: its .deb, or the modules and boot folders of
 * its modules_install output (an output folder inside it is not the kernel's),
 * and its image.
 */
async function ownKernelFingerprint(kernel: { path: string; image?: string }): Promise<string> {
  // A path that does not exist is said by ownKernel, in its words.
  if (!existsSync(kernel.path)) return '';
  const parts = (await stat(kernel.path)).isDirectory()
    ? ['lib/modules', 'usr/lib/modules', 'boot'].map((folder) => join(kernel.path, folder)).filter((path) => existsSync(path))
    : [kernel.path];
  if (kernel.image !== undefined) parts.push(kernel.image);
  return (await Promise.all(parts.map(async (path) => `${path} ${await fingerprint(path)}`))).join('\n');
}

/** Every file a build wrote, whose size and time the stamp keeps: the device trees' folder by its files. */
async function outputsOf(result: BuildResult): Promise<string[]> {
  const archives = Object.values(result.initramfs).filter((path): path is string => path !== undefined);
  const { dtbs, ...archiveAddons } = result.addons;
  const addons = Object.values(archiveAddons).map((addon) => addon.path);
  return [...archives, ...addons, ...(dtbs === undefined ? [] : await deviceTreeFiles(dtbs.path)), result.kernel, result.manifest];
}

async function buildAnew(
  system: System,
  options: BuildOptions,
  arch: Architecture,
  apt: PrivateApt,
  workDir: string,
  progress: Progress,
): Promise<BuildResult> {
  progress.step('resolving packages');
  const imagePackages = await apt.resolve(IMAGE_PACKAGES);
  let kernelPackage: DebianPackage | undefined;
  if (options.kernel === undefined) {
    kernelPackage = (await apt.resolve([arch.kernelPackage])).find((pkg) => /^linux-image-\d/.test(pkg.name));
    if (!kernelPackage) throw new B2cError(`${arch.kernelPackage} names no linux-image package in ${options.suite}`);
  }
  progress.update(`${imagePackages.length} packages for the image, kernel ${kernelPackage?.name.slice('linux-image-'.length) ?? `of ${options.kernel?.path}`}`);

  progress.step('downloading packages');
  const debs = await apt.download([...imagePackages, ...(kernelPackage ? [kernelPackage] : [])], (done, total, names) =>
    progress.update(names === '' ? `${total} packages ready in ${apt.archives}` : `${done}/${total} ${names}`),
  );

  progress.step('extracting packages');
  const root = new PackageRoot();
  for (const [index, pkg] of imagePackages.entries()) {
    if (!existsSync(extractedPath(debs[index] as string, options.cacheDir))) progress.update(`${index + 1}/${imagePackages.length} ${pkg.name}`);
    await root.addPackage(pkg, await extractDeb(system, debs[index] as string, options.cacheDir));
  }
  const kernel =
    options.kernel !== undefined || kernelPackage === undefined
      ? await ownKernel(system, (options.kernel as { path: string }).path, options.kernel?.image, arch, join(workDir, 'own-kernel'))
      : await debianKernel(system, kernelPackage, debs[debs.length - 1] as string, arch, options.cacheDir);

  progress.step('assembling the image');
  const debianSource = { suite: options.suite, mirror: options.mirror ?? DEFAULT_MIRROR, keyring: options.keyring ?? DEFAULT_KEYRING };
  const keymapTools = await DebianTools.prepare(KEYMAP_PACKAGES, { cacheDir: options.cacheDir, source: debianSource });
  const tree = await assembleBaseTree(root, arch, keymapTools);

  progress.step(`kernel modules for ${kernel.release}`);
  let strip: string[] | undefined;
  if (arch.moduleStrip !== undefined) {
    const stripTools = await DebianTools.prepare([arch.moduleStrip.package], { cacheDir: options.cacheDir, source: debianSource });
    strip = stripTools.command(arch.moduleStrip.package, arch.moduleStrip.program);
  }
  const needsAddonModules = options.addons.includes('modules') || options.addons.includes('firmware');
  const modules = await stageKernelModules(system, kernel, arch, needsAddonModules, workDir, strip, progress);
  await addImageModules(tree, modules, kernel, arch);

  progress.step('firmware the drivers ask for');
  const firmware = new FirmwareSource(apt, system, options.cacheDir);
  const firmwareModules = modules.selection.files.filter((path) => IMAGE_FIRMWARE.modules.includes(moduleName(path)));
  const imageFirmware = selectFirmware(await firmwareNamesOf(modules.staged, firmwareModules), await firmware.root(IMAGE_FIRMWARE.packages));
  for (const found of imageFirmware.files) {
    tree.add(`${FIRMWARE_FOLDER}/${found.name}`, { kind: 'file', mode: 0o644, data: await firmware.read(found), origin: found.origin });
  }
  progress.update(
    `${imageFirmware.files.length} files from ${IMAGE_FIRMWARE.packages.join(', ')}; ${imageFirmware.missing.length} named by the drivers but in no package`,
  );

  progress.step('bundling the init');
  tree.add('init', { kind: 'file', mode: 0o755, data: new TextEncoder().encode(await bundleInit(options.version)), origin: 'b2c' });

  const names = outputNames(arch.debian);
  const cpioPath = join(options.outDir, names.initramfs.none);
  progress.step('writing the archive');
  const { entries, unpackedBytes } = await writeCpio(tree, cpioPath, options.sourceDateEpoch);
  progress.update(`${entries} entries, ${megabytes(unpackedBytes)} unpacked`);
  const result: BuildResult = {
    initramfs: { xz: undefined, zstd: undefined, none: undefined },
    kernel: join(options.outDir, names.kernel),
    manifest: join(options.outDir, names.manifest),
    unpackedBytes,
    sizes: {},
    addons: {},
  };
  const compressions = farmCompressions(options);
  for (const compression of compressions) {
    if (compression === 'none') continue;
    progress.step(`compressing with ${compression}`);
    const target = join(options.outDir, names.initramfs[compression]);
    await writeAtomically(target, (path) => compress(cpioPath, path, compression, arch));
    result.initramfs[compression] = target;
    result.sizes[compression] = (await stat(target)).size;
  }
  if (compressions.has('none')) {
    result.initramfs.none = cpioPath;
    result.sizes.none = unpackedBytes;
  } else {
    await rm(cpioPath);
  }
  await writeAtomically(result.kernel, (path) => copyFile(kernel.image, path));

  const context: AddonContext = { system, arch, firmware, workDir, sourceDateEpoch: options.sourceDateEpoch, progress };
  if (options.addons.includes('modules')) {
    progress.step('writing the modules add-on');
    result.addons.modules = await writeModulesAddon(context, modules, kernel, join(options.outDir, names.addons.modules));
  }
  if (options.addons.includes('firmware')) {
    progress.step('writing the firmware add-on');
    result.addons.firmware = await writeFirmwareAddon(context, modules, imageFirmware.files, join(options.outDir, names.addons.firmware));
  }
  if (options.addons.includes('gpu-firmware')) {
    progress.step('writing the GPU firmware add-on');
    result.addons['gpu-firmware'] = await writeGpuFirmwareAddon(context, join(options.outDir, names.addons['gpu-firmware']));
  }
  if (options.addons.includes('dtbs')) {
    progress.step('copying the device trees');
    const deviceTrees = await copyDeviceTrees(kernel, join(options.outDir, names.addons.dtbs), progress);
    if (deviceTrees !== undefined) result.addons.dtbs = deviceTrees;
    else {
      // `--arch all --addons dtbs` asks it of amd64 too: not a failure.
      progress.update(
        kernel.own && kernelPackage === undefined && !(options.kernel?.path ?? '').endsWith('.deb')
          ? `none come with a kernel folder: the bootloader takes those of make dtbs_install`
          : `${kernel.name} has none: its machines boot without one`,
      );
    }
  }

  const manifest = buildManifest(tree, [...imagePackages, ...(kernelPackage ? [kernelPackage] : []), ...firmware.packages], {
    arch: arch.debian,
    suite: options.suite,
    kernel: { package: kernel.name, version: kernel.version, release: kernel.release },
    sizes: { unpacked: unpackedBytes, ...result.sizes },
    moduleFamilies: modules.familyBytes,
    addons: Object.fromEntries(Object.entries(result.addons).map(([name, addon]) => [name, { bytes: addon.bytes, unpacked: addon.unpackedBytes }])),
  });
  await writeAtomically(result.manifest, (path) => writeFile(path, `${JSON.stringify(manifest, null, 2)}\n`));
  return result;
}

/** Debian's kernel of the suite, extracted into the host cache. */
async function debianKernel(system: System, pkg: DebianPackage, deb: string, arch: Architecture, cacheDir: string): Promise<KernelSource> {
  const release = pkg.name.slice('linux-image-'.length);
  const extracted = await extractDeb(system, deb, cacheDir);
  const image = join(extracted, 'boot', `${arch.kernelImage}-${release}`);
  if (!existsSync(image)) throw new B2cError(`${pkg.name} has no /boot/${arch.kernelImage}-${release}, the kernel image b2c ships for ${arch.debian}`);
  const dtbs = join(extracted, 'usr/lib', `linux-image-${release}`);
  return {
    name: pkg.name,
    version: pkg.version,
    release,
    image,
    modulesDir: join(extracted, 'usr/lib/modules', release),
    ...(existsSync(dtbs) ? { dtbs } : {}),
    own: false,
  };
}
