import { describe, expect, it } from 'vitest';
import { crc32, guidBytes, singlePartitionGpt } from '../../src/init/gpt.ts';

describe('GPT writer', () => {
  it('computes CRC-32 as zlib does', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('lays GUIDs out mixed-endian', () => {
    expect([...guidBytes('0FC63DAF-8483-4772-8E79-3D69D8477DE4')].map((byte) => byte.toString(16).padStart(2, '0')).join('')).toBe(
      'af3dc60f838472478e793d69d8477de4',
    );
  });

  it('refuses a disk too small for a partition', () => {
    expect(() => singlePartitionGpt(1024 * 1024, 512, 'B2C_CACHE', () => '12345678-1234-4abc-8def-123456789abc')).toThrow(RangeError);
  });
});
