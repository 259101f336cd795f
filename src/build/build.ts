// `b2c build`: Debian packages in, initramfs + kernel + manifest out, byte-identical for the same package versions.

import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { copyFile, lstat, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { System } from '../system/system.ts';
import { DEFAULT_KEYRING, DEFAULT_MIRROR, PrivateApt, type DebianPackage } from './apt.ts';
import { architecture, type Architecture } from './architectures.ts';
import { busyboxAppletNames } from './busybox.ts';
import { cpioChunks } from './cpio.ts';
import { isElf, readElfDynamicInfo, readElfExports } from './elf.ts';
import { etcFiles, netavarkStub, PODMAN_GRAPHROOT, udhcpcScript } from './image-config.ts';
import { DebianTools } from './debian-tools.ts';
import { ImageTree } from './image-tree.ts';
import { bundleInit } from './init-bundle.ts';
import { compileKeymaps, KEYMAP_FOLDER, KEYMAP_PACKAGES } from './keymaps.ts';
import { CA_BUNDLE } from '../init/extra-args.ts';
import { indexKernelModules, selectModules, stageModules } from './modules.ts';
import { extractDeb, extractedPath, MERGED_USR_LINKS, PackageRoot } from './package-root.ts';
import type { Progress } from './progress.ts';
import { B2cError } from '../errors.ts';
import { FSCRYPT_MODULES } from '../init/fscrypt.ts';
import { writeStubLibrary } from './stub-library.ts';

export type Compression = 'xz' | 'zstd' | 'none';

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
}

export interface BuildResult {
  initramfs: Record<Compression, string | undefined>;
  kernel: string;
  manifest: string;
  unpackedBytes: number;
  sizes: Partial<Record<Compression, number>>;
}

export interface ManifestFile {
  path: string;
  size: number;
  origin: string;
}

export class BuildError extends B2cError {}

/** The Debian packages the image is made from. */
export const IMAGE_PACKAGES = ['busybox', 'quickjs', 'podman', 'crun', 'conmon', 'ca-certificates', 'e2fsprogs', 'curl', 'rdate'];

/** The programs taken into the image; their libraries and loader follow from their ELF headers. */
export const IMAGE_PROGRAMS = [
  '/usr/bin/busybox', '/usr/bin/qjs', '/usr/bin/podman', '/usr/bin/crun', '/usr/bin/conmon',
  // The cache partition: made and checked with e2fsprogs (busybox has neither for ext4).
  '/usr/sbin/mke2fs', '/usr/sbin/e2fsck',
  // fscrypt on the cache for volumes with fscrypt_key: 27 kB, and its libraries are mke2fs's.
  '/usr/sbin/e4crypt',
  // HTTPS that verifies certificates (extra arguments, S3), and the clock by SNTP: busybox has neither.
  '/usr/bin/curl', '/usr/sbin/rdate',
];

/**
 * Libraries the programs link for features b2c never uses. Each ships as a
 * stub with the same soname, symbols and versions (so the loader, which binds
 * everything at start for curl, is satisfied), whose functions return 0, or
 * -1 for those in `failing`; what the real one needs is left out with it.
 */
export interface StubbedLibrary {
  soname: string;
  failing?: string[];
  why: string;
}

