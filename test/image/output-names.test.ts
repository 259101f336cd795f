import { describe, expect, it } from 'vitest';
import { outputNames } from '../../src/image/output-names.ts';

describe('outputNames', () => {
  // Farms fetch these names from upstream boot2container's releases: they are a contract, not a spelling.
  it('names the initramfs as farms fetch it, per architecture', () => {
    expect(outputNames('arm64').initramfs.xz).toBe('initramfs.linux_arm64.cpio.xz');
    expect(outputNames('amd64').initramfs.xz).toBe('initramfs.linux_amd64.cpio.xz');
    expect(new Set(Object.values(outputNames('amd64').initramfs)).size).toBe(3);
  });
});
