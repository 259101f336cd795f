// Resolves and downloads Debian packages with apt under a private configuration that never touches the host's apt state.

import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { commandFailure, runChecked, type System } from '../system/system.ts';
import { B2cError } from '../errors.ts';
import { withLock } from '../host-cache.ts';

export interface AptSource {
  suite: string;
  arch: string;
  mirror: string;
  /** The keyring apt checks the archive's signature with. */
  keyring: string;
}

export interface DebianPackage {
  name: string;
  version: string;
  arch: string;
}

export const DEFAULT_MIRROR = 'http://deb.debian.org/debian';
/** The archive's components: the firmware of NICs and GPUs (rtl_nic, tigon, amdgpu) is in non-free-firmware. */
export const APT_COMPONENTS = ['main', 'non-free-firmware'];
export const DEFAULT_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

/** The apt.conf that points every apt directory into `root`, so nothing of the host's apt is read or written. */
export function privateAptConfig(root: string, arch: string): string {
  const lines = [
    `Dir "/";`,
    `Dir::State "${root}/state";`,
    `Dir::State::status "${root}/state/status";`,
    `Dir::Cache "${root}/cache";`,
    `Dir::Etc "${root}/etc";`,
    `Dir::Etc::main "/dev/null";`,
    `Dir::Etc::Parts "${root}/etc/apt.conf.d";`,
    `Dir::Etc::SourceList "${root}/etc/sources.list";`,
    `Dir::Etc::SourceParts "${root}/etc/sources.list.d";`,
    `Dir::Etc::Preferences "${root}/etc/preferences";`,
    `Dir::Etc::PreferencesParts "${root}/etc/preferences.d";`,
    `Dir::Log "${root}/log";`,
    `APT::Architecture "${arch}";`,
    `APT::Architectures { "${arch}"; };`,
    `APT::Install-Recommends "false";`,
    `APT::Install-Suggests "false";`,
    // apt drops to the _apt user to download; it cannot write into a cache under root's home.
    `APT::Sandbox::User "root";`,
    `Acquire::Languages "none";`,
    `Acquire::Retries "3";`,
  ];
  return `${lines.join('\n')}\n`;
}

/** Reads apt's simulation lines (`Inst name (version Origin [arch])`) into packages. */
export function parseAptSimulation(output: string): DebianPackage[] {
  const packages: DebianPackage[] = [];
  for (const line of output.split('\n')) {
    const match = /^Inst (\S+) (?:\[[^\]]*\] )?\((\S+) .*\[([^\]]+)\]\)/.exec(line);
    if (match) packages.push({ name: match[1] as string, version: match[2] as string, arch: match[3] as string });
  }
  return packages;
}

/** The file name apt gives a downloaded package: the epoch's colon is written %3a. */
export function debFileName(pkg: DebianPackage): string {
  return `${pkg.name}_${pkg.version.replace(/:/g, '%3a')}_${pkg.arch}.deb`;
}

/**
 * Replaces a file only when its text changes, by a rename: a b2c process that
 * downloads (without the lock) never reads a configuration half written.
 */
async function writeIfChanged(path: string, text: string): Promise<void> {
  if ((await readFile(path, 'utf8').catch(() => undefined)) === text) return;
  const partial = `${path}.${process.pid}.partial`;
  await writeFile(partial, text);
  await rename(partial, path);
}

export class PrivateApt {
  readonly root: string;
  readonly archives: string;

  constructor(
    readonly system: System,
    cacheDir: string,
    readonly source: AptSource,
    /** Said when another b2c process holds the package lists and this one waits for them. */
    private readonly onWait: (message: string) => void = () => undefined,
  ) {
    this.root = join(cacheDir, 'apt', `${source.suite}-${source.arch}`);
    this.archives = join(this.root, 'archives');
  }

  /** Runs `body` while no other b2c process writes or reads this suite's configuration and lists. */
  private locked<T>(body: () => Promise<T>): Promise<T> {
    return withLock(this.root, body, () => this.onWait(`waiting for another b2c process using the package lists in ${this.root}`));
  }

  private get env(): Record<string, string> {
    return { ...(process.env as Record<string, string>), APT_CONFIG: join(this.root, 'apt.conf'), LC_ALL: 'C' };
  }

  /** Writes the private configuration; fetches the package lists unless they are there already (or `refresh`). */
  prepare(refresh: boolean): Promise<'fetched' | 'cached'> {
    return this.locked(() => this.prepareLocked(refresh));
  }