export const STUBBED_LIBRARIES: StubbedLibrary[] = [
  { soname: 'librtmp.so.1', why: "curl's rtmp:// (b2c's curl runs with --proto =http,https); it alone brings GnuTLS, p11-kit, Nettle and GMP" },
  // curl's version string takes a 0 from ldap_get_option as an answer and reads the struct it would have filled.
  { soname: 'libldap.so.2', failing: ['ldap_get_option'], why: "curl's ldap://; brings SASL" },
  { soname: 'liblber.so.2', why: "curl's ldap://" },
  { soname: 'libgssapi_krb5.so.2', why: "curl's Kerberos and SPNEGO authentication, which b2c never asks for; brings the Kerberos libraries" },
  { soname: 'libssh2.so.1', why: "curl's scp:// and sftp://" },
  { soname: 'libidn2.so.0', why: "curl's host names beyond ASCII (such a name is refused: curl finds no IDN support); brings libunistring" },
  { soname: 'libpsl.so.5', why: "curl's cookie domain checks; b2c keeps no cookies" },
  { soname: 'libsubid.so.5', why: "podman's subordinate ids for rootless users; /init runs podman as root; brings PAM, SELinux, audit and libsemanage" },
  { soname: 'libgpgme.so.11', why: "podman's GPG image signatures; the image's policy.json accepts any image; brings libassuan and libgpg-error" },
  // There is no systemd in the image: a stub's 0 from sd_notify means "no NOTIFY_SOCKET", and connecting to
  // a bus or sending to a journal fails as it would with the real library and no systemd running.
  {
    soname: 'libsystemd.so.0',
    failing: ['sd_bus_default_system', 'sd_bus_default_user', 'sd_bus_open_system', 'sd_bus_open_user', 'sd_journal_sendv_with_location', 'sd_journal_send_with_location', 'sd_journal_sendv', 'sd_journal_send'],
    why: "crun's systemd cgroup manager and conmon's journald log driver: the image runs podman with cgroupfs and k8s-file logs",
  },
  { soname: 'libpcre2-8.so.0', why: "GLib's regular expressions (GRegex), which conmon never calls" },
  { soname: 'libbrotlidec.so.1', why: "curl's decoding of brotli responses, which it only asks for with --compressed, which b2c never passes; brings libbrotlicommon" },
];

/** Data files taken as the packages ship them. */
export const IMAGE_DATA_FILES = ['/etc/mke2fs.conf'];

/**
 * Driver families shipped with their dependencies, so that a farm machine's
 * NIC, disk and USB devices work without being named: /init loads what the
 * devices' modaliases match, BOOT_MODULES always, the rest on demand.
 */
export const MODULE_FAMILIES: Record<string, string[]> = {
  virtio: ['virtio_net', 'virtio_blk', 'virtio_scsi', 'virtio_pci', 'virtio_rng'],
  // The NICs of desks and farm racks: Intel and Realtek on board, the common USB adapters.
  network: ['e1000e', 'igb', 'igc', 'r8169', 'r8152', 'ax88179_178a', 'cdc_ether', 'asix'],
  storage: ['nvme', 'ahci', 'sd_mod', 'usb_storage', 'uas'],
  usb: ['xhci_pci', 'ehci_pci'],
  // ext4 asks the crypto API for crc32c when it mounts, not through modules.dep: ship it by name.
  filesystems: ['ext4', 'overlay', 'crc32c_generic'],
  // fscrypt volumes: AES-XTS for contents, AES-CBC-CTS for names; Debian builds aes, cbc and ecb in.
  fscrypt: FSCRYPT_MODULES,
};
export const IMAGE_MODULES = Object.values(MODULE_FAMILIES).flat();
export const BOOT_MODULES = ['overlay'];

