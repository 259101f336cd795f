// Decides where podman's storage goes from b2c.cache_device and the machine's block devices, never touching data that is not ours unasked.

import type { CacheDevice, FilesystemConfig } from '../cmdline/config.ts';

export const CACHE_LABEL = 'B2C_CACHE';

/** How many bytes from a device's start `classifyHeader` wants to see. */
export const HEADER_BYTES = 68 * 1024;

export type HeaderKind = 'blank' | 'partition-table' | 'ext' | 'other-filesystem';

export interface DeviceHeader {
  kind: HeaderKind;
  /** The ext2/3/4 volume label, when the device holds one. */
  label?: string;
  /** What was found, for messages. */
  what?: string;
  /** The kernel's name of the filesystem found (`ext4`, `xfs`, `vfat` …), whose module mounts it. */
  filesystem?: string;
  /** An ext filesystem whose journal still needs recovery: it was not unmounted cleanly (a power cut, a reset, a farm's timeout). */
  needsRecovery?: boolean;
  /** Nothing but zeros: a partition never formatted. */
  zeroed?: boolean;
  /** The label of a backup ext superblock found further in, when the first one is gone. */
  backupLabel?: string;
}

function ascii(bytes: Uint8Array, offset: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(offset, offset + length));
}

/** Reads the signatures at a device's start: partition tables, ext superblocks, and other well-known filesystems or containers. */
export function classifyHeader(bytes: Uint8Array, sectorSize = 512): DeviceHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const has = (offset: number, text: string): boolean => bytes.length >= offset + text.length && ascii(bytes, offset, text.length) === text;
  if (has(sectorSize, 'EFI PART') || has(512, 'EFI PART') || has(4096, 'EFI PART')) return { kind: 'partition-table', what: 'a GPT partition table' };
  if (bytes.length >= 1024 + 0x88 && view.getUint16(1024 + 0x38, true) === 0xef53) {
    const label = ascii(bytes, 1024 + 0x78, 16).replace(/\0.*$/s, '');
    // s_feature_incompat's RECOVER bit: set while mounted, cleared by a clean unmount.
    const needsRecovery = (view.getUint32(1024 + 0x60, true) & 0x4) !== 0;
    // The ext4 driver mounts ext2 and ext3 too.
    return { kind: 'ext', label, what: `an ext filesystem${label ? ` labelled ${label}` : ''}`, needsRecovery, filesystem: 'ext4' };
  }
  const signatures: Array<[number, string, string, string?]> = [
    [0, 'XFSB', 'an XFS filesystem', 'xfs'],
    [0, 'LUKS\xba\xbe', 'a LUKS volume'],
    [512, 'LABELONE', 'an LVM physical volume'],
    [536, 'LABELONE', 'an LVM physical volume'],
    [4086, 'SWAPSPACE2', 'a swap area'],
    [4086, 'SWAP-SPACE', 'a swap area'],
    [65600, '_BHRfS_M', 'a Btrfs filesystem', 'btrfs'],
    [3, 'NTFS    ', 'an NTFS filesystem', 'ntfs3'],
    [3, 'EXFAT   ', 'an exFAT filesystem', 'exfat'],
    [1024, '\x10\x20\xf5\xf2', 'an F2FS filesystem', 'f2fs'],
    [54, 'FAT', 'a FAT filesystem', 'vfat'],
    [82, 'FAT32   ', 'a FAT filesystem', 'vfat'],
  ];
  for (const [offset, text, what, filesystem] of signatures) {
    if (has(offset, text)) return { kind: 'other-filesystem', what, ...(filesystem !== undefined ? { filesystem } : {}) };
  }
  if (bytes.length >= 512 && bytes[510] === 0x55 && bytes[511] === 0xaa) return { kind: 'partition-table', what: 'an MBR partition table' };
  return bytes.every((byte) => byte === 0) ? { kind: 'blank', zeroed: true } : { kind: 'blank' };
}

/**
 * Where an ext filesystem keeps the backup superblock of its block group 1,
 * for each block size mke2fs picks (4 KiB, 1 KiB, 2 KiB): read when the
 * first superblock is gone, to tell b2c's own filesystem from anything else.
 */
export const BACKUP_SUPERBLOCK_OFFSETS = [32768 * 4096, 8193 * 1024, 16384 * 2048];

