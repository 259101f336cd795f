// Writes the "newc" cpio archive the kernel unpacks as its initramfs, deterministically.

export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
export const S_IFCHR = 0o020000;

export interface CpioEntry {
  /** Path inside the archive, without a leading slash (`usr/bin/qjs`). */
  path: string;
  /** File type bits and permissions, e.g. `S_IFREG | 0o755`. */
  mode: number;
  /** File contents, or a symlink's target; empty for directories and devices. */
  data: Uint8Array;
  /** For character devices. */
  rdevMajor?: number;
  rdevMinor?: number;
}

const MAGIC = '070701';
const TRAILER = 'TRAILER!!!';

function hex8(value: number): string {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`cpio field out of range: ${value}`);
  return value.toString(16).padStart(8, '0');
}

function padding(length: number): Uint8Array {
  return new Uint8Array((4 - (length % 4)) % 4);
}

/** The header and padded name of one entry; its data follows, padded to four bytes. */
export function cpioHeader(entry: CpioEntry, inode: number, mtime: number): Uint8Array {
  const name = new TextEncoder().encode(`${entry.path}\0`);
  const isDir = (entry.mode & 0o170000) === S_IFDIR;
  const fields = [
    inode,
    entry.mode,
    0, // uid
    0, // gid
    isDir ? 2 : 1,
    mtime,
    entry.data.length,
    0, // device major
    0, // device minor
    entry.rdevMajor ?? 0,
    entry.rdevMinor ?? 0,
    name.length,
    0, // checksum: unused by the newc format
  ];
  const header = new TextEncoder().encode(MAGIC + fields.map(hex8).join(''));
  const out = new Uint8Array(header.length + name.length + padding(header.length + name.length).length);
  out.set(header, 0);
  out.set(name, header.length);
  return out;
}

/**
 * Yields the archive as chunks: entries in the order given (the caller sorts
 * them), inode numbers counted from 1, every mtime the same, then the trailer.
 */
export function* cpioChunks(entries: Iterable<CpioEntry>, mtime: number): Generator<Uint8Array> {
  let inode = 1;
  for (const entry of entries) {
    yield cpioHeader(entry, inode++, mtime);
    if (entry.data.length > 0) {
      yield entry.data;
      yield padding(entry.data.length);
    }
  }
  yield cpioHeader({ path: TRAILER, mode: 0, data: new Uint8Array() }, 0, 0);
}
