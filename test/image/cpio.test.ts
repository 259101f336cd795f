import { describe, expect, it } from 'vitest';
import { cpioChunks, cpioHeader, S_IFCHR, S_IFDIR, S_IFREG } from '../../src/image/cpio.ts';
import { ImageTree } from '../../src/image/tree.ts';

function archive(entries: Parameters<typeof cpioChunks>[0], mtime = 1700000000): Buffer {
  return Buffer.concat([...cpioChunks(entries, mtime)]);
}

/** Reads a newc archive back, as the kernel's unpacker does. */
function readNewc(bytes: Buffer): Array<{ name: string; mode: number; mtime: number; nlink: number; data: string; rdev: [number, number]; ino: number }> {
  const entries = [];
  let offset = 0;
  const align = (n: number): number => (n + 3) & ~3;
  for (;;) {
    expect(bytes.toString('latin1', offset, offset + 6)).toBe('070701');
    const field = (i: number): number => parseInt(bytes.toString('latin1', offset + 6 + i * 8, offset + 14 + i * 8), 16);
    const nameSize = field(11);
    const fileSize = field(6);
    const name = bytes.toString('utf8', offset + 110, offset + 110 + nameSize - 1);
    const dataStart = align(offset + 110 + nameSize);
    if (name === 'TRAILER!!!') return entries;
    entries.push({
      name,
      ino: field(0),
      mode: field(1),
      nlink: field(4),
      mtime: field(5),
      rdev: [field(9), field(10)] as [number, number],
      data: bytes.toString('utf8', dataStart, dataStart + fileSize),
    });
    offset = align(dataStart + fileSize);
  }
}

describe('cpio newc writer', () => {
  it('writes entries the way the kernel reads them back, aligned to four bytes', () => {
    const bytes = archive([
      { path: 'dev', mode: S_IFDIR | 0o755, data: new Uint8Array() },
      { path: 'dev/console', mode: S_IFCHR | 0o600, data: new Uint8Array(), rdevMajor: 5, rdevMinor: 1 },
      { path: 'init', mode: S_IFREG | 0o755, data: new TextEncoder().encode('#!/usr/bin/qjs\nhi') },
      { path: 'x', mode: S_IFREG | 0o644, data: new TextEncoder().encode('abc') },
    ]);
    expect(bytes.length % 4).toBe(0);
    expect(readNewc(bytes)).toEqual([
      { name: 'dev', ino: 1, mode: S_IFDIR | 0o755, nlink: 2, mtime: 1700000000, rdev: [0, 0], data: '' },
      { name: 'dev/console', ino: 2, mode: S_IFCHR | 0o600, nlink: 1, mtime: 1700000000, rdev: [5, 1], data: '' },
      { name: 'init', ino: 3, mode: S_IFREG | 0o755, nlink: 1, mtime: 1700000000, rdev: [0, 0], data: '#!/usr/bin/qjs\nhi' },
      { name: 'x', ino: 4, mode: S_IFREG | 0o644, nlink: 1, mtime: 1700000000, rdev: [0, 0], data: 'abc' },
    ]);
  });

  it('is the same bytes for the same tree, whatever order its files were added in, and dated only by the mtime given', () => {
    const files: Array<[string, string]> = [
      ['usr/bin/qjs', 'qjs'],
      ['init', '#!/usr/bin/qjs'],
      ['etc/b2c/modules', 'overlay\n'],
      ['usr/lib/libc.so.6', 'libc'],
    ];
    const tree = (order: Array<[string, string]>): ImageTree => {
      const built = new ImageTree();
      for (const [path, text] of order) built.add(path, { kind: 'file', mode: 0o644, data: new TextEncoder().encode(text), origin: 'test' });
      return built;
    };
    const forward = archive(tree(files).toCpioEntries());
    expect(archive(tree([...files].reverse()).toCpioEntries()).equals(forward)).toBe(true);
    expect(readNewc(forward).map((entry) => entry.name)).toEqual([
      'etc',
      'etc/b2c',
      'etc/b2c/modules',
      'init',
      'usr',
      'usr/bin',
      'usr/bin/qjs',
      'usr/lib',
      'usr/lib/libc.so.6',
    ]);
    expect(archive(tree(files).toCpioEntries(), 1).equals(forward)).toBe(false);
  });

  it('pads the header and name to four bytes', () => {
    for (const path of ['a', 'ab', 'abc', 'abcd']) {
      expect(cpioHeader({ path, mode: S_IFREG, data: new Uint8Array() }, 1, 0).length % 4).toBe(0);
    }
  });

  it('refuses values a header cannot hold', () => {
    expect(() => cpioHeader({ path: 'a', mode: S_IFREG, data: new Uint8Array() }, -1, 0)).toThrow(RangeError);
  });
});
