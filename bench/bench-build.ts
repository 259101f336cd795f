// The build both benchmark scripts boot (amd64, every archive form and both add-ons), and its archives' sizes as the reports list them.

import type { Architecture } from '../src/architectures.ts';
import { hostCacheDir } from '../src/host-cache.ts';
import { B2C_VERSION } from '../src/cli/version.ts';
import { buildImage } from '../src/image/build.ts';
import type { Progress } from '../src/image/progress.ts';
import { nodeSystem } from '../src/system/node.ts';

export type Build = Awaited<ReturnType<typeof buildImage>>;

/** The initramfs in xz, zstd and uncompressed form, with the modules and firmware add-ons, into `outDir`. */
export async function buildBenchImage(arch: Architecture, outDir: string, progress: Progress): Promise<Build> {
  progress.step('building the initramfs (xz, zstd, uncompressed) and the modules and firmware add-ons');
  return buildImage(
    nodeSystem,
    {
      arch: arch.debian,
      suite: 'trixie',
      cacheDir: hostCacheDir(),
      outDir,
      compressions: ['xz', 'zstd', 'none'],
      refresh: false,
      sourceDateEpoch: 0,
      version: B2C_VERSION,
      addons: ['modules', 'firmware'],
    },
    progress,
  );
}

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
