// Readies the b2c.filesystems: NFS shares become NFSv4 mounts the kernel takes, and the image stores of b2c.storage are mounted for podman.

import type { B2cConfig, FilesystemConfig } from '../cmdline/config.ts';
import { isIpAddress } from '../cmdline/values.ts';
import { IMAGE_STORES_DIRECTORY, STORAGE_CONF, storageConf } from '../image-layout.ts';
import type { System } from '../system/system.ts';
import type { Log } from './console.ts';
import { classifyHeader, HEADER_BYTES } from './cache-plan.ts';
import type { KernelModules } from './modules.ts';

export function isNfs(filesystem: FilesystemConfig): boolean {
  return filesystem.type === 'nfs' || filesystem.type === 'nfs4';
}

/** The server and path of `HOST:/path` (`[IPv6]:/path` too); undefined for anything else. */
export function nfsShare(src: string): { host: string; path: string } | undefined {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:/[\]]+)):(\/.*)$/.exec(src);
  if (!match) return undefined;
  return { host: (match[1] ?? match[2]) as string, path: match[3] as string };
}

/**
 * An NFS share as the kernel's client mounts it without a helper program:
 * NFSv4 (one TCP port, no portmapper or lock daemon), with the server's
 * address in `addr=`, since the kernel resolves no names itself.
 */
export function nfsMountable(filesystem: FilesystemConfig, address: string): FilesystemConfig {
  const opts = filesystem.opts.filter((option) => !option.startsWith('addr=') && !/^(nfs)?vers=[23]$/.test(option));
  return { ...filesystem, type: 'nfs4', opts: [...opts, `addr=${address}`] };
}

/** The addresses busybox nslookup gives for the name asked (those after `Name:`, not the server's own). */
export function parseNslookupAddresses(output: string): string[] {
  const addresses: string[] = [];
  let answer = false;
  for (const line of output.split('\n')) {
    if (/^Name:/.test(line)) answer = true;
    const address = /^Address(?: \d+)?:\s*([0-9A-Fa-f:.]+)\s*$/.exec(line)?.[1];
    if (answer && address !== undefined && isIpAddress(address)) addresses.push(address);
  }
  return addresses;
}

/** Folder where the image store of the b2c.filesystem NAME is mounted. */
export function imageStorePath(name: string): string {
  return `${IMAGE_STORES_DIRECTORY}/${name}`;
}

export class Filesystems {
  constructor(
    private readonly system: System,
    private readonly output: Log,
    private readonly modules: KernelModules,
  ) {}

  /**
   * The filesystems made mountable: each NFS share as NFSv4 (one whose server
   * has no address is left as it is, and its mount fails with the reason),
   * each block device with the module of the filesystem it holds loaded.
   */
  async resolve(filesystems: readonly FilesystemConfig[]): Promise<FilesystemConfig[]> {
    if (!filesystems.some(isNfs)) return Promise.all(filesystems.map((filesystem) => this.readyToMount(filesystem)));
    await this.modules.loadNamed(['nfsv4']);
    if (!/\bnfs4$/m.test((await this.system.readText('/proc/filesystems')) ?? '')) {
      // The image leaves NFS to the modules add-on: most farms never mount it.
      await this.output.log(
        'Warning: this kernel has no NFSv4 client: the bootloader must load the modules add-on (linux-ARCH.modules.cpio.xz) after the initramfs',
      );
    }
    const resolved: FilesystemConfig[] = [];
    for (const filesystem of filesystems) {
      const share = isNfs(filesystem) ? nfsShare(filesystem.src) : undefined;
      if (!isNfs(filesystem)) {
        resolved.push(await this.readyToMount(filesystem));
      } else if (share === undefined) {
        await this.output.log(`Warning: b2c.filesystem=${filesystem.name}: ${filesystem.src} is not HOST:/path, as an NFS share must be`);
        resolved.push(filesystem);
      } else {
        const address = isIpAddress(share.host) ? share.host : await this.lookUp(share.host);
        resolved.push(address === undefined ? filesystem : nfsMountable(filesystem, address));
      }
    }
    return resolved;
  }

  /**
   * A filesystem on a block device with its type known and its module loaded:
   * the type given, else the one its superblock shows (a farm's disk holds
   * whatever it holds, and no udev loads ext4 or xfs for it). A device not
   * there yet is left to the mount, which says so; a type no archive has a
   * module for is said, naming the add-on that has it.
   */
  async readyToMount(filesystem: FilesystemConfig): Promise<FilesystemConfig> {
    if (!filesystem.src.startsWith('/dev/') || !(await this.system.exists(filesystem.src))) return filesystem;
    const given = filesystem.type !== undefined && filesystem.type !== 'auto' ? filesystem.type : undefined;
    const header = given === undefined ? await this.system.readBytes(filesystem.src, 0, HEADER_BYTES) : undefined;
    const type = given ?? (header === undefined ? undefined : classifyHeader(header).filesystem);
    if (type === undefined) return filesystem;
    if (!(await this.kernelHas(type))) {
      await this.modules.loadNamed(await this.modules.modulesMatching(`fs-${type}`));
      if (!(await this.kernelHas(type))) {
        const addons = await this.modules.addonsMatching(`fs-${type}`);
        const where =
          addons[0] === undefined
            ? 'no module of this image or its add-ons has it'
            : `the ${addons[0].addon} add-on has ${addons[0].modules.join(', ')}: load ${addons[0].file} after the initramfs`;
        await this.output.log(`b2c.filesystem=${filesystem.name}: ${filesystem.src} holds ${type}, which this kernel cannot mount yet: ${where}`);
      }
    }
    return { ...filesystem, type };
  }

  private async kernelHas(type: string): Promise<boolean> {
    return new RegExp(`\\t${type}$`, 'm').test((await this.system.readText('/proc/filesystems')) ?? '');
  }

  private async lookUp(host: string): Promise<string | undefined> {
    const result = await this.system.run(['nslookup', host], { captureStdout: true, captureStderr: true });
    const address = parseNslookupAddresses(result.stdout)[0];
    if (address === undefined) await this.output.log(`Cannot find the address of the NFS server ${host}: ${(result.stderr || result.stdout).trim()}`);
    return address;
  }

  /**
   * Mounts the image stores b2c.storage names, read-only, and gives them to
   * podman before it first runs; a store that does not mount is left out with
   * a message, and steps that need its images then fail as podman says.
   */
  async mountImageStores(config: B2cConfig): Promise<void> {
    const paths: string[] = [];
    for (const name of config.storage.additionalImageStores) {
      const filesystem = config.filesystems.find((candidate) => candidate.name === name);
      if (filesystem === undefined) continue;
      const path = imageStorePath(name);
      await this.system.makeDirectory(path);
      const opts = [...new Set(['ro', ...filesystem.opts.filter((option) => option !== 'rw')])];
      const argv = ['mount', '-t', filesystem.type ?? 'auto', '-o', opts.join(','), filesystem.src, path];
      const result = await this.system.run(argv, { captureStdout: true, captureStderr: true });
      if (result.status === 0) {
        paths.push(path);
        await this.output.log(`Image store ${name}: ${filesystem.src} mounted read-only on ${path}`);
      } else {
        await this.output.log(
          `Could not mount the image store ${name} (${filesystem.src}): ${(result.stderr || result.stdout).trim() || `status ${result.status}`}`,
        );
      }
    }
    if (paths.length > 0) await this.system.writeText(STORAGE_CONF, storageConf(paths));
  }
}