/** The label of an ext superblock (1024 bytes read at its offset), or undefined when these bytes are none. */
export function superblockLabel(bytes: Uint8Array): string | undefined {
  if (bytes.length < 0x88) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return view.getUint16(0x38, true) === 0xef53 ? ascii(bytes, 0x78, 16).replace(/\0.*$/s, '') : undefined;
}

/**
 * A partition b2c made whose filesystem lost its first superblock: named
 * B2C_CACHE in the GPT and either never formatted (all zeros) or still
 * holding a backup superblock labelled B2C_CACHE. Anything else in it (a
 * filesystem b2c does not know) is someone's, and is left alone.
 */
function isDamagedCache(device: BlockDevice): boolean {
  return (
    device.kind === 'partition' &&
    device.partitionName === CACHE_LABEL &&
    device.header.kind === 'blank' &&
    (device.header.zeroed === true || device.header.backupLabel === CACHE_LABEL)
  );
}

export interface BlockDevice {
  /** `vda`, `vda1`, `nvme0n1p2` … */
  name: string;
  path: string;
  kind: 'disk' | 'partition';
  /** The disk a partition is on. */
  disk?: string;
  sizeBytes: number;
  sectorSize: number;
  /** Optical drives and read-only devices are never a cache. */
  optical: boolean;
  readOnly: boolean;
  /** A GPT partition's name (`B2C_CACHE` on the partitions b2c makes), which outlives whatever is written over the filesystem in it. */
  partitionName?: string;
  header: DeviceHeader;
}

export type CachePlan =
  | { action: 'none'; message: string }
  /**
   * Mount an existing cache; `mayReformat` when a broken one may be formatted
   * anew (auto, reset); `endedUncleanly` when the last boot on it did not
   * unmount it, so that what podman wrote last may be damaged.
   */
  | { action: 'mount'; device: string; mayReformat: boolean; endedUncleanly: boolean; message: string }
  | { action: 'format'; device: string; message: string }
  | { action: 'partition'; disk: string; sizeBytes: number; sectorSize: number; message: string }
  | { action: 'filesystem'; filesystem: FilesystemConfig; message: string };

function byName(a: BlockDevice, b: BlockDevice): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function unreserved(devices: readonly BlockDevice[], reserved: readonly string[]): BlockDevice[] {
  const taken = devices.filter((device) => reserved.includes(device.path));
  const takenDisks = new Set(taken.filter((device) => device.kind === 'disk').map((device) => device.name));
  const disksHoldingTaken = new Set(taken.flatMap((device) => (device.disk === undefined ? [] : [device.disk])));
  return devices.filter(
    (device) =>
      !taken.includes(device) && !(device.disk !== undefined && takenDisks.has(device.disk)) && !(device.kind === 'disk' && disksHoldingTaken.has(device.name)),
  );
}

/** Devices that can hold a cache at all: not optical, writable, not empty, not a loop or RAM disk. */
function usable(devices: readonly BlockDevice[]): BlockDevice[] {
  return devices.filter((device) => !device.optical && !device.readOnly && device.sizeBytes > 0 && !/^(loop|ram|zram)\d/.test(device.name)).sort(byName);
}

/**
 * The plan for `auto` and `reset`: the first B2C_CACHE partition by name, else
 * the first disk (by name) with nothing on it at all. A disk that holds a
 * partition table or a filesystem is someone's: it is left alone.
 */
function planAuto(setting: 'auto' | 'reset', devices: readonly BlockDevice[]): CachePlan {
  const candidates = usable(devices);
  const cache = candidates.find((device) => device.header.kind === 'ext' && device.header.label === CACHE_LABEL);
  // A partition b2c made whose superblock was written over: its GPT entry still says whose it is.
  // One that holds any filesystem was made so on purpose, and is left alone.
  const damaged = cache ? undefined : candidates.find(isDamagedCache);
  if (damaged?.header.zeroed) return { action: 'format', device: damaged.path, message: damagedMessage(damaged) };
  const found = cache ?? damaged;
  if (found) {
    if (setting === 'reset')
      return { action: 'format', device: found.path, message: `Formatting the cache partition ${found.path} anew (b2c.cache_device=reset)` };
    return {
      action: 'mount',
      device: found.path,
      mayReformat: true,
      endedUncleanly: damaged !== undefined || found.header.needsRecovery === true,
      message: damaged ? damagedMessage(found) : `Using the cache partition ${found.path}`,
    };
  }
  const blank = candidates.find(
    (device) => device.kind === 'disk' && device.header.kind === 'blank' && !candidates.some((other) => other.disk === device.name),
  );
  if (blank) {
    return {
      action: 'partition',
      disk: blank.path,
      sizeBytes: blank.sizeBytes,
      sectorSize: blank.sectorSize,
      message: `No ${CACHE_LABEL} partition: making one on the blank disk ${blank.path}`,
    };
  }
  const skipped = candidates.filter((device) => device.kind === 'disk').map((device) => `${device.path} (${device.header.what ?? 'in use'})`);
  return {
    action: 'none',
    message: `No ${CACHE_LABEL} partition and no blank disk${skipped.length > 0 ? `; left alone: ${skipped.join(', ')}` : ''}: the cache stays in RAM`,
  };
}

