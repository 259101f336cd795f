// The busybox test images the demo, the end-to-end tests and the benchmark push to a local registry.

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { architecture } from '../architectures.ts';
import { busyboxAppletNames } from '../image/busybox.ts';
import { extractDebianPackages, type DebianPackageOptions } from '../debian/tools.ts';
import { buildOciImage, buildOciIndex, busyboxLayerEntries, type LayerEntry, type OciImage, type OciIndex } from './oci-image.ts';

/** One layer: a static busybox with a link per applet, plus `extra` files; its command is `cmd`, `sh` unless given. */
export async function busyboxImage(busyboxPath: string, architectureName: string, extra: LayerEntry[] = [], cmd = ['sh']): Promise<OciImage> {
  const busybox = await readFile(busyboxPath);
  return buildOciImage({
    platform: architecture(architectureName).oci,
    entries: [...busyboxLayerEntries(busybox, busyboxAppletNames(busybox)), ...extra],
    cmd,
  });
}

/** The static busybox of Debian's busybox-static for an architecture (downloaded once, then cached). */
export async function debianBusybox(architectureName: string, options: DebianPackageOptions = {}): Promise<string> {
  const root = (await extractDebianPackages(['busybox-static'], architecture(architectureName).debian, options)).get('busybox-static');
  if (root === undefined) throw new Error(`busybox-static for ${architectureName} was not among the packages apt resolved`);
  const path = ['usr/bin/busybox', 'bin/busybox'].map((candidate) => join(root, candidate)).find((candidate) => existsSync(candidate));
  if (path === undefined) throw new Error(`busybox-static for ${architectureName} has no busybox binary`);
  return path;
}

/** The busybox image for every named architecture under one reference, so that each guest pulls its own. */
export async function multiArchBusyboxImage(architectureNames: readonly string[], options: DebianPackageOptions = {}): Promise<OciIndex> {
  const images: OciImage[] = [];
  for (const name of architectureNames) images.push(await busyboxImage(await debianBusybox(name, options), name));
  return buildOciIndex(images);
}

/**
 * Bytes that do not compress, the same on every call: a file that makes an
 * image about as large as a real test image (xorshift32 from a fixed seed).
 */
export function incompressibleBytes(length: number, seed = 0x2545f491): Uint8Array {
  const bytes = new Uint8Array(length);
  const words = new Uint32Array(bytes.buffer, 0, Math.floor(length / 4));
  let state = seed >>> 0;
  for (let i = 0; i < words.length; i++) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    words[i] = state;
  }
  return bytes;
}
