import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readElfDynamicInfo } from '../../src/image/elf.ts';

describe('readElfDynamicInfo', () => {
  it('reads a real dynamic executable of this host', () => {
    const info = readElfDynamicInfo(readFileSync('/usr/bin/env'));
    expect(info.interpreter).toMatch(/ld-linux/);
    expect(info.needed).toContain('libc.so.6');
  });

  it('finds nothing needed in a static executable', () => {
    expect(readElfDynamicInfo(readFileSync('/bin/busybox'))).toEqual({ needed: [], runPaths: [] });
  });
});
