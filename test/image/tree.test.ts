import { describe, expect, it } from 'vitest';
import { S_IFDIR, S_IFLNK, S_IFREG } from '../../src/image/cpio.ts';
import { ImageTree, normalizeImagePath } from '../../src/image/tree.ts';
import { mergedUsrPath } from '../../src/image/package-root.ts';
import { B2cError } from '../../src/errors.ts';

const text = (value: string): Uint8Array => new TextEncoder().encode(value);

describe('ImageTree', () => {
  it('adds parent folders and sorts entries by path', () => {
    const tree = new ImageTree();
    tree.add('/usr/bin/sh', { kind: 'symlink', target: 'busybox', origin: 'busybox-static' });
    tree.add('/init', { kind: 'file', mode: 0o755, data: text('x'), origin: 'b2c' });
    expect(tree.toCpioEntries().map((entry) => [entry.path, entry.mode])).toEqual([
      ['init', S_IFREG | 0o755],
      ['usr', S_IFDIR | 0o755],
      ['usr/bin', S_IFDIR | 0o755],
      ['usr/bin/sh', S_IFLNK | 0o777],
    ]);
  });

  it('accepts the same entry twice but not two different ones', () => {
    const tree = new ImageTree();
    tree.add('a', { kind: 'file', mode: 0o644, data: text('1'), origin: 'p' });
    tree.add('a', { kind: 'file', mode: 0o644, data: text('1'), origin: 'q' });
    expect(() => tree.add('a', { kind: 'file', mode: 0o644, data: text('2'), origin: 'q' })).toThrow(B2cError);
  });

  it('normalises paths', () => {
    expect(normalizeImagePath('/usr//lib/./x/../y')).toBe('usr/lib/y');
  });
});

describe('mergedUsrPath', () => {
  it('merges /bin, /sbin and /usr/sbin into /usr/bin and /lib* into /usr/lib*', () => {
    expect(mergedUsrPath('/bin/busybox')).toBe('usr/bin/busybox');
    expect(mergedUsrPath('/sbin/modprobe')).toBe('usr/bin/modprobe');
    expect(mergedUsrPath('/usr/sbin/update-ca-certificates')).toBe('usr/bin/update-ca-certificates');
    expect(mergedUsrPath('/lib64/ld-linux-x86-64.so.2')).toBe('usr/lib64/ld-linux-x86-64.so.2');
    expect(mergedUsrPath('/lib/x86_64-linux-gnu/libc.so.6')).toBe('usr/lib/x86_64-linux-gnu/libc.so.6');
    expect(mergedUsrPath('/usr/lib/podman/netavark')).toBe('usr/lib/podman/netavark');
    expect(mergedUsrPath('/library/x')).toBe('library/x');
  });
});
