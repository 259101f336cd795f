// The archives as the kernel's decoders will meet them, read back by the host's own xz and zstd.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { architecture } from '../../src/architectures.ts';
import { compress } from '../../src/image/compression.ts';

const folder = mkdtempSync(join(tmpdir(), 'b2c-compression-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));
const input = join(folder, 'archive.cpio');
writeFileSync(input, Buffer.from('070701 an archive that is not one, many times over\n'.repeat(5000)));

describe('compress', () => {
  it('writes xz with the CRC32 check the kernel wants and the branch filter of the architecture', async () => {
    for (const [arch, filter] of [
      ['amd64', '--x86'],
      ['arm64', '--arm64'],
      ['riscv64', undefined],
    ] as const) {
      const output = join(folder, `archive.${arch}.xz`);
      await compress(input, output, 'xz', architecture(arch));
      const listing = spawnSync('xz', ['--robot', '--list', '-vv', output], { encoding: 'utf8' });
      const block = listing.stdout.split('\n').find((line) => line.startsWith('block\t')) ?? '';
      expect(block.split('\t')).toContain('CRC32');
      if (filter === undefined) expect(block).not.toMatch(/--x86|--arm/);
      else expect(block).toContain(`${filter} --lzma2=dict=64MiB`);
      expect(spawnSync('xz', ['--decompress', '--stdout', output]).stdout.equals(readFileSync(input))).toBe(true);
    }
  });

  it('writes the same bytes for the same input, and zstd that decompresses to it', async () => {
    const [first, second, zstd] = ['1.xz', '2.xz', 'z.zst'].map((name) => join(folder, name)) as [string, string, string];
    await compress(input, first, 'xz', architecture('amd64'));
    await compress(input, second, 'xz', architecture('amd64'));
    expect(readFileSync(first).equals(readFileSync(second))).toBe(true);
    await compress(input, zstd, 'zstd', architecture('amd64'));
    expect(spawnSync('zstd', ['--decompress', '--stdout', zstd]).stdout.equals(readFileSync(input))).toBe(true);
  });
});
