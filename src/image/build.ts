// `b2c build`: Debian packages in, initramfs + kernel + manifest out, byte-identical for the same package versions.

import { createWriteStream, existsSync } from 'node:fs';
import { copyFile, cp, mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { architecture } from '../architectures.ts';
import { B2cError } from '../errors.ts';
import {
  ADDON_ALIASES_FOLDER,
  BOOT_MODULES_LIST,
  CA_BUNDLE,
  KEYMAP_FOLDER,
  MODULE_INDEX_FILES,
  MODULE_INDEXES_FOLDER,
  PODMAN_GRAPHROOT,
  UDHCPC_SCRIPT,
} from '../image-layout.ts';
import { runChecked, type System } from '../system/system.ts';
import { DEFAULT_KEYRING, DEFAULT_MIRROR, PrivateApt, type DebianPackage } from './apt.ts';
import { busyboxAppletNames } from './busybox.ts';
import { compress } from './compression.ts';
import { etcFiles, netavarkStub, udhcpcScript } from './config-files.ts';
import {
  ADDON_FIRMWARE_PACKAGES,
  ARCHITECTURE_MODULE_FAMILIES,
  ADDON_MODULE_FAMILIES,
  ADDON_MODULE_FOLDERS,
  ADDON_MODULES,
  BOOT_MODULES,
  GPU_FIRMWARE,
  IMAGE_DATA_FILES,
  IMAGE_FIRMWARE,
  imageModules,
  IMAGE_PACKAGES,
  IMAGE_PROGRAMS,
  MODULE_FAMILIES,
  MODULES_SOME_KERNELS_LACK,
  REQUIRED_APPLETS,
} from './contents.ts';
import { cpioChunks } from './cpio.ts';
import { DebianTools } from './debian-tools.ts';
import { bundleInit } from './init-bundle.ts';
import { compileKeymaps, KEYMAP_PACKAGES } from './keymaps.ts';
import { addPath, addProgram, readFileFromRoot } from './library-closure.ts';
import { buildManifest, megabytes } from './manifest.ts';
import { indexKernelModules, indexLinesFor, moduleName, modulesBelow, selectModules, stagedModulePath, stageModules, type ModuleSelection } from './modules.ts';
import { ownKernel, type KernelSource } from './kernel-source.ts';
import { FIRMWARE_FOLDER, firmwareBelow, moduleFirmwareNames, selectFirmware, storedOnce, type FirmwareFile } from './firmware.ts';
import { outputNames, type Addon, type Compression } from './output-names.ts';
import { extractDeb, extractedPath, MERGED_USR_LINKS, PackageRoot } from './package-root.ts';
import type { Progress } from './progress.ts';
import { ImageTree } from './tree.ts';

export interface BuildOptions {
  arch: string;
  suite: string;
  mirror?: string;
  keyring?: string;
  cacheDir: string;
  outDir: string;
  /** xz is always written: it is the archive farms fetch. */
  compressions: Compression[];
  /** Fetch the package lists again even when cached. */
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
}

export async function buildImage(system: System, options: BuildOptions, progress: Progress): Promise<BuildResult> {
  const arch = architecture(options.arch);
  const apt = new PrivateApt(system, options.cacheDir, {
    suite: options.suite,
    arch: arch.debian,
    mirror: options.mirror ?? DEFAULT_MIRROR,
    keyring: options.keyring ?? DEFAULT_KEYRING,
  });

  progress.step(`package lists for ${options.suite}/${arch.debian}`);
  const lists = await apt.prepare(options.refresh);
  progress.update(lists === 'cached' ? 'using the cached lists (--refresh fetches them again)' : 'fetched and verified');

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
    const deb = debs[index] as string;
    if (!existsSync(extractedPath(deb, options.cacheDir))) progress.update(`${index + 1}/${imagePackages.length} ${pkg.name}`);
    await root.addPackage(pkg, await extractDeb(system, deb, options.cacheDir));
  }
  const kernel =
    kernelPackage === undefined || options.kernel !== undefined
      ? await ownKernel(
          system,
          (options.kernel as { path: string }).path,
          options.kernel?.image,
          arch,
          join(options.cacheDir, 'work', `own-kernel-${arch.debian}`),
        )
      : await debianKernel(system, kernelPackage, debs[debs.length - 1] as string, arch, options.cacheDir);
  const kernelVersion = kernel.release;

  progress.step('assembling the image');
  const tree = new ImageTree();
  layOutBase(tree);
  for (const program of IMAGE_PROGRAMS) await addProgram(tree, root, arch, program);
  for (const path of IMAGE_DATA_FILES) await addPath(tree, root, path);
  await addBusyboxApplets(tree, root);
  await addCaCertificates(tree, root);
  const debianSource = { suite: options.suite, mirror: options.mirror ?? DEFAULT_MIRROR, keyring: options.keyring ?? DEFAULT_KEYRING };
  const tools = await DebianTools.prepare(KEYMAP_PACKAGES, { cacheDir: options.cacheDir, source: debianSource });
  for (const [name, data] of compileKeymaps(tools))
    tree.add(`${KEYMAP_FOLDER.slice(1)}/${name}.bmap`, { kind: 'file', mode: 0o644, data, origin: 'console-data' });

  progress.step(`kernel modules for ${kernelVersion}`);
  const index = await indexKernelModules(
    system,
    kernel.modulesDir,
    kernelVersion,
    kernel.own ? join(options.cacheDir, 'work', `own-kernel-index-${arch.debian}`) : undefined,
  );
  // A farm's kernel may build in, or leave out, any module of the policy: the image takes what it has.
  const mayLack = kernel.own ? [...imageModules(arch.debian), ...ADDON_MODULES] : MODULES_SOME_KERNELS_LACK;
  const selection = selectModules(imageModules(arch.debian), index.modulesDep, index.modulesBuiltin, index.modulesSoftdep, mayLack);
  const inImage = new Set(selection.files);
  // The add-on's modules may need the image's: those stay in the image only.
  const addonModules = [...ADDON_MODULES, ...modulesBelow(ADDON_MODULE_FOLDERS, index.modulesDep)];
  const addonFiles = selectModules(addonModules, index.modulesDep, index.modulesBuiltin, index.modulesSoftdep, mayLack).files.filter(
    (path) => !inImage.has(path),
  );
  let strip: string[] | undefined;
  if (arch.moduleStrip !== undefined) {
    const stripTools = await DebianTools.prepare([arch.moduleStrip.package], { cacheDir: options.cacheDir, source: debianSource });
    strip = stripTools.command(arch.moduleStrip.package, arch.moduleStrip.program);
  }
  // The image's modules get a depmod of their own: with more modules beside them, depmod orders their dependency lists
  // otherwise, and the image would differ with the add-on built or not.
  const work = join(options.cacheDir, 'work');
  const staged = await stageModules(system, index.modulesDir, kernelVersion, selection, join(work, `modules-${arch.debian}`), strip);
  // The add-ons' modules next to the image's, which they may need; the firmware add-on reads what they ask for.
  const withAddon: ModuleSelection = { files: [...selection.files, ...addonFiles], builtin: selection.builtin };
  const stagedWithAddon =
    options.addons.includes('modules') || options.addons.includes('firmware')
      ? await stageModules(system, index.modulesDir, kernelVersion, withAddon, join(work, `modules-addon-${arch.debian}`), strip)
      : staged;
  const modulesFolder = `usr/lib/modules/${kernelVersion}`;
  await addModules(tree, staged, modulesFolder, selection.files, 'image', kernel.name);
  for (const name of ['modules.order', 'modules.builtin', 'modules.builtin.modinfo']) {
    if (existsSync(join(staged, name)))
      tree.add(`${modulesFolder}/${name}`, { kind: 'file', mode: 0o644, data: await readFile(join(staged, name)), origin: kernel.name });
  }
  // Which add-on has the driver a device needs, for a machine booted without it.
  const addonNames = new Set(addonFiles.map(moduleName));
  // From the whole kernel's index: the image's own staging has none of the add-on's modules.
  const aliases = existsSync(join(index.indexDir, 'modules.alias')) ? await readFile(join(index.indexDir, 'modules.alias'), 'utf8') : '';
  const addonFile = outputNames(arch.debian).addons.modules;
  // Only the buses the driver report lists: an ACPI or DMI alias would never be looked up.
  const reportedAliases = indexLinesFor('modules.alias', aliases, addonNames)
    .split('\n')
    .filter((line) => REPORTED_ALIAS_PREFIXES.some((prefix) => line.startsWith(`alias ${prefix}`)))
    .map((line) => `${line}\n`)
    .join('');
  tree.add(`${modulesFolder}/${ADDON_ALIASES_FOLDER}/modules`, file(`# ${addonFile}\n${reportedAliases}`, 'b2c'));
  tree.add(BOOT_MODULES_LIST.slice(1), file(`${BOOT_MODULES.join('\n')}\n`, 'b2c'));
  const lacking = selection.missing ? `; not in this kernel: ${selection.missing.join(', ')}` : '';
  for (const needed of ['overlay', 'ext4']) {
    if (selection.missing?.includes(needed))
      progress.update(`warning: this kernel has no ${needed}, built in or as a module: ${needed === 'overlay' ? 'podman cannot run' : 'no cache disk'}`);
  }
  progress.update(`${selection.files.length} modules (built in: ${selection.builtin.join(', ') || 'none'}${lacking})`);
  const moduleFamilyBytes: Record<string, number> = {};
  for (const [family, names] of Object.entries({ ...MODULE_FAMILIES, ...ARCHITECTURE_MODULE_FAMILIES[arch.debian] })) {
    const files = selectModules(names, index.modulesDep, index.modulesBuiltin, index.modulesSoftdep, mayLack).files;
    moduleFamilyBytes[family] = (await Promise.all(files.map(async (path) => (await stat(join(staged, stagedModulePath(path)))).size))).reduce(
      (sum, size) => sum + size,
      0,
    );
  }
  progress.update(
    Object.entries(moduleFamilyBytes)
      .map(([family, bytes]) => `${family} ${megabytes(bytes)}`)
      .join(', '),
  );

  progress.step('firmware the drivers ask for');
  const firmware = new FirmwareSource(apt, system, options.cacheDir);
  const firmwareModules = selection.files.filter((path) => IMAGE_FIRMWARE.modules.includes(moduleName(path)));
  const imageFirmware = selectFirmware(await firmwareNamesOf(staged, firmwareModules), await firmware.root(IMAGE_FIRMWARE.packages));
  for (const found of imageFirmware.files) {
    tree.add(`${FIRMWARE_FOLDER}/${found.name}`, { kind: 'file', mode: 0o644, data: await firmware.read(found), origin: found.origin });
  }
  progress.update(
    `${imageFirmware.files.length} files from ${IMAGE_FIRMWARE.packages.join(', ')}; ${imageFirmware.missing.length} named by the drivers but in no package`,
  );

  progress.step('bundling the init');
  tree.add('init', { kind: 'file', mode: 0o755, data: new TextEncoder().encode(await bundleInit(options.version)), origin: 'b2c' });

  const names = outputNames(arch.debian);
  await mkdir(options.outDir, { recursive: true });
  const cpioPath = join(options.outDir, names.initramfs.none);
  const entries = tree.toCpioEntries();
  const unpackedBytes = entries.reduce((sum, entry) => sum + entry.data.length, 0);
  progress.step(`writing the archive: ${entries.length} entries, ${megabytes(unpackedBytes)} unpacked`);
  await writeAtomically(cpioPath, (path) => pipeline(Readable.from(cpioChunks(entries, options.sourceDateEpoch)), createWriteStream(path)));

  const result: BuildResult = {
    initramfs: { xz: undefined, zstd: undefined, none: undefined },
    kernel: join(options.outDir, names.kernel),
    manifest: join(options.outDir, names.manifest),
    unpackedBytes,
    sizes: {},
    addons: {},
  };
  const compressions = new Set<Compression>(['xz', ...options.compressions]);
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

  await copyFile(kernel.image, result.kernel);

  if (options.addons.includes('modules')) {
    progress.step('writing the modules add-on');
    const addon = new ImageTree();
    // Each module compressed on its own, which busybox's modprobe reads: the add-on costs its compressed size in RAM, not five times that.
    await compressEach(
      system,
      addonFiles.map((path) => join(stagedWithAddon, stagedModulePath(path))),
    );
    await addModules(addon, stagedWithAddon, modulesFolder, addonFiles, 'modules', kernel.name, true);
    const target = join(options.outDir, names.addons.modules);
    const written = await writeArchive(addon, target, options.sourceDateEpoch, arch);
    result.addons.modules = written;
    const families = Object.entries(ADDON_MODULE_FAMILIES).map(([family, modules]) => `${family} (${modules.join(', ')})`);
    progress.update(`${addonFiles.length} modules: ${families.join(', ')}; ${megabytes(written.bytes)}, ${megabytes(written.unpackedBytes)} unpacked`);
  }

  if (options.addons.includes('firmware')) {
    progress.step('writing the firmware add-on');
    const names = await firmwareNamesOf(stagedWithAddon, [...selection.files, ...addonFiles]);
    const inImageFirmware = new Set(imageFirmware.files.map((found) => found.name));
    const chosen = selectFirmware(names, await firmware.root(ADDON_FIRMWARE_PACKAGES));
    const files = chosen.files.filter((found) => !inImageFirmware.has(found.name));
    const written = await writeFirmwareAddon(system, firmware, files, join(options.outDir, outputNames(arch.debian).addons.firmware), options, arch);
    result.addons.firmware = written;
    progress.update(
      `${files.length} files for ${names.length} names the drivers ask for (${chosen.missing.length} in no package); ` +
        `${megabytes(written.bytes)}, ${megabytes(written.unpackedBytes)} unpacked`,
    );
  }
  if (options.addons.includes('gpu-firmware')) {
    progress.step('writing the GPU firmware add-on');
    const files: FirmwareFile[] = [];
    const folderLinks: Array<{ name: string; target: string }> = [];
    const missing: string[] = [];
    for (const [pkg, folders] of Object.entries(GPU_FIRMWARE)) {
      const chosen = firmwareBelow(folders, await firmware.root([pkg]));
      files.push(...chosen.files);
      folderLinks.push(...chosen.folderLinks);
      missing.push(...chosen.missing);
    }
    const target = join(options.outDir, outputNames(arch.debian).addons['gpu-firmware']);
    const written = await writeFirmwareAddon(
      system,
      firmware,
      files,
      target,
      options,
      arch,
      (done) => progress.update(`compressing ${done}/${files.length}`),
      folderLinks,
    );
    result.addons['gpu-firmware'] = written;
    const dangling = missing.length > 0 ? ` (${missing.length} links lead to no file: ${missing.slice(0, 3).join(', ')})` : '';
    progress.update(
      `${files.length} files and ${folderLinks.length} folder links of ${Object.keys(GPU_FIRMWARE).join(', ')}${dangling}; ` +
        `${megabytes(written.bytes)}, ${megabytes(written.unpackedBytes)} unpacked`,
    );
  }
  if (options.addons.includes('dtbs')) {
    progress.step('copying the device trees');
    const target = join(options.outDir, outputNames(arch.debian).addons.dtbs);
    if (kernel.dtbs === undefined) {
      // `--arch all --addons dtbs` asks it of amd64 too: not a failure.
      progress.update(
        kernel.own && kernelPackage === undefined && !(options.kernel?.path ?? '').endsWith('.deb')
          ? `none come with a kernel folder: the bootloader takes those of make dtbs_install`
          : `${kernel.name} has none: its machines boot without one`,
      );
    } else {
      await rm(`${target}.partial`, { recursive: true, force: true });
      await cp(kernel.dtbs, `${target}.partial`, { recursive: true });
      await rm(target, { recursive: true, force: true });
      await rename(`${target}.partial`, target);
      const boards = (await readdir(target, { recursive: true })).filter((name) => name.endsWith('.dtb'));
      progress.update(`${boards.length} device trees in ${target}`);
    }
  }

  const manifest = buildManifest(tree, [...imagePackages, ...(kernelPackage ? [kernelPackage] : []), ...firmware.packages], {
    arch: arch.debian,
    suite: options.suite,
    kernel: { package: kernel.name, version: kernel.version, release: kernelVersion },
    sizes: { unpacked: unpackedBytes, ...result.sizes },
    moduleFamilies: moduleFamilyBytes,
    addons: Object.fromEntries(Object.entries(result.addons).map(([name, addon]) => [name, { bytes: addon.bytes, unpacked: addon.unpackedBytes }])),
  });
  await writeFile(result.manifest, `${JSON.stringify(manifest, null, 2)}\n`);
  return result;
}

