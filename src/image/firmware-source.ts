// Debian's firmware packages as the build reads them: fetched and extracted on first use, each set of packages seen as one package root.

import { readFile } from 'node:fs/promises';
import type { DebianPackage, PrivateApt } from '../debian/apt.ts';
import { extractDeb } from '../debian/extract.ts';
import { B2cError } from '../errors.ts';
import type { System } from '../system/system.ts';
import type { FirmwareFile } from './firmware.ts';
import { PackageRoot } from './package-root.ts';

export class FirmwareSource {
  private readonly roots = new Map<string, PackageRoot>();
  /** Every package fetched, for the manifest (which lists those the image took files from). */
  readonly packages: DebianPackage[] = [];

  constructor(
    private readonly apt: PrivateApt,
    private readonly system: System,
    private readonly cacheDir: string,
  ) {}

  async root(packages: readonly string[]): Promise<PackageRoot> {
    const key = packages.join(' ');
    const known = this.roots.get(key);
    if (known !== undefined) return known;
    const resolved = await this.apt.resolve(packages);
    this.packages.push(...resolved.filter((pkg) => !this.packages.some((known) => known.name === pkg.name)));
    const debs = await this.apt.download(resolved, () => undefined);
    const root = new PackageRoot();
    for (const [index, pkg] of resolved.entries()) await root.addPackage(pkg, await extractDeb(this.system, debs[index] as string, this.cacheDir));
    this.roots.set(key, root);
    return root;
  }

  /** The bytes of a selected file, from whichever root indexed it. */
  async read(found: FirmwareFile): Promise<Uint8Array> {
    for (const root of this.roots.values()) {
      const file = root.files.get(found.source);
      if (file !== undefined) return readFile(file.hostPath);
    }
    throw new B2cError(`/${found.source} is in none of the firmware packages`);
  }
}
