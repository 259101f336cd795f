import { describe, expect, it } from 'vitest';
import { parseStorage } from '../../src/cmdline/storage.ts';

describe('parseStorage', () => {
  it('reads one image store or several, a word without = going to the key before it', () => {
    expect(parseStorage('additionalimagestores=publicimgstore')).toEqual({ value: { additionalImageStores: ['publicimgstore'] }, errors: [], warnings: [] });
    expect(parseStorage('additionalimagestores=a,b').value).toEqual({ additionalImageStores: ['a', 'b'] });
  });

  it('warns of the options it does not set and refuses what is not KEY=VALUE', () => {
    const other = parseStorage('additionalimagestores=a,mount_program=/usr/bin/fuse-overlayfs');
    expect(other.value).toEqual({ additionalImageStores: ['a'] });
    expect(other.warnings).toEqual(['b2c.storage: mount_program is not a storage option b2c sets, ignored; b2c knows additionalimagestores=NAME[,NAME…]']);
    expect(parseStorage('publicimgstore').errors).toEqual([
      'b2c.storage: "publicimgstore" is not KEY=VALUE, e.g. b2c.storage="additionalimagestores=publicimgstore"',
    ]);
    expect(parseStorage('additionalimagestores=../etc').errors).toEqual([
      'b2c.storage: additionalimagestores names b2c.filesystems; "../etc" is not a name (letters, digits, _ . -)',
    ]);
  });
});
