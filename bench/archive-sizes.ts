// The archives a build wrote and their sizes, as both benchmark reports list them.

import type { buildImage } from '../src/image/build.ts';

type Build = Awaited<ReturnType<typeof buildImage>>;

/** Every archive and add-on of the build, in bytes; the uncompressed row is the cpio's size. */
export function archiveSizes(build: Build): Array<{ archive: string; bytes: number }> {
  return [
    { archive: 'initramfs, xz (size first: farms fetch this one)', bytes: build.sizes.xz ?? 0 },
    { archive: 'initramfs, zstd (`--compress zstd`: speed first)', bytes: build.sizes.zstd ?? 0 },
    { archive: 'initramfs, uncompressed', bytes: build.unpackedBytes },
    ...(['modules', 'firmware'] as const).map((addon) => ({
      archive: `${addon} add-on, xz (unpacks to ${((build.addons[addon]?.unpackedBytes ?? 0) / 1e6).toFixed(1)} MB)`,
      bytes: build.addons[addon]?.bytes ?? 0,
    })),
  ];
}