/** The kinds of modalias `/init`'s report of devices without a driver names (src/init/devices.ts). */
const REPORTED_ALIAS_PREFIXES = ['pci:', 'usb:', 'virtio:', 'of:'];

/** The folders, device node and links every boot needs before any package file. */
function layOutBase(tree: ImageTree): void {
  for (const dir of ['dev', 'proc', 'sys', 'run', 'tmp', 'var/tmp', 'root', 'usr/bin', 'usr/lib', 'usr/lib64', 'mnt', PODMAN_GRAPHROOT.slice(1)])
    tree.mkdir(dir);
  tree.add('tmp', { kind: 'dir', mode: 0o1777 });
  // The kernel opens /dev/console for init's stdio before anything is mounted.
  tree.add('dev/console', { kind: 'chardev', mode: 0o600, major: 5, minor: 1 });
  for (const [link, target] of MERGED_USR_LINKS) tree.add(link, { kind: 'symlink', target, origin: 'b2c' });
  // e4crypt finds the ext4 filesystems' salts through /etc/mtab.
  tree.add('etc/mtab', { kind: 'symlink', target: '/proc/self/mounts', origin: 'b2c' });
  for (const [path, text] of Object.entries(etcFiles())) tree.add(path, file(text, 'b2c'));
  tree.add(UDHCPC_SCRIPT.slice(1), { ...file(udhcpcScript(), 'b2c'), mode: 0o755 });
  tree.add('usr/lib/podman/netavark', { ...file(netavarkStub(), 'b2c'), mode: 0o755 });
}

