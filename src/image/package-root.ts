// Extracted Debian packages seen as one merged-/usr file system, so that paths, links and libraries resolve as on the target.

import { lstat, readdir, readlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { DebianPackage } from '../debian/apt.ts';
import { normalizeImagePath } from './tree.ts';
import { B2cError } from '../errors.ts';

export interface PackageFile {
  pkg: DebianPackage;
  /** Where the extracted file is on the host. */
  hostPath: string;
  kind: 'file' | 'symlink' | 'dir';
  mode: number;
  /** For symlinks: the absolute, merged-/usr path the link points to. */
  target?: string;
}

// The image merges /bin, /sbin and /usr/sbin into /usr/bin, and /lib* into /usr/lib*.
const MERGED_PREFIXES: Array<[string, string]> = [
  ['bin/', 'usr/bin/'],
  ['sbin/', 'usr/bin/'],
  ['usr/sbin/', 'usr/bin/'],
  ['lib/', 'usr/lib/'],
  ['lib32/', 'usr/lib32/'],
  ['lib64/', 'usr/lib64/'],
];

/** The links that make the merged layout look like a classic one at the image's root. */
export const MERGED_USR_LINKS: Array<[string, string]> = [
  ['bin', 'usr/bin'],
  ['sbin', 'usr/bin'],
  ['usr/sbin', 'bin'],
  ['lib', 'usr/lib'],
  ['lib64', 'usr/lib64'],
];

/** `/sbin/x` → `usr/bin/x`, `/lib/y` → `usr/lib/y`: where a path lives in the merged image. */
export function mergedUsrPath(path: string): string {
  const normalized = normalizeImagePath(path);
  for (const [from, to] of MERGED_PREFIXES) {
    if (normalized.startsWith(from)) return to + normalized.slice(from.length);
    if (`${normalized}/` === from) return to.slice(0, -1);
  }
  return normalized;
}

export class PackageRoot {
  readonly files = new Map<string, PackageFile>();

  /** Indexes every file of an extracted package; the first package to ship a path keeps it. */
  async addPackage(pkg: DebianPackage, extractedDir: string): Promise<void> {
    const walk = async (relative: string): Promise<void> => {
      const hostPath = join(extractedDir, relative);
      const names = (await readdir(hostPath)).sort();
      for (const name of names) {
        const childRelative = relative === '' ? name : `${relative}/${name}`;
        const childHost = join(extractedDir, childRelative);
        const stat = await lstat(childHost);
        const imagePath = mergedUsrPath(childRelative);
        if (stat.isDirectory()) {
          if (!this.files.has(imagePath)) this.files.set(imagePath, { pkg, hostPath: childHost, kind: 'dir', mode: stat.mode & 0o7777 });
          await walk(childRelative);
        } else if (stat.isSymbolicLink()) {
          const linkText = await readlink(childHost);
          // Resolved against where the link stood in the package, then merged.
          const absolute = linkText.startsWith('/') ? linkText : posix.join('/', posix.dirname(childRelative), linkText);
          const target = `/${mergedUsrPath(absolute)}`;
          if (!this.files.has(imagePath)) this.files.set(imagePath, { pkg, hostPath: childHost, kind: 'symlink', mode: 0o777, target });
        } else if (stat.isFile()) {
          if (!this.files.has(imagePath)) this.files.set(imagePath, { pkg, hostPath: childHost, kind: 'file', mode: stat.mode & 0o7777 });
        }
      }
    };
    await walk('');
  }

  /**
   * The chain of entries a path goes through until a real file: every link on
   * the way, then the file. Throws when the path does not exist or loops.
   */
  resolveChain(path: string): Array<{ path: string; file: PackageFile }> {
    const chain: Array<{ path: string; file: PackageFile }> = [];
    let current = mergedUsrPath(path);
    for (let depth = 0; depth < 40; depth++) {
      const file = this.files.get(current);
      if (!file) throw new B2cError(`/${current} is in none of the packages`);
      chain.push({ path: current, file });
      if (file.kind !== 'symlink') return chain;
      current = mergedUsrPath(file.target as string);
    }
    throw new B2cError(`/${path} is a symbolic link loop`);
  }

  exists(path: string): boolean {
    return this.files.has(mergedUsrPath(path));
  }

  /** Every indexed path below a folder, in sorted order. */
  below(dir: string): string[] {
    const prefix = `${mergedUsrPath(dir)}/`;
    return [...this.files.keys()].filter((path) => path.startsWith(prefix)).sort();
  }
}
