// Where the kernel comes from: Debian's package of the suite, or a farm's own (a linux-image .deb, or a `make modules_install` folder and its image).

import { existsSync } from 'node:fs';
import { mkdir, open, readdir, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { constants as zlibConstants, gunzipSync } from 'node:zlib';
import { ARCHITECTURES, type Architecture } from '../architectures.ts';
import { B2cError } from '../errors.ts';
import { runChecked, type System } from '../system/system.ts';

export interface KernelSource {
  /** What the manifest and each file's origin name: the package, or the folder of a farm's build. */
  name: string;
  version: string;
  /** `uname -r`: the folder under lib/modules. */
  release: string;
  /** The kernel image a bootloader takes. */
  image: string;
  /** `…/lib/modules/RELEASE`. */
  modulesDir: string;
  /** The device trees, where the kernel brings them. */
  dtbs?: string;
  /** A farm's kernel: the module policy is taken as far as it has the modules, and what it lacks is reported. */
  own: boolean;
}

/** The one kernel release a modules root holds; none or several is an error that says which. */
export function modulesRelease(entries: readonly string[], where: string): string {
  const releases = entries.filter((entry) => !entry.startsWith('.')).sort();
  if (releases.length === 1) return releases[0] as string;
  if (releases.length === 0) throw new B2cError(`${where} holds no kernel's modules`);
  throw new B2cError(`${where} holds the modules of several kernels (${releases.join(', ')}): give a folder with one`);
}

/** Reads `Key: value` lines (dpkg-deb --field) into a map. */
export function parseControlFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith(' ')) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}

/**
 * The architectures whose boot header a kernel image carries; a
 * gzip-compressed Image (`Image.gz`) is read through. A vmlinux (ELF) or a
 * file of another kind has none. Headers sit in the first kilobytes: that
 * much is all it needs.
 */
export function kernelImageArchitectures(start: Uint8Array): string[] {
  let image = start;
  if (start[0] === 0x1f && start[1] === 0x8b) {
    try {
      image = gunzipSync(start, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    } catch {
      return [];
    }
  }
  return Object.values(ARCHITECTURES)
    .filter(({ kernelHeader: { offset, magic } }) => Buffer.from(image.subarray(offset, offset + magic.length)).toString('latin1') === magic)
    .map((arch) => arch.debian);
}

/** Refuses a farm's kernel image that does not boot on the architecture being built, naming the one it is for. */
async function checkKernelImage(image: string, arch: Architecture): Promise<void> {
  const file = await open(image);
  const start = new Uint8Array(64 * 1024);
  try {
    const { bytesRead } = await file.read(start, 0, start.length, 0);
    const found = kernelImageArchitectures(start.subarray(0, bytesRead));
    if (found.includes(arch.debian)) return;
    if (found[0] !== undefined) throw new B2cError(`${image} is a kernel for ${found[0]}, not ${arch.debian}: build with --arch ${found[0]}`);
    throw new B2cError(
      `${image} is not a kernel image ${arch.debian} boots: give --kernel-image the one the kernel build leaves in ${arch.kernelHeader.built}`,
    );
  } finally {
    await file.close();
  }
}

/** The first of `usr/lib/modules` and `lib/modules` that exists under a root. */
function modulesRoot(root: string): string | undefined {
  return ['usr/lib/modules', 'lib/modules'].map((path) => join(root, path)).find((path) => existsSync(path));
}

/**
 * A farm's kernel: a Debian `linux-image` package (its image and modules, its
 * device trees), or the folder `make modules_install INSTALL_MOD_PATH=DIR`
 * wrote, with the image from `imagePath` or `DIR/boot/IMAGE-RELEASE`. The
 * package is extracted afresh each time: a rebuilt kernel keeps its file name.
 */
export async function ownKernel(system: System, path: string, imagePath: string | undefined, arch: Architecture, workDir: string): Promise<KernelSource> {
  if (!existsSync(path)) throw new B2cError(`${path} does not exist: --kernel takes a linux-image .deb or a modules_install folder`);
  if ((await stat(path)).isDirectory()) {
    const root = modulesRoot(path);
    if (root === undefined) throw new B2cError(`${path} has no lib/modules: give the folder of make modules_install INSTALL_MOD_PATH=…`);
    const release = modulesRelease(await readdir(root), root);
    const image = imagePath ?? join(path, 'boot', `${arch.kernelImage}-${release}`);
    if (!existsSync(image)) {
      throw new B2cError(`no kernel image for ${release}: give the one the build made with --kernel-image, or put it at ${image}`);
    }
    await checkKernelImage(image, arch);
    return { name: `kernel ${release} (${basename(path)})`, version: release, release, image, modulesDir: join(root, release), own: true };
  }
  const fields = parseControlFields(
    (await runChecked(system, ['dpkg-deb', '--field', path, 'Package', 'Version', 'Architecture'], { captureStdout: true, context: `reading ${path}` })).stdout,
  );
  const name = fields.get('Package') ?? basename(path);
  const packageArch = fields.get('Architecture');
  if (packageArch !== arch.debian) throw new B2cError(`${basename(path)} is a kernel for ${packageArch ?? 'no architecture'}, not ${arch.debian}`);
  const extracted = join(workDir, 'kernel');
  await rm(extracted, { recursive: true, force: true });
  await mkdir(extracted, { recursive: true });
  await runChecked(system, ['dpkg-deb', '--extract', path, extracted], { context: `extracting ${basename(path)}` });
  const root = modulesRoot(extracted);
  if (root === undefined) throw new B2cError(`${basename(path)} has no modules: is it a linux-image package?`);
  const release = modulesRelease(await readdir(root), `${basename(path)}'s lib/modules`);
  const image = imagePath ?? join(extracted, 'boot', `${arch.kernelImage}-${release}`);
  if (!existsSync(image)) throw new B2cError(`${basename(path)} has no /boot/${arch.kernelImage}-${release}: give the image with --kernel-image`);
  await checkKernelImage(image, arch);
  const dtbs = join(extracted, 'usr/lib', `linux-image-${release}`);
  return {
    name,
    version: fields.get('Version') ?? release,
    release,
    image,
    modulesDir: join(root, release),
    ...(existsSync(dtbs) ? { dtbs } : {}),
    own: true,
  };
}