function file(text: string, origin: string): { kind: 'file'; mode: number; data: Uint8Array; origin: string } {
  return { kind: 'file', mode: 0o644, data: new TextEncoder().encode(text), origin };
}

async function addBusyboxApplets(tree: ImageTree, root: PackageRoot): Promise<void> {
  const applets = busyboxAppletNames(await readFileFromRoot(root, '/usr/bin/busybox'));
  for (const needed of REQUIRED_APPLETS) {
    if (!applets.includes(needed)) throw new B2cError(`this busybox has no ${needed} applet, which /init needs`);
  }
  for (const applet of applets) {
    if (applet === 'busybox' || tree.has(`usr/bin/${applet}`)) continue;
    tree.add(`usr/bin/${applet}`, { kind: 'symlink', target: 'busybox', origin: 'busybox' });
  }
}

/** What update-ca-certificates would make: every certificate the package ships, in one bundle. */
async function addCaCertificates(tree: ImageTree, root: PackageRoot): Promise<void> {
  const certificates = root.below('/usr/share/ca-certificates').filter((path) => path.endsWith('.crt'));
  if (certificates.length === 0) throw new B2cError('ca-certificates ships no certificate');
  const parts: Uint8Array[] = [];
  for (const path of certificates) parts.push(await readFileFromRoot(root, path));
  const bundle = Buffer.concat(parts.map((part) => (part[part.length - 1] === 0x0a ? part : Buffer.concat([part, Buffer.from('\n')]))));
  tree.add(CA_BUNDLE.slice(1), { kind: 'file', mode: 0o644, data: bundle, origin: 'ca-certificates' });
}