function damagedMessage(device: BlockDevice): string {
  return device.header.zeroed
    ? `${device.path} is b2c's partition (named ${CACHE_LABEL}) but was never formatted: formatting it`
    : `${device.path} is b2c's partition (named ${CACHE_LABEL}) but its filesystem lost its first superblock: repairing it from a backup`;
}

/** The plan for a device the user named: theirs to have formatted. */
function planDevice(path: string, devices: readonly BlockDevice[]): CachePlan {
  const device = devices.find((candidate) => candidate.path === path);
  if (!device) return { action: 'none', message: `${path} does not exist: the cache stays in RAM` };
  if (device.optical || device.readOnly)
    return { action: 'none', message: `${path} is ${device.optical ? 'an optical drive' : 'read-only'}: the cache stays in RAM` };
  if (device.kind === 'partition') {
    if (device.header.kind === 'ext' && device.header.label)
      return {
        action: 'mount',
        device: path,
        mayReformat: false,
        endedUncleanly: device.header.needsRecovery === true,
        message: `Using ${path} (labelled ${device.header.label}) as the cache`,
      };
    if (device.header.kind === 'ext' || device.header.kind === 'blank')
      return { action: 'format', device: path, message: `${path} has no label: formatting it as the cache` };
    return { action: 'none', message: `${path} holds ${device.header.what}, not an ext filesystem: the cache stays in RAM` };
  }
  const cache = devices
    .filter((candidate) => candidate.disk === device.name && candidate.header.kind === 'ext' && candidate.header.label === CACHE_LABEL)
    .sort(byName)[0];
  if (cache) {
    return {
      action: 'mount',
      device: cache.path,
      mayReformat: false,
      endedUncleanly: cache.header.needsRecovery === true,
      message: `Using the cache partition ${cache.path} of ${path}`,
    };
  }
  // The disk was named, so it may be formatted; its images are kept when e2fsck can bring them back.
  const damaged = devices.filter((candidate) => candidate.disk === device.name && isDamagedCache(candidate)).sort(byName)[0];
  if (damaged?.header.zeroed) return { action: 'format', device: damaged.path, message: damagedMessage(damaged) };
  if (damaged) return { action: 'mount', device: damaged.path, mayReformat: true, endedUncleanly: true, message: damagedMessage(damaged) };
  return {
    action: 'partition',
    disk: path,
    sizeBytes: device.sizeBytes,
    sectorSize: device.sectorSize,
    message: `${path} has no ${CACHE_LABEL} partition: repartitioning it (b2c.cache_device=${path})`,
  };
}

/**
 * `reserved`: device paths b2c.swap or a b2c.filesystem takes, which `auto`
 * must never pick (a blank swap disk looks like any blank disk at the first
 * boot): the device itself, the disk holding it (partitioning would erase
 * it), and the partitions of a reserved disk.
 */
export function planCache(
  setting: CacheDevice,
  devices: readonly BlockDevice[],
  filesystems: readonly FilesystemConfig[],
  reserved: readonly string[] = [],
): CachePlan {
  switch (setting.kind) {
    case 'none':
      return { action: 'none', message: 'No cache device (b2c.cache_device=none): images and volumes live in RAM' };
    case 'auto':
    case 'reset':
      return planAuto(setting.kind, unreserved(devices, reserved));
    case 'device':
      return planDevice(setting.path, devices);
    case 'filesystem': {
      const filesystem = filesystems.find((candidate) => candidate.name === setting.name);
      if (!filesystem) return { action: 'none', message: `No b2c.filesystem is named ${setting.name}: the cache stays in RAM` };
      return { action: 'filesystem', filesystem, message: `Mounting the filesystem ${setting.name} (${filesystem.src}) as the cache` };
    }
  }
}
