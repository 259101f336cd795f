// Sets up the cache disk: finds the machine's block devices and carries out the cache plan.

import type { B2cConfig, FilesystemConfig } from '../cmdline/config.ts';
import type { System } from '../system/system.ts';
import {
  BACKUP_SUPERBLOCK_OFFSETS,
  CACHE_LABEL,
  classifyHeader,
  HEADER_BYTES,
  planCache,
  superblockLabel,
  type BlockDevice,
  type CachePlan,
} from './cache-plan.ts';
import { singlePartitionGpt } from './gpt.ts';
import { CONTAINER_STORAGE } from '../image-layout.ts';
import type { Log } from './console.ts';
import { reportDriverlessDevices, type DriverFinder } from './devices.ts';

export const DEVICE_WAIT_MS = 10_000;
/**
 * How long `auto` waits for a first disk when it sees none: a USB drive
 * (usb-storage waits a second before its scan) or an SD card on a host
 * whose driver just loaded shows up after the first coldplug.
 */
export const FIRST_DISK_WAIT_MS = 5_000;

function randomGuid(): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(Math.random() * 16).toString(16)).join('');
  // Version 4, variant 1.
  const variant = ((parseInt(hex[16] as string, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The first partition's name: `vda` → `vda1`, `nvme0n1` → `nvme0n1p1`. */
export function firstPartitionName(disk: string): string {
  return /\d$/.test(disk) ? `${disk}p1` : `${disk}1`;
}

export class CacheDisk {
  constructor(
    private readonly system: System,
    private readonly output: Log,
    /** Loads drivers for devices that appeared since boot: called while waiting for a named device. */
    private readonly probeNewDevices: () => Promise<unknown> = async () => {},
    /** Names the drivers of devices none took, when no disk shows up. */
    private readonly drivers?: DriverFinder,
    /** Loads the module of what a b2c.filesystem's device holds, once the device is there. */
    private readonly readyToMount: (filesystem: FilesystemConfig) => Promise<FilesystemConfig> = async (filesystem) => filesystem,
  ) {}

  private async readNumber(path: string): Promise<number> {
    return Number(((await this.system.readText(path)) ?? '0').trim()) || 0;
  }

  private async describe(name: string, sysPath: string, kind: 'disk' | 'partition', disk?: string): Promise<BlockDevice> {
    const path = `/dev/${name}`;
    const diskPath = `/sys/block/${disk ?? name}`;
    const sectorSize = (await this.readNumber(`${diskPath}/queue/logical_block_size`)) || 512;
    const header = await this.system.readBytes(path, 0, HEADER_BYTES);
    const partitionName = kind === 'partition' ? /^PARTNAME=(.*)$/m.exec((await this.system.readText(`${sysPath}/uevent`)) ?? '')?.[1] : undefined;
    const classified = header === undefined ? ({ kind: 'other-filesystem', what: 'something unreadable' } as const) : classifyHeader(header, sectorSize);
    // b2c's own partition with its first superblock gone: a backup one tells whether the filesystem in it is still b2c's.
    const backupLabel = partitionName === CACHE_LABEL && classified.kind === 'blank' && !classified.zeroed ? await this.backupSuperblockLabel(path) : undefined;
    return {
      name,
      path,
      kind,
      ...(disk !== undefined ? { disk } : {}),
      // sysfs counts 512-byte sectors whatever the device's own sector size.
      sizeBytes: (await this.readNumber(`${sysPath}/size`)) * 512,
      sectorSize,
      optical: /^sr\d/.test(disk ?? name) || ((await this.system.readText(`${diskPath}/device/type`)) ?? '').trim() === '5',
      readOnly: (await this.readNumber(`${sysPath}/ro`)) === 1,
      ...(partitionName !== undefined ? { partitionName } : {}),
      header: backupLabel === undefined ? classified : { ...classified, backupLabel },
    };
  }

  private async backupSuperblockLabel(path: string): Promise<string | undefined> {
    for (const offset of BACKUP_SUPERBLOCK_OFFSETS) {
      const label = superblockLabel((await this.system.readBytes(path, offset, 1024)) ?? new Uint8Array());
      if (label !== undefined) return label;
    }
    return undefined;
  }

  async blockDevices(): Promise<BlockDevice[]> {
    const devices: BlockDevice[] = [];
    for (const disk of await this.system.listDir('/sys/block')) {
      if (/^(loop|ram|zram)\d/.test(disk)) continue;
      devices.push(await this.describe(disk, `/sys/block/${disk}`, 'disk'));
      for (const entry of await this.system.listDir(`/sys/block/${disk}`)) {
        if (await this.system.exists(`/sys/block/${disk}/${entry}/partition`)) {
          devices.push(await this.describe(entry, `/sys/block/${disk}/${entry}`, 'partition', disk));
        }
      }
    }
    return devices;
  }

  private async waitFor(path: string, milliseconds = DEVICE_WAIT_MS): Promise<boolean> {
    const started = this.system.now();
    for (let round = 0; ; round++) {
      if (await this.system.exists(path)) return true;
      if (this.system.now() - started >= milliseconds) return false;
      // Said once, so that a slow disk shows on the console as the wait it is.
      if (round === 0) await this.output.log(`Waiting up to ${Math.round(milliseconds / 1000)} s for ${path} to appear`);
      if (round % 10 === 0) await this.probeNewDevices();
      await this.system.sleep(100);
    }
  }

  private async run(argv: string[]): Promise<{ ok: boolean; detail: string }> {
    const result = await this.system.run(argv, { captureStdout: true, captureStderr: true });
    return { ok: result.status === 0, detail: `${argv[0]} exited with ${result.status}: ${(result.stderr || result.stdout).trim()}` };
  }

  private async format(device: string): Promise<boolean> {
    // The encrypt feature lets volumes use fscrypt on the cache.
    const result = await this.run(['mke2fs', '-q', '-F', '-t', 'ext4', '-O', 'encrypt', '-L', CACHE_LABEL, device]);
    if (!result.ok) await this.output.log(`Could not format ${device}: ${result.detail}`);
    return result.ok;
  }

  private async mount(device: string, type = 'ext4', options: string[] = []): Promise<{ ok: boolean; detail: string }> {
    await this.system.makeDirectory(CONTAINER_STORAGE);
    return this.run(['mount', '-t', type, ...(options.length > 0 ? ['-o', options.join(',')] : []), device, CONTAINER_STORAGE]);
  }

  private async partition(disk: string, sizeBytes: number, sectorSize: number): Promise<string | undefined> {
    const layout = singlePartitionGpt(sizeBytes, sectorSize, CACHE_LABEL, randomGuid);
    for (const write of layout.writes) await this.system.writeBytes(disk, write.offset, write.data);
    const reread = await this.run(['blockdev', '--rereadpt', disk]);
    if (!reread.ok) await this.output.log(`The kernel did not re-read the partitions of ${disk}: ${reread.detail}`);
    const partition = `/dev/${firstPartitionName(disk.slice('/dev/'.length))}`;
    if (!(await this.waitFor(partition))) {
      await this.output.log(`${partition} did not appear after partitioning ${disk}`);
      return undefined;
    }
    return partition;
  }

  /** Mounts a B2C_CACHE partition, checking it with e2fsck when it will not mount; `formatted` when only formatting it anew did. */
  private async mountExisting(device: string, mayReformat: boolean): Promise<'mounted' | 'formatted' | 'failed'> {
    const first = await this.mount(device);
    if (first.ok) return 'mounted';
    await this.output.log(`${device} does not mount (${first.detail}): checking it with e2fsck`);
    // The cache holds nothing that cannot be downloaded again: let e2fsck fix all it can.
    const check = await this.system.run(['e2fsck', '-f', '-y', device], { captureStdout: true, captureStderr: true });
    // e2fsck: 0 clean, 1 errors corrected; anything else left errors behind.
    if (check.status <= 1 && (await this.mount(device)).ok) {
      await this.output.log(`e2fsck repaired ${device}`);
      return 'mounted';
    }
    if (!mayReformat) {
      await this.output.log(`${device} cannot be repaired (e2fsck exited with ${check.status}); it was named explicitly, so it is left as it is`);
      return 'failed';
    }
    await this.output.log(`!!! ${device} cannot be repaired (e2fsck exited with ${check.status}): FORMATTING IT ANEW, its cached images are lost !!!`);
    return (await this.format(device)) && (await this.mount(device)).ok ? 'formatted' : 'failed';
  }

  /** Carries out the plan; `endedUncleanly` only for a cache mounted as the last boot left it. */
  async carryOut(plan: CachePlan): Promise<{ mounted: boolean; endedUncleanly: boolean }> {
    await this.output.log(plan.message);
    if (plan.action === 'mount') {
      const result = await this.mountExisting(plan.device, plan.mayReformat);
      return { mounted: result !== 'failed', endedUncleanly: plan.endedUncleanly && result === 'mounted' };
    }
    return { mounted: await this.mountAnew(plan), endedUncleanly: false };
  }

  private async mountAnew(plan: Exclude<CachePlan, { action: 'mount' }>): Promise<boolean> {
    switch (plan.action) {
      case 'none':
        return false;
      case 'format':
        return (await this.format(plan.device)) && (await this.mountOrSay(plan.device));
      case 'partition': {
        const partition = await this.partition(plan.disk, plan.sizeBytes, plan.sectorSize);
        return partition !== undefined && (await this.format(partition)) && (await this.mountOrSay(partition));
      }
      case 'filesystem': {
        await this.waitFor(plan.filesystem.src, plan.filesystem.src.startsWith('/dev/') ? DEVICE_WAIT_MS : 0);
        const filesystem = await this.readyToMount(plan.filesystem);
        const mounted = await this.mount(filesystem.src, filesystem.type ?? 'auto', filesystem.opts);
        if (!mounted.ok) await this.output.log(`Could not mount the filesystem ${filesystem.name}: ${mounted.detail}`);
        return mounted.ok;
      }
    }
  }

  private async mountOrSay(device: string): Promise<boolean> {
    const mounted = await this.mount(device);
    if (!mounted.ok) await this.output.log(`Could not mount ${device}: ${mounted.detail}`);
    return mounted.ok;
  }

  /**
   * Plans and sets up the cache. A named device gets up to 10 s to appear.
   * `mounted` is false when the storage stays in RAM; `endedUncleanly` when the
   * last boot on the cache did not unmount it, so what podman wrote last may
   * never have reached the disk.
   */
  async setUp(config: B2cConfig): Promise<{ mounted: boolean; endedUncleanly: boolean }> {
    let deviceMissing = false;
    if (config.cacheDevice.kind === 'device' && !(await this.waitFor(config.cacheDevice.path))) {
      await this.output.log(`${config.cacheDevice.path} did not appear within ${DEVICE_WAIT_MS / 1000} s`);
      deviceMissing = true;
    }
    let devices = config.cacheDevice.kind === 'none' ? [] : await this.blockDevices();
    if ((config.cacheDevice.kind === 'auto' || config.cacheDevice.kind === 'reset') && !devices.some((device) => device.sizeBytes > 0)) {
      devices = await this.waitForFirstDisk();
    }
    // No disk at all where one was asked for: a disk controller without a driver is the likely cause.
    const noDisk = config.cacheDevice.kind === 'auto' || config.cacheDevice.kind === 'reset' ? devices.length === 0 : deviceMissing;
    if (noDisk && this.drivers !== undefined) await reportDriverlessDevices(this.system, this.output, this.drivers);
    const reserved = [...(config.swap?.kind === 'device' ? [config.swap.path] : []), ...config.filesystems.map((filesystem) => filesystem.src)];
    const plan = planCache(config.cacheDevice, devices, config.filesystems, reserved);
    const result = await this.carryOut(plan);
    if (!result.mounted && plan.action !== 'none') await this.output.log('The cache could not be set up: images and volumes live in RAM');
    return result;
  }

  /** Lists the block devices again, loading drivers meanwhile, until one with a size shows up or FIRST_DISK_WAIT_MS pass. */
  private async waitForFirstDisk(): Promise<BlockDevice[]> {
    await this.output.log(`No disk yet: waiting up to ${FIRST_DISK_WAIT_MS / 1000} s for one to appear`);
    const started = this.system.now();
    for (;;) {
      await this.probeNewDevices();
      const devices = await this.blockDevices();
      if (devices.some((device) => device.sizeBytes > 0) || this.system.now() - started >= FIRST_DISK_WAIT_MS) return devices;
      await this.system.sleep(500);
    }
  }
}
