import { describe, expect, it } from 'vitest';
import { architecture } from '../../src/build/architectures.ts';
import { compressorArgs, outputNames } from '../../src/build/build.ts';

describe('build outputs', () => {
  it('names the outputs as farms fetch them', () => {
    expect(outputNames('amd64')).toEqual({
      initramfs: { xz: 'initramfs.linux_amd64.cpio.xz', zstd: 'initramfs.linux_amd64.cpio.zst', none: 'initramfs.linux_amd64.cpio' },
      kernel: 'linux-amd64',
      manifest: 'manifest.amd64.json',
    });
  });

  it('compresses xz with CRC32 checks and the x86 branch filter, single-threaded', () => {
    expect(compressorArgs('xz', architecture('amd64'))).toEqual(['xz', '--check=crc32', '--threads=1', '--x86', '--lzma2=preset=6,dict=64MiB', '--stdout']);
    expect(compressorArgs('zstd', architecture('amd64'))).toContain('--single-thread');
  });
});
