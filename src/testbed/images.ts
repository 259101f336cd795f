// The busybox test image the demo and the end-to-end tests push to a local registry.

import { readFile } from 'node:fs/promises';
import { busyboxAppletNames } from '../build/busybox.ts';
import { buildOciImage, busyboxLayerEntries, type LayerEntry, type OciImage } from './oci-image.ts';

/** One layer: a static busybox with a link per applet, plus `extra` files; runs `sh` unless a command is given. */
export async function busyboxImage(busyboxPath: string, architecture: string, extra: LayerEntry[] = []): Promise<OciImage> {
  const busybox = await readFile(busyboxPath);
  return buildOciImage({
    architecture,
    entries: [...busyboxLayerEntries(busybox, busyboxAppletNames(busybox)), ...extra],
    cmd: ['sh'],
  });
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