/** Names in the output folder for one architecture. */
export function outputNames(arch: string): { initramfs: Record<Compression, string>; kernel: string; manifest: string } {
  return {
    initramfs: {
      xz: `initramfs.linux_${arch}.cpio.xz`,
      zstd: `initramfs.linux_${arch}.cpio.zst`,
      none: `initramfs.linux_${arch}.cpio`,
    },
    kernel: `linux-${arch}`,
    manifest: `manifest.${arch}.json`,
  };
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
  if (!kernelPackage) throw new BuildError(`${arch.kernelPackage} names no linux-image package in ${options.suite}`);
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
  if (!existsSync(kernelImage)) throw new BuildError(`${kernelPackage.name} has no /boot/${arch.kernelImage}-${kernelVersion}, the kernel image b2c ships for ${arch.debian}`);

  progress.step('assembling the image');
  const tree = new ImageTree();
  layOutBase(tree);
  for (const program of IMAGE_PROGRAMS) await addProgram(tree, root, arch, program);
  for (const path of IMAGE_DATA_FILES) await addPath(tree, root, path);
  await addBusyboxApplets(tree, root);
  await addCaCertificates(tree, root);
  const debianSource = { suite: options.suite, mirror: options.mirror ?? DEFAULT_MIRROR, keyring: options.keyring ?? DEFAULT_KEYRING };
  const tools = await DebianTools.prepare(KEYMAP_PACKAGES, { cacheDir: options.cacheDir, source: debianSource });
  for (const [name, data] of compileKeymaps(tools)) tree.add(`${KEYMAP_FOLDER.slice(1)}/${name}.bmap`, { kind: 'file', mode: 0o644, data, origin: 'console-data' });

  progress.step(`kernel modules for ${kernelVersion}`);
  const index = await indexKernelModules(system, extractedKernel, kernelVersion);
  const selection = selectModules([...IMAGE_MODULES, ...arch.modules], index.modulesDep, index.modulesBuiltin);
  let strip: string[] | undefined;
  if (arch.moduleStrip !== undefined) {
    const stripTools = await DebianTools.prepare([arch.moduleStrip.package], { cacheDir: options.cacheDir, source: debianSource });
    strip = stripTools.command(arch.moduleStrip.package, arch.moduleStrip.program);
  }
  const staged = await stageModules(system, index.modulesDir, kernelVersion, selection, join(options.cacheDir, 'work', `modules-${arch.debian}`), strip);
  await addFolder(tree, staged, `usr/lib/modules/${kernelVersion}`, kernelPackage.name);
  tree.add('etc/b2c/modules', file(`${BOOT_MODULES.join('\n')}\n`, 'b2c'));
  progress.update(`${selection.files.length} modules (built in: ${selection.builtin.join(', ') || 'none'})`);
  const moduleFamilyBytes: Record<string, number> = {};
  for (const [family, names] of Object.entries(MODULE_FAMILIES)) {
    const files = selectModules(names, index.modulesDep, index.modulesBuiltin).files;
    moduleFamilyBytes[family] = (await Promise.all(files.map(async (path) => (await stat(join(staged, path.replace(/\.(xz|zst|gz)$/, '')))).size))).reduce((sum, size) => sum + size, 0);
  }
  progress.update(Object.entries(moduleFamilyBytes).map(([family, bytes]) => `${family} ${megabytes(bytes)}`).join(', '));

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

  const manifest = buildManifest(tree, [...imagePackages, kernelPackage], {
    arch: arch.debian,
    suite: options.suite,
    kernel: { package: kernelPackage.name, version: kernelPackage.version, release: kernelVersion },
    sizes: { unpacked: unpackedBytes, ...result.sizes },
    moduleFamilies: moduleFamilyBytes,
  });
  await writeFile(result.manifest, `${JSON.stringify(manifest, null, 2)}\n`);
  return result;
}

/** The folders, device node and links every boot needs before any package file. */
function layOutBase(tree: ImageTree): void {
  for (const dir of ['dev', 'proc', 'sys', 'run', 'tmp', 'var/tmp', 'root', 'usr/bin', 'usr/lib', 'usr/lib64', 'mnt', PODMAN_GRAPHROOT]) tree.mkdir(dir);
  tree.add('tmp', { kind: 'dir', mode: 0o1777 });
  // The kernel opens /dev/console for init's stdio before anything is mounted.
  tree.add('dev/console', { kind: 'chardev', mode: 0o600, major: 5, minor: 1 });
  for (const [link, target] of MERGED_USR_LINKS) tree.add(link, { kind: 'symlink', target, origin: 'b2c' });
  // e4crypt finds the ext4 filesystems' salts through /etc/mtab.
  tree.add('etc/mtab', { kind: 'symlink', target: '/proc/self/mounts', origin: 'b2c' });
  for (const [path, text] of Object.entries(etcFiles())) tree.add(path, file(text, 'b2c'));
  tree.add('usr/share/b2c/udhcpc.script', { ...file(udhcpcScript(), 'b2c'), mode: 0o755 });
  tree.add('usr/lib/podman/netavark', { ...file(netavarkStub(), 'b2c'), mode: 0o755 });
}