  private async prepareLocked(refresh: boolean): Promise<'fetched' | 'cached'> {
    for (const dir of ['etc/apt.conf.d', 'etc/preferences.d', 'etc/sources.list.d', 'state/lists/partial', 'cache/archives/partial', 'log', 'archives']) {
      await mkdir(join(this.root, dir), { recursive: true });
    }
    await writeIfChanged(join(this.root, 'apt.conf'), privateAptConfig(this.root, this.source.arch));
    await writeIfChanged(
      join(this.root, 'etc/sources.list'),
      `deb [signed-by=${this.source.keyring}] ${this.source.mirror} ${this.source.suite} ${APT_COMPONENTS.join(' ')}\n`,
    );
    // An empty dpkg status: apt resolves as for an empty machine.
    await writeIfChanged(join(this.root, 'state/status'), '');
    if (!refresh && this.hasLists()) return 'cached';
    if (!existsSync(this.source.keyring)) {
      throw new B2cError(`the archive keyring ${this.source.keyring} is missing: install debian-archive-keyring (apt-get install debian-archive-keyring)`);
    }
    try {
      await runChecked(this.system, ['apt-get', 'update'], {
        env: this.env,
        captureStdout: true,
        context: `apt-get update for ${this.source.suite}/${this.source.arch}`,
      });
    } catch (error) {
      throw new B2cError(`cannot fetch the package lists of ${this.source.mirror} ${this.source.suite} (${this.source.arch})`, { cause: error });
    }
    // apt only warns about a component the mirror lacks; the build would then fail on a package name.
    const fetched = await readdir(join(this.root, 'state/lists'));
    const lacking = APT_COMPONENTS.filter((component) => !fetched.some((name) => name.includes(`_${component}_binary-`) && name.endsWith('_Packages')));
    if (lacking.length > 0) {
      throw new B2cError(
        `${this.source.mirror} has no ${lacking.join(' or ')} component for ${this.source.suite} (${this.source.arch}): ` +
          "b2c takes the image's NIC firmware from non-free-firmware; use a mirror that carries it",
      );
    }
    return 'fetched';
  }

  /** Whether the package lists are in the host cache, every component's (lists fetched before a component was added do not count). */
  hasLists(): boolean {
    const dir = join(this.root, 'state/lists');
    if (!existsSync(dir)) return false;
    const lists = readdirSync(dir);
    return APT_COMPONENTS.every((component) => lists.some((name) => name.includes(`_${component}_binary-`) && name.endsWith('_Packages')));
  }

  /** A digest of the suite's signed lists as fetched (empty before any): it changes whenever any package version can. */
  async listsDigest(): Promise<string> {
    const lists = join(this.root, 'state/lists');
    if (!existsSync(lists)) return '';
    return this.locked(async () => {
      const hash = createHash('sha256');
      for (const name of (await readdir(lists)).filter((entry) => /Release$/.test(entry)).sort()) hash.update(name).update(await readFile(join(lists, name)));
      return hash.digest('hex');
    });
  }

  /** The full dependency closure of the named packages, resolved as apt would install them on an empty machine. */
  async resolve(names: readonly string[]): Promise<DebianPackage[]> {
    const result = await this.locked(() =>
      this.system.run(['apt-get', 'install', '--simulate', '--quiet', ...names], {
        env: this.env,
        captureStdout: true,
        captureStderr: true,
      }),
    );
    if (result.status !== 0) {
      throw new B2cError(`apt cannot resolve ${names.join(' ')} in ${this.source.suite}/${this.source.arch}`, {
        cause: commandFailure(['apt-get', 'install', '--simulate', ...names], result),
      });
    }
    return parseAptSimulation(result.stdout);
  }

  /** Downloads the exact package versions (checked against the signed lists) unless already cached; returns their paths. */
  async download(packages: readonly DebianPackage[], onProgress: (done: number, total: number, name: string) => void): Promise<string[]> {
    const missing = packages.filter((pkg) => !existsSync(join(this.archives, debFileName(pkg))));
    if (missing.length > 0) {
      // Downloads land in a folder of this process's own first, so an interrupted one never passes for a cached package, and two b2c
      // processes downloading at once never touch each other's files; the rename into the archive is atomic.
      await mkdir(this.archives, { recursive: true });
      const incoming = await mkdtemp(join(this.root, 'incoming-'));
      try {
        await this.downloadInto(incoming, missing, packages.length, onProgress);
      } finally {
        await rm(incoming, { recursive: true, force: true });
      }
    }
    onProgress(packages.length, packages.length, '');
    return packages.map((pkg) => {
      const path = join(this.archives, debFileName(pkg));
      if (!existsSync(path)) throw new B2cError(`apt reported ${pkg.name} ${pkg.version} downloaded, but ${path} is missing`);
      return path;
    });
  }

  private async downloadInto(
    incoming: string,
    missing: readonly DebianPackage[],
    total: number,
    onProgress: (done: number, total: number, name: string) => void,
  ): Promise<void> {
    let done = total - missing.length;
    // A few packages per apt call: progress stays visible and a failure names its batch.
    for (let i = 0; i < missing.length; i += 8) {
      const batch = missing.slice(i, i + 8);
      onProgress(done, total, batch.map((pkg) => pkg.name).join(' '));
      try {
        await runChecked(this.system, ['apt-get', 'download', '--quiet', ...batch.map((pkg) => `${pkg.name}=${pkg.version}`)], {
          env: this.env,
          cwd: incoming,
          captureStdout: true,
        });
        for (const pkg of batch) await rename(join(incoming, debFileName(pkg)), join(this.archives, debFileName(pkg)));
      } catch (error) {
        throw new B2cError(`cannot download ${batch.map((pkg) => pkg.name).join(', ')}`, { cause: error });
      }
      done += batch.length;
    }
  }
}
