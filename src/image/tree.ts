// The initramfs as a tree of entries before it is written: what goes where, and from which package.

import { S_IFCHR, S_IFDIR, S_IFLNK, S_IFREG, type CpioEntry } from './cpio.ts';
import { B2cError } from '../errors.ts';

export type ImageEntry =
  | { kind: 'dir'; mode: number }
  | { kind: 'file'; mode: number; data: Uint8Array; origin: string }
  | { kind: 'symlink'; target: string; origin: string }
  | { kind: 'chardev'; mode: number; major: number; minor: number };

/** Normalises `/usr//bin/./x` to `usr/bin/x`; the tree keys paths without a leading slash. */
export function normalizeImagePath(path: string): string {
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return parts.join('/');
}

export class ImageTree {
  readonly entries = new Map<string, ImageEntry>();

  /** Adds an entry and any missing parent directories; a second, different entry at one path is an error. */
  add(path: string, entry: ImageEntry): void {
    const key = normalizeImagePath(path);
    if (key === '') throw new B2cError('the root itself cannot be added');
    const existing = this.entries.get(key);
    if (existing) {
      if (existing.kind === 'dir' && entry.kind === 'dir') return;
      if (sameEntry(existing, entry)) return;
      throw new B2cError(`/${key} is added twice (${describe(existing)}, then ${describe(entry)})`);
    }
    const slash = key.lastIndexOf('/');
    if (slash > 0) this.mkdir(key.slice(0, slash));
    this.entries.set(key, entry);
  }

  mkdir(path: string, mode = 0o755): void {
    this.add(path, { kind: 'dir', mode });
  }

  has(path: string): boolean {
    return this.entries.has(normalizeImagePath(path));
  }

  get(path: string): ImageEntry | undefined {
    return this.entries.get(normalizeImagePath(path));
  }

  /** Entries sorted by path bytes, so that two builds of the same inputs write the same archive. */
  toCpioEntries(): CpioEntry[] {
    const keys = [...this.entries.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return keys.map((path) => {
      const entry = this.entries.get(path) as ImageEntry;
      switch (entry.kind) {
        case 'dir':
          return { path, mode: S_IFDIR | entry.mode, data: new Uint8Array() };
        case 'file':
          return { path, mode: S_IFREG | entry.mode, data: entry.data };
        case 'symlink':
          return { path, mode: S_IFLNK | 0o777, data: new TextEncoder().encode(entry.target) };
        case 'chardev':
          return { path, mode: S_IFCHR | entry.mode, data: new Uint8Array(), rdevMajor: entry.major, rdevMinor: entry.minor };
      }
    });
  }
}

function sameEntry(a: ImageEntry, b: ImageEntry): boolean {
  if (a.kind === 'symlink' && b.kind === 'symlink') return a.target === b.target;
  if (a.kind === 'file' && b.kind === 'file') {
    return a.mode === b.mode && a.data.length === b.data.length && a.data.every((byte, i) => byte === b.data[i]);
  }
  return false;
}

function describe(entry: ImageEntry): string {
  switch (entry.kind) {
    case 'file':
      return `a file from ${entry.origin}`;
    case 'symlink':
      return `a link to ${entry.target} from ${entry.origin}`;
    default:
      return `a ${entry.kind}`;
  }
}