function file(text: string, origin: string): { kind: 'file'; mode: number; data: Uint8Array; origin: string } {
  return { kind: 'file', mode: 0o644, data: new TextEncoder().encode(text), origin };
}

async function readFileFromRoot(root: PackageRoot, path: string): Promise<Uint8Array> {
  const chain = root.resolveChain(path);
  return readFile((chain[chain.length - 1] as { file: { hostPath: string } }).file.hostPath);
}

/** Adds the links on the way to a path as the packages have them; returns the file they end at. */
function addLinksTo(tree: ImageTree, root: PackageRoot, path: string): ReturnType<PackageRoot['resolveChain']>[number] {
  const chain = root.resolveChain(path);
  for (const { path: linkPath, file: entry } of chain.slice(0, -1)) {
    tree.add(linkPath, { kind: 'symlink', target: entry.target as string, origin: entry.pkg.name });
  }
  return chain[chain.length - 1] as ReturnType<PackageRoot['resolveChain']>[number];
}

/** Adds a path as the packages have it: every link on the way, then the file. Returns the file's image path. */
async function addPath(tree: ImageTree, root: PackageRoot, path: string): Promise<{ path: string; data: Uint8Array }> {
  const last = addLinksTo(tree, root, path);
  const data = await readFile(last.file.hostPath);
  if (!tree.has(last.path)) tree.add(last.path, { kind: 'file', mode: last.file.mode, data, origin: last.file.pkg.name });
  return { path: last.path, data };
}

/** A program with its loader and the closure of its DT_NEEDED libraries, searched as ld.so would. */
async function addProgram(tree: ImageTree, root: PackageRoot, arch: Architecture, path: string): Promise<void> {
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
    const searchPath = [
      ...info.runPaths.map((dir) => dir.replace('$ORIGIN', `/${origin}`)),
      `/usr/lib/${arch.triplet}`,
      '/usr/lib',
    ];
    for (const needed of info.needed) {
      const dir = searchPath.find((candidate) => root.exists(`${candidate}/${needed}`));
      if (dir === undefined) throw new BuildError(`${needed}, needed by /${added.path}, is in none of the packages (searched ${searchPath.join(', ')})`);
      pending.push(`${dir}/${needed}`);
    }
  }
}

/** A stub in place of a library, under the same path and links; the real one's own libraries are not followed. */
async function addStubLibrary(tree: ImageTree, root: PackageRoot, path: string, library: StubbedLibrary): Promise<void> {
  const last = addLinksTo(tree, root, path);
  if (tree.has(last.path)) return;
  const exports = readElfExports(await readFile(last.file.hostPath));
  if (exports.soname !== library.soname) throw new BuildError(`${path} is ${exports.soname}, not the ${library.soname} b2c stubs`);
  tree.add(last.path, { kind: 'file', mode: last.file.mode, data: writeStubLibrary(exports, library.failing), origin: `${last.file.pkg.name} (stub)` });
}

async function addBusyboxApplets(tree: ImageTree, root: PackageRoot): Promise<void> {
  const applets = busyboxAppletNames(await readFileFromRoot(root, '/usr/bin/busybox'));
  for (const needed of ['sh', 'mount', 'modprobe', 'udhcpc', 'ip', 'poweroff', 'reboot']) {
    if (!applets.includes(needed)) throw new BuildError(`this busybox has no ${needed} applet, which /init needs`);
  }
  for (const applet of applets) {
    if (applet === 'busybox' || tree.has(`usr/bin/${applet}`)) continue;
    tree.add(`usr/bin/${applet}`, { kind: 'symlink', target: 'busybox', origin: 'busybox' });
  }
}