/**
 * The staged `files` (as modules.dep names them, maybe compressed) and the
 * lines of the index about them, under the archive's own index folder;
 * `compressed`: the `.ko.xz` staged beside each, named so in modules.dep.
 */
async function addModules(
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
    tree.add(`${modulesFolder}/${MODULE_INDEXES_FOLDER}/${indexName}/${indexFile}`, file(lines, 'b2c'));
  }
}

/** Writes a tree as an xz cpio archive beside the image, atomically. */
async function writeArchive(
  tree: ImageTree,
  target: string,
  sourceDateEpoch: number,
  arch: ReturnType<typeof architecture>,
): Promise<{ path: string; bytes: number; unpackedBytes: number }> {
  const entries = tree.toCpioEntries();
  const cpioPath = `${target}.cpio`;
  try {
    await writeAtomically(cpioPath, (path) => pipeline(Readable.from(cpioChunks(entries, sourceDateEpoch)), createWriteStream(path)));
    await writeAtomically(target, (path) => compress(cpioPath, path, 'xz', arch));
  } finally {
    await rm(cpioPath, { force: true });
  }
  return { path: target, bytes: (await stat(target)).size, unpackedBytes: entries.reduce((sum, entry) => sum + entry.data.length, 0) };
}

async function writeAtomically(target: string, write: (path: string) => Promise<void>): Promise<void> {
  const partial = `${target}.partial`;
  try {
    await write(partial);
    await rename(partial, target);
  } finally {
    await rm(partial, { force: true });
  }
}

