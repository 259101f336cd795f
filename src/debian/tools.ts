// Host programs taken from Debian packages (the image's suite) and run through their own loader: build tools and test servers, nothing installed on the host.

import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { debFileName, DEFAULT_KEYRING, DEFAULT_MIRROR, PrivateApt, type AptSource } from './apt.ts';
import { extractDeb } from './extract.ts';
import { hostCacheDir } from '../host-cache.ts';
import { nodeSystem } from '../system/node.ts';

// The programs run on the build host, which is amd64 (DESIGN.md): its loader and library folder.
export const HOST_ARCH = 'amd64';
const TRIPLET = 'x86_64-linux-gnu';
const LOADER = 'usr/lib64/ld-linux-x86-64.so.2';

export interface DebianPackageOptions {
  cacheDir?: string;
  source?: Partial<Omit<AptSource, 'arch'>>;
}

/** The packages of one architecture and everything they depend on, downloaded and extracted (both cached): the extracted folder by package name. */
export async function extractDebianPackages(packages: readonly string[], arch: string, options: DebianPackageOptions = {}): Promise<Map<string, string>> {
  const cacheDir = options.cacheDir ?? hostCacheDir();
  const apt = new PrivateApt(nodeSystem, cacheDir, { suite: 'trixie', mirror: DEFAULT_MIRROR, keyring: DEFAULT_KEYRING, ...options.source, arch });
  await apt.prepare(false);
  const resolved = await apt.resolve(packages);
  const debs = await apt.download(resolved, () => {});
  const roots = new Map<string, string>();
  for (const [index, deb] of debs.entries()) roots.set((resolved[index] as { name: string }).name, await extractDeb(nodeSystem, deb, cacheDir));
  return roots;
}

/**
 * What fetching the packages (of the host's architecture) would still take
 * from Debian: the package lists, or the packages, with what they depend on,
 * that the host cache lacks. Nothing is fetched to find out.
 */
export async function debianPackagesToFetch(packages: readonly string[], options: DebianPackageOptions = {}): Promise<{ lists: boolean; packages: string[] }> {
  const cacheDir = options.cacheDir ?? hostCacheDir();
  const apt = new PrivateApt(nodeSystem, cacheDir, { suite: 'trixie', mirror: DEFAULT_MIRROR, keyring: DEFAULT_KEYRING, ...options.source, arch: HOST_ARCH });
  if (!apt.hasLists()) return { lists: true, packages: [...packages] };
  // With the lists there, preparing writes apt's configuration and fetches nothing.
  await apt.prepare(false);
  const resolved = await apt.resolve(packages);
  return { lists: false, packages: resolved.filter((pkg) => !existsSync(join(apt.archives, debFileName(pkg)))).map((pkg) => pkg.name) };
}

/** A person's sentence for what debianPackagesToFetch found, or undefined when nothing is missing. */
export function describeFetch(needs: { lists: boolean; packages: string[] }): string | undefined {
  if (needs.lists) return `Debian trixie's package lists, then ${needs.packages.join(', ')} with what they depend on`;
  if (needs.packages.length === 0) return undefined;
  const shown = needs.packages.length > 8 ? `${needs.packages.slice(0, 8).join(', ')} and ${needs.packages.length - 8} more` : needs.packages.join(', ');
  return `${needs.packages.length} Debian ${needs.packages.length === 1 ? 'package' : 'packages'}: ${shown}`;
}

export class DebianTools {
  private constructor(
    /** Extracted folder of each package by name. */
    private readonly roots: Map<string, string>,
  ) {}

  /**
   * Fetches the packages and everything they depend on (cached like the
   * build's), extracted. Host packages such as chrony would start services
   * and replace the host's own time daemon; these never run as services.
   */
  static async prepare(packages: readonly string[], options: DebianPackageOptions = {}): Promise<DebianTools> {
    return new DebianTools(await extractDebianPackages(packages, HOST_ARCH, options));
  }

  /** The prepared packages' names, dependencies included. */
  get packages(): string[] {
    return [...this.roots.keys()];
  }

  /** Where a package was extracted, for its data files. */
  root(packageName: string): string {
    const root = this.roots.get(packageName);
    if (root === undefined) throw new Error(`${packageName} is not among the prepared packages`);
    return root;
  }

  /** The argv that runs a program of one of the packages with the packages' own loader and libraries. */
  command(packageName: string, path: string, args: readonly string[] = []): string[] {
    const root = this.root(packageName);
    const libc = this.root('libc6');
    const libraryPath = [...this.roots.values()].flatMap((dir) => [join(dir, 'usr/lib', TRIPLET), join(dir, 'lib', TRIPLET)]).join(':');
    return [join(libc, LOADER), '--library-path', libraryPath, join(root, path), ...args];
  }
}