/** What update-ca-certificates would make: every certificate the package ships, in one bundle. */
async function addCaCertificates(tree: ImageTree, root: PackageRoot): Promise<void> {
  const certificates = root.below('/usr/share/ca-certificates').filter((path) => path.endsWith('.crt'));
  if (certificates.length === 0) throw new BuildError('ca-certificates ships no certificate');
  const parts: Uint8Array[] = [];
  for (const path of certificates) parts.push(await readFileFromRoot(root, path));
  const bundle = Buffer.concat(parts.map((part) => (part[part.length - 1] === 0x0a ? part : Buffer.concat([part, Buffer.from('\n')]))));
  tree.add(CA_BUNDLE.slice(1), { kind: 'file', mode: 0o644, data: bundle, origin: 'ca-certificates' });
}

async function addFolder(tree: ImageTree, hostDir: string, imageDir: string, origin: string): Promise<void> {
  for (const name of (await readdir(hostDir)).sort()) {
    const hostPath = join(hostDir, name);
    const info = await lstat(hostPath);
    if (info.isDirectory()) await addFolder(tree, hostPath, `${imageDir}/${name}`, origin);
    else tree.add(`${imageDir}/${name}`, { kind: 'file', mode: 0o644, data: await readFile(hostPath), origin });
  }
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

/** The compressor's command line: single-threaded, so the output does not depend on the machine. */
export function compressorArgs(compression: 'xz' | 'zstd', arch: Architecture): string[] {
  if (compression === 'zstd') return ['zstd', '-19', '--single-thread', '--stdout', '--quiet'];
  // The kernel's xz decoder wants CRC32 checks, not xz's default CRC64. A
  // branch filter for the architecture's executables (which the kernel's
  // decoder has) makes the archive smaller at no cost in decompression. The
  // initramfs decoder allocates the dictionary the stream names, so a 64 MiB
  // one (preset 6 has 8 MiB) finds repeats across programs and libraries; it
  // is only held while the kernel unpacks.
  const lzma2 = '--lzma2=preset=6,dict=64MiB';
  const filters = arch.xzBranchFilter ? [`--${arch.xzBranchFilter}`, lzma2] : [lzma2];
  return ['xz', '--check=crc32', '--threads=1', ...filters, '--stdout'];
}

function compress(input: string, output: string, compression: 'xz' | 'zstd', arch: Architecture): Promise<void> {
  const argv = compressorArgs(compression, arch);
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
    child.on('error', (error) => reject(new BuildError(`cannot run ${argv[0]}: install ${compression === 'xz' ? 'xz-utils' : 'zstd'}`, { cause: error })));
    const out = createWriteStream(output);
    Promise.all([pipeline(createReadStream(input), child.stdin), pipeline(child.stdout, out)]).catch(reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new BuildError(`${argv[0]} failed with status ${code}`))));
  });
}

function buildManifest(
  tree: ImageTree,
  packages: DebianPackage[],
  summary: {
    arch: string;
    suite: string;
    kernel: { package: string; version: string; release: string };
    sizes: Record<string, number>;
    /** Unpacked bytes of each driver family with its dependencies (shared ones count in each). */
    moduleFamilies: Record<string, number>;
  },
): unknown {
  const files: ManifestFile[] = [];
  const used = new Set<string>();
  for (const [path, entry] of tree.entries) {
    if (entry.kind === 'file') {
      files.push({ path: `/${path}`, size: entry.data.length, origin: entry.origin });
      used.add(entry.origin);
    } else if (entry.kind === 'symlink') {
      used.add(entry.origin);
    }
  }
  files.sort((a, b) => (a.path < b.path ? -1 : 1));
  const bytesByOrigin: Record<string, number> = {};
  for (const entry of files) bytesByOrigin[entry.origin] = (bytesByOrigin[entry.origin] ?? 0) + entry.size;
  return {
    ...summary,
    packages: packages.filter((pkg) => used.has(pkg.name)).map((pkg) => ({ name: pkg.name, version: pkg.version, arch: pkg.arch, bytes: bytesByOrigin[pkg.name] ?? 0 })),
    totals: { files: files.length, bytes: files.reduce((sum, entry) => sum + entry.size, 0) },
    files,
  };
}

export function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
