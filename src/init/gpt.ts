// Writes a GUID partition table with one Linux partition over a whole disk: the layout of a new cache disk.

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 as GPT (and zlib) computes it. */
export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = (CRC_TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** A GUID's text form in GPT's on-disk layout: the first three fields little-endian. */
export function guidBytes(guid: string): Uint8Array {
  const hex = guid.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new RangeError(`not a GUID: ${guid}`);
  const bytes = Uint8Array.from(hex.match(/../g) as string[], (pair) => parseInt(pair, 16));
  // reverse() on a subarray turns those bytes around in place.
  bytes.subarray(0, 4).reverse();
  bytes.subarray(4, 6).reverse();
  bytes.subarray(6, 8).reverse();
  return bytes;
}

export const LINUX_FILESYSTEM_GUID = '0FC63DAF-8483-4772-8E79-3D69D8477DE4';
const ENTRY_COUNT = 128;
const ENTRY_SIZE = 128;
const ALIGNMENT_BYTES = 1024 * 1024;

export interface GptWrite {
  offset: number;
  data: Uint8Array;
}

export interface GptLayout {
  /** The blocks to write, at their byte offsets. */
  writes: GptWrite[];
  firstLba: number;
  lastLba: number;
}

/**
 * The protective MBR, both GPT headers and both entry arrays for one
 * partition from 1 MiB to the last usable, aligned sector. `randomGuid` gives
 * the disk's and the partition's unique GUIDs.
 */
export function singlePartitionGpt(diskBytes: number, sectorSize: number, partitionName: string, randomGuid: () => string): GptLayout {
  const sectors = Math.floor(diskBytes / sectorSize);
  const entriesSectors = Math.ceil((ENTRY_COUNT * ENTRY_SIZE) / sectorSize);
  const lastLba = sectors - 1;
  const firstUsable = 2 + entriesSectors;
  const lastUsable = lastLba - 1 - entriesSectors;
  const alignment = ALIGNMENT_BYTES / sectorSize;
  const partitionFirst = Math.max(alignment, Math.ceil(firstUsable / alignment) * alignment);
  const partitionLast = Math.floor((lastUsable + 1) / alignment) * alignment - 1;
  if (partitionLast <= partitionFirst) throw new RangeError(`a disk of ${diskBytes} bytes is too small for a partition`);

  const entries = new Uint8Array(ENTRY_COUNT * ENTRY_SIZE);
  const entry = new DataView(entries.buffer);
  entries.set(guidBytes(LINUX_FILESYSTEM_GUID), 0);
  entries.set(guidBytes(randomGuid()), 16);
  entry.setBigUint64(32, BigInt(partitionFirst), true);
  entry.setBigUint64(40, BigInt(partitionLast), true);
  for (let i = 0; i < Math.min(partitionName.length, 36); i++) entry.setUint16(56 + i * 2, partitionName.charCodeAt(i), true);
  const entriesCrc = crc32(entries);
  const diskGuid = guidBytes(randomGuid());

  const header = (current: number, backup: number, entriesLba: number): Uint8Array => {
    const bytes = new Uint8Array(sectorSize);
    const view = new DataView(bytes.buffer);
    for (const [i, char] of [...'EFI PART'].entries()) bytes[i] = char.charCodeAt(0);
    view.setUint32(8, 0x00010000, true);
    view.setUint32(12, 92, true);
    view.setBigUint64(24, BigInt(current), true);
    view.setBigUint64(32, BigInt(backup), true);
    view.setBigUint64(40, BigInt(firstUsable), true);
    view.setBigUint64(48, BigInt(lastUsable), true);
    bytes.set(diskGuid, 56);
    view.setBigUint64(72, BigInt(entriesLba), true);
    view.setUint32(80, ENTRY_COUNT, true);
    view.setUint32(84, ENTRY_SIZE, true);
    view.setUint32(88, entriesCrc, true);
    view.setUint32(16, crc32(bytes.subarray(0, 92)), true);
    return bytes;
  };

  // The protective MBR tells tools that know only MBR that the whole disk is taken.
  const mbr = new Uint8Array(sectorSize);
  const mbrView = new DataView(mbr.buffer);
  mbr.set([0x00, 0x00, 0x02, 0x00, 0xee, 0xff, 0xff, 0xff], 446);
  mbrView.setUint32(446 + 8, 1, true);
  mbrView.setUint32(446 + 12, Math.min(sectors - 1, 0xffffffff), true);
  mbr[510] = 0x55;
  mbr[511] = 0xaa;

  const backupEntriesLba = lastLba - entriesSectors;
  return {
    writes: [
      { offset: 0, data: mbr },
      { offset: sectorSize, data: header(1, lastLba, 2) },
      { offset: 2 * sectorSize, data: entries },
      { offset: backupEntriesLba * sectorSize, data: entries },
      { offset: lastLba * sectorSize, data: header(lastLba, 1, backupEntriesLba) },
    ],
    firstLba: partitionFirst,
    lastLba: partitionLast,
  };
}
