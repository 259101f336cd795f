// The busybox test image the demo and the end-to-end tests push to a local registry.

import { readFile } from 'node:fs/promises';
import { busyboxAppletNames } from '../build/busybox.ts';
import { buildOciImage, busyboxLayerEntries, type OciImage } from './oci-image.ts';

/** One layer: a static busybox with a link per applet; `sh` unless a command is given. */
export async function busyboxImage(busyboxPath: string, architecture: string): Promise<OciImage> {
  const busybox = await readFile(busyboxPath);
  return buildOciImage({
    architecture,
    entries: busyboxLayerEntries(busybox, busyboxAppletNames(busybox)),
    cmd: ['sh'],
  });
}
