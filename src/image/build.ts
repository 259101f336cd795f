// `b2c build`: Debian packages in, initramfs + kernel + manifest out, byte-identical for the same package versions.

import { createWriteStream, existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
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
import type { System } from '../system/system.ts';
import { DEFAULT_KEYRING, DEFAULT_MIRROR, PrivateApt } from './apt.ts';
import { busyboxAppletNames } from './busybox.ts';
import { compress } from './compression.ts';
import { etcFiles, netavarkStub, udhcpcScript } from './config-files.ts';
import {
  ADDON_MODULE_FAMILIES,
  ADDON_MODULES,
  BOOT_MODULES,
  IMAGE_DATA_FILES,
  IMAGE_MODULES,
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
import { indexKernelModules, indexLinesFor, moduleName, selectModules, stageModules, type ModuleSelection } from './modules.ts';
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
  const kernelPackage = (await apt.resolve([arch.kernelPackage])).find((pkg) => /^linux-image-\d/.test(pkg.name));
  if (!kernelPackage) throw new B2cError(`${arch.kernelPackage} names no linux-image package in ${options.suite}`);
  const kernelVersion = kernelPackage.name.slice('linux-image-'.length);
  progress.update(`${imagePackages.length} packages for the image, kernel ${kernelVersion}`);

  progress.step('downloading packages');
  const debs = await apt.download([...imagePackages, kernelPackage], (done, total, names) =>
    progress.update(names === '' ? `${total} packages ready in ${apt.archives}` : `${done}/${total} ${names}`),
  );

  progress.step('extracting packages');
  const root = new PackageRoot();
  for (const [index, pkg] of imagePackages.entries()) {
    const deb = debs[index] as string;
    if (!existsSync(extractedPath(deb, options.cacheDir))) progress.update(`${index + 1}/${imagePackages.length} ${pkg.name}`);
    await root.addPackage(pkg, await extractDeb(system, deb, options.cacheDir));
  }
  const extractedKernel = await extractDeb(system, debs[debs.length - 1] as string, options.cacheDir);
  const kernelImage = join(extractedKernel, 'boot', `${arch.kernelImage}-${kernelVersion}`);
  if (!existsSync(kernelImage))
    throw new B2cError(`${kernelPackage.name} has no /boot/${arch.kernelImage}-${kernelVersion}, the kernel image b2c ships for ${arch.debian}`);

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
  const index = await indexKernelModules(system, extractedKernel, kernelVersion);
  const selection = selectModules([...IMAGE_MODULES, ...arch.modules], index.modulesDep, index.modulesBuiltin, index.modulesSoftdep, MODULES_SOME_KERNELS_LACK);
  const inImage = new Set(selection.files);
  // The add-on's modules may need the image's: those stay in the image only.
  const addonFiles = selectModules(ADDON_MODULES, index.modulesDep, index.modulesBuiltin, index.modulesSoftdep, MODULES_SOME_KERNELS_LACK).files.filter(
    (path) => !inImage.has(path),
  );
  let strip: string[] | undefined;
  if (arch.moduleStrip !== undefined) {
    const stripTools = await DebianTools.prepare([arch.moduleStrip.package], { cacheDir: options.cacheDir, source: debianSource });
    strip = stripTools.command(arch.moduleStrip.package, arch.moduleStrip.program);
  }
  // One depmod over both sets, whether the add-on is written or not: the image's index is then the same either way.
  const everything: ModuleSelection = { files: [...selection.files, ...addonFiles], builtin: selection.builtin };
  const staged = await stageModules(system, index.modulesDir, kernelVersion, everything, join(options.cacheDir, 'work', `modules-${arch.debian}`), strip);
  const modulesFolder = `usr/lib/modules/${kernelVersion}`;
  await addModules(tree, staged, modulesFolder, selection.files, 'image', kernelPackage.name);
  for (const name of ['modules.order', 'modules.builtin', 'modules.builtin.modinfo']) {
    if (existsSync(join(staged, name)))
      tree.add(`${modulesFolder}/${name}`, { kind: 'file', mode: 0o644, data: await readFile(join(staged, name)), origin: kernelPackage.name });
  }
  // Which add-on has the driver a device needs, for a machine booted without it.
  const addonNames = new Set(addonFiles.map(moduleName));
  const aliases = existsSync(join(staged, 'modules.alias')) ? await readFile(join(staged, 'modules.alias'), 'utf8') : '';
  const addonFile = outputNames(arch.debian).addons.modules;
  tree.add(`${modulesFolder}/${ADDON_ALIASES_FOLDER}/modules`, file(`# ${addonFile}\n${indexLinesFor('modules.alias', aliases, addonNames)}`, 'b2c'));
  tree.add(BOOT_MODULES_LIST.slice(1), file(`${BOOT_MODULES.join('\n')}\n`, 'b2c'));
  const lacking = selection.missing ? `; not in this kernel: ${selection.missing.join(', ')}` : '';
  progress.update(`${selection.files.length} modules (built in: ${selection.builtin.join(', ') || 'none'}${lacking})`);
  const moduleFamilyBytes: Record<string, number> = {};
  for (const [family, names] of Object.entries(MODULE_FAMILIES)) {
    const files = selectModules(names, index.modulesDep, index.modulesBuiltin, index.modulesSoftdep, MODULES_SOME_KERNELS_LACK).files;
    moduleFamilyBytes[family] = (await Promise.all(files.map(async (path) => (await stat(join(staged, path.replace(/\.(xz|zst|gz)$/, '')))).size))).reduce(
      (sum, size) => sum + size,
      0,
    );
  }
  progress.update(
    Object.entries(moduleFamilyBytes)
      .map(([family, bytes]) => `${family} ${megabytes(bytes)}`)
      .join(', '),
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

  await copyFile(kernelImage, result.kernel);

  if (options.addons.includes('modules')) {
    progress.step('writing the modules add-on');
    const addon = new ImageTree();
    await addModules(addon, staged, modulesFolder, addonFiles, 'modules', kernelPackage.name);
    const target = join(options.outDir, names.addons.modules);
    const written = await writeArchive(addon, target, options.sourceDateEpoch, arch);
    result.addons.modules = written;
    const families = Object.entries(ADDON_MODULE_FAMILIES).map(([family, modules]) => `${family} (${modules.join(', ')})`);
    progress.update(`${addonFiles.length} modules: ${families.join(', ')}; ${megabytes(written.bytes)}, ${megabytes(written.unpackedBytes)} unpacked`);
  }

  const manifest = buildManifest(tree, [...imagePackages, kernelPackage], {
    arch: arch.debian,
    suite: options.suite,
    kernel: { package: kernelPackage.name, version: kernelPackage.version, release: kernelVersion },
    sizes: { unpacked: unpackedBytes, ...result.sizes },
    moduleFamilies: moduleFamilyBytes,
    addons: Object.fromEntries(Object.entries(result.addons).map(([name, addon]) => [name, { bytes: addon.bytes, unpacked: addon.unpackedBytes }])),
  });
  await writeFile(result.manifest, `${JSON.stringify(manifest, null, 2)}\n`);
  return result;
}

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

/** The staged `files` (as modules.dep names them, maybe compressed) and the lines of the index about them, under the archive's own index folder. */
async function addModules(tree: ImageTree, staged: string, modulesFolder: string, files: readonly string[], indexName: string, origin: string): Promise<void> {
  const names = new Set<string>();
  for (const path of files) {
    const unpacked = path.replace(/\.(xz|zst|gz)$/, '');
    tree.add(`${modulesFolder}/${unpacked}`, { kind: 'file', mode: 0o644, data: await readFile(join(staged, unpacked)), origin });
    names.add(moduleName(path));
  }
  for (const indexFile of MODULE_INDEX_FILES) {
    const text = existsSync(join(staged, indexFile)) ? await readFile(join(staged, indexFile), 'utf8') : '';
    // depmod wrote the paths uncompressed, as staged.
    tree.add(`${modulesFolder}/${MODULE_INDEXES_FOLDER}/${indexName}/${indexFile}`, file(indexLinesFor(indexFile, text, names), 'b2c'));
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
