// The cache disk's destructive branches on a scripted machine: what b2c formats, what it leaves alone, and how it ends when a tool fails.

import { describe, expect, it } from 'vitest';
import { CACHE_LABEL } from '../../src/init/cache-plan.ts';
import { CacheDisk } from '../../src/init/cache.ts';
import { FakeSystem } from '../fake-system.ts';

function machine(): { fake: FakeSystem; cache: CacheDisk; probes: () => number } {
  const fake = new FakeSystem();
  let probes = 0;
  const log = { log: async (message: string) => fake.write(`[0.00]: ${message}\n`) };
  return {
    fake,
    cache: new CacheDisk(fake, log, async () => {
      probes++;
    }),
    probes: () => probes,
  };
}

/** mount fails (as the kernel refuses a damaged ext4) until mke2fs has made the filesystem anew. */
function mountAfterFormat(fake: FakeSystem): void {
  fake.on(['mount'], (_argv, system) =>
    system.ran('mke2fs').length > 0 ? {} : { status: 32, stderr: 'mount: /var/lib/containers/storage: wrong fs type, bad option, bad superblock\n' },
  );
}

describe('CacheDisk', () => {
  it('formats anew a B2C_CACHE partition e2fsck cannot repair, when it was found (auto), and says so loudly', async () => {
    const { fake, cache } = machine();
    mountAfterFormat(fake);
    fake.on(['e2fsck'], { status: 4, stdout: '/dev/vda1: UNEXPECTED INCONSISTENCY\n' });
    fake.on(['mke2fs'], {});
    const result = await cache.carryOut({
      action: 'mount',
      device: '/dev/vda1',
      mayReformat: true,
      endedUncleanly: true,
      message: 'Using the cache partition /dev/vda1',
    });
    // Formatted anew: nothing of the last boot is left to have ended uncleanly.
    expect(result).toEqual({ mounted: true, endedUncleanly: false });
    expect(fake.ran('e2fsck')).toEqual([['e2fsck', '-f', '-y', '/dev/vda1']]);
    expect(fake.ran('mke2fs')).toEqual([['mke2fs', '-q', '-F', '-t', 'ext4', '-O', 'encrypt', '-L', CACHE_LABEL, '/dev/vda1']]);
    expect(fake.logLines()).toContain('!!! /dev/vda1 cannot be repaired (e2fsck exited with 4): FORMATTING IT ANEW, its cached images are lost !!!');
  });

  it('leaves a device the line named as it is when e2fsck cannot repair it: no mke2fs, and the cache stays in RAM', async () => {
    const { fake, cache } = machine();
    mountAfterFormat(fake);
    fake.on(['e2fsck'], { status: 8, stderr: 'e2fsck: Bad magic number in super-block\n' });
    fake.on(['mke2fs'], {});
    const result = await cache.carryOut({ action: 'mount', device: '/dev/sdb1', mayReformat: false, endedUncleanly: false, message: 'Using /dev/sdb1' });
    expect(result.mounted).toBe(false);
    expect(fake.ran('mke2fs')).toEqual([]);
    expect(fake.logLines()).toContain('/dev/sdb1 cannot be repaired (e2fsck exited with 8); it was named explicitly, so it is left as it is');
  });

  it('mounts nothing when mke2fs fails, and says why in its own words', async () => {
    const { fake, cache } = machine();
    fake.on(['mke2fs'], { status: 1, stderr: 'mke2fs: Device size reported to be zero.\n' });
    fake.on(['mount'], {});
    const result = await cache.carryOut({ action: 'format', device: '/dev/vda1', message: '/dev/vda1 has no label: formatting it as the cache' });
    expect(result.mounted).toBe(false);
    expect(fake.ran('mount')).toEqual([]);
    expect(fake.logLines()).toContain('Could not format /dev/vda1: mke2fs exited with 1: mke2fs: Device size reported to be zero.');
  });

  it('gives up on a new partition that never appears after 10 s, loading drivers meanwhile, and formats nothing', async () => {
    const { fake, cache, probes } = machine();
    fake.file('/dev/vda', new Uint8Array(8 * 1024 * 1024));
    fake.on(['blockdev', '--rereadpt'], {});
    fake.on(['mke2fs'], {});
    const result = await cache.carryOut({
      action: 'partition',
      disk: '/dev/vda',
      sizeBytes: 8 * 1024 * 1024,
      sectorSize: 512,
      message: 'No B2C_CACHE partition: making one on the blank disk /dev/vda',
    });
    expect(result.mounted).toBe(false);
    // The GPT was written: its header's signature is in the second sector.
    expect(new TextDecoder().decode((fake.files.get('/dev/vda') as Uint8Array).subarray(512, 520))).toBe('EFI PART');
    expect(fake.elapsed).toBeGreaterThanOrEqual(10_000);
    expect(fake.elapsed).toBeLessThan(11_000);
    expect(probes()).toBeGreaterThan(0);
    expect(fake.ran('mke2fs')).toEqual([]);
    expect(fake.logLines()).toContain('/dev/vda1 did not appear after partitioning /dev/vda');
  });
});
