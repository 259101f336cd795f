// The manifest of a build: every package with its version and share, every file with its size and origin, the totals.

import type { DebianPackage } from '../debian/apt.ts';
import type { ImageTree } from './tree.ts';

export interface ManifestFile {
  path: string;
  size: number;
  origin: string;
}

export interface ManifestSummary {
  arch: string;
  suite: string;
  kernel: { package: string; version: string; release: string };
  sizes: Record<string, number>;
  /** Unpacked bytes of each driver family with its dependencies (shared ones count in each). */
  moduleFamilies: Record<string, number>;
  /** Each add-on archive written with the image: its bytes and what it unpacks to. */
  addons?: Record<string, { bytes: number; unpacked: number }>;
}

export interface Manifest extends ManifestSummary {
  packages: Array<{ name: string; version: string; arch: string; bytes: number }>;
  totals: { files: number; bytes: number };
  files: ManifestFile[];
}

/** Only the packages something in the tree came from are listed: a dependency that added nothing is not in the image. */
export function buildManifest(tree: ImageTree, packages: readonly DebianPackage[], summary: ManifestSummary): Manifest {
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
    packages: packages
      .filter((pkg) => used.has(pkg.name))
      .map((pkg) => ({ name: pkg.name, version: pkg.version, arch: pkg.arch, bytes: bytesByOrigin[pkg.name] ?? 0 })),
    totals: { files: files.length, bytes: files.reduce((sum, entry) => sum + entry.size, 0) },
    files,
  };
}

export function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