/** Debian's kernel of the suite, extracted into the cache. */
async function debianKernel(system: System, pkg: DebianPackage, deb: string, arch: ReturnType<typeof architecture>, cacheDir: string): Promise<KernelSource> {
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

/** The firmware names the staged modules declare. */
async function firmwareNamesOf(staged: string, files: readonly string[]): Promise<string[]> {
  const names = new Set<string>();
  for (const path of files) {
    for (const name of moduleFirmwareNames(await readFile(join(staged, stagedModulePath(path))))) names.add(name);
  }
  return [...names];
}

/** Debian's firmware packages, fetched and extracted on first use, each set seen as one package root. */
class FirmwareSource {
  private readonly roots = new Map<string, PackageRoot>();
  /** Every package fetched, for the manifest (which lists those the image took files from). */
  readonly packages: DebianPackage[] = [];

  constructor(
    private readonly apt: PrivateApt,
    private readonly system: System,
    private readonly cacheDir: string,
  ) {}

  async root(packages: readonly string[]): Promise<PackageRoot> {
    const key = packages.join(' ');
    const known = this.roots.get(key);
    if (known !== undefined) return known;
    const resolved = await this.apt.resolve(packages);
    this.packages.push(...resolved.filter((pkg) => !this.packages.some((known) => known.name === pkg.name)));
    const debs = await this.apt.download(resolved, () => undefined);
    const root = new PackageRoot();
    for (const [index, pkg] of resolved.entries()) await root.addPackage(pkg, await extractDeb(this.system, debs[index] as string, this.cacheDir));
    this.roots.set(key, root);
    return root;
  }

  /** The bytes of a selected file, from whichever root indexed it. */
  async read(found: FirmwareFile): Promise<Uint8Array> {
    for (const root of this.roots.values()) {
      const file = root.files.get(found.source);
      if (file !== undefined) return readFile(file.hostPath);
    }
    throw new B2cError(`/${found.source} is in none of the firmware packages`);
  }
}

/**
 * Writes firmware files as an add-on archive, each compressed with xz on its
 * own: the kernel's loader reads `NAME.xz` (with CRC32 checks, which its
 * decoder knows), so the files cost their compressed size in RAM.
 */
async function writeFirmwareAddon(
  system: System,
  firmware: FirmwareSource,
  files: readonly FirmwareFile[],
  target: string,
  options: BuildOptions,
  arch: ReturnType<typeof architecture>,
  onProgress: (done: number) => void = () => undefined,
  folderLinks: ReadonlyArray<{ name: string; target: string }> = [],
): Promise<{ path: string; bytes: number; unpackedBytes: number }> {
  const work = join(options.cacheDir, 'work', `firmware-${arch.debian}`);
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
    system,
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
  return writeArchive(addon, target, options.sourceDateEpoch, arch);
}

/**
 * Compresses each file with xz beside itself (`NAME.xz`, the original kept),
 * with CRC32 checks, which the kernel's firmware loader and busybox's
 * modprobe both read; a hundred files per xz run.
 */
async function compressEach(system: System, paths: readonly string[], onProgress: (done: number) => void = () => undefined): Promise<void> {
  for (let start = 0; start < paths.length; start += 100) {
    const batch = paths.slice(start, start + 100);
    await runChecked(system, ['xz', '--check=crc32', '--threads=1', '-6', '--keep', '--force', '--', ...batch], { context: 'compressing files of an add-on' });
    onProgress(start + batch.length);
  }
}
