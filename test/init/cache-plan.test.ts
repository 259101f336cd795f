import { describe, expect, it } from 'vitest';
import { classifyHeader, HEADER_BYTES, planCache, superblockLabel, type BlockDevice, type DeviceHeader } from '../../src/init/cache-plan.ts';

function device(name: string, header: DeviceHeader, extra: Partial<BlockDevice> = {}): BlockDevice {
  const partition = /\d$/.test(name) && !name.startsWith('sr');
  return {
    name,
    path: `/dev/${name}`,
    kind: partition ? 'partition' : 'disk',
    ...(partition ? { disk: name.replace(/p?\d+$/, '') } : {}),
    sizeBytes: 8 * 1024 ** 3,
    sectorSize: 512,
    optical: false,
    readOnly: false,
    header,
    ...extra,
  };
}

const blank: DeviceHeader = { kind: 'blank' };
const gpt: DeviceHeader = { kind: 'partition-table', what: 'a GPT partition table' };
const cache: DeviceHeader = { kind: 'ext', label: 'B2C_CACHE' };
const data: DeviceHeader = { kind: 'ext', label: 'DATA' };

describe('planCache', () => {
  it('auto takes the first B2C_CACHE partition by name', () => {
    const plan = planCache({ kind: 'auto' }, [device('vdb', gpt), device('vdb1', cache), device('vda', gpt), device('vda1', data), device('vdc', blank)], []);
    expect(plan).toMatchObject({ action: 'mount', device: '/dev/vdb1', mayReformat: true });
  });

  it("auto never takes what b2c.swap or a b2c.filesystem names: the device, the disk holding it, or a reserved disk's partitions", () => {
    // A swap disk is blank at its first boot.
    expect(planCache({ kind: 'auto' }, [device('vdb', blank), device('vdc', blank)], [], ['/dev/vdb'])).toMatchObject({
      action: 'partition',
      disk: '/dev/vdc',
    });
    expect(planCache({ kind: 'auto' }, [device('vdb', blank)], [], ['/dev/vdb'])).toMatchObject({ action: 'none' });
    // A cache partition beside a reserved one stays the cache; one on a reserved disk does not.
    const beside = [device('vda', gpt), device('vda1', cache), device('vda2', blank)];
    expect(planCache({ kind: 'auto' }, beside, [], ['/dev/vda2'])).toMatchObject({ action: 'mount', device: '/dev/vda1' });
    expect(planCache({ kind: 'auto' }, beside, [], ['/dev/vda'])).toMatchObject({ action: 'none' });
    expect(planCache({ kind: 'reset' }, beside, [], ['/dev/vda1'])).toMatchObject({ action: 'none' });
  });

  it('auto partitions the first blank disk by name, never one with a table, a filesystem, or an optical drive', () => {
    const devices = [
      device('vdc', blank),
      device('vda', gpt),
      device('vda1', data),
      device('vdb', { kind: 'other-filesystem', what: 'an XFS filesystem' }),
      device('sr0', blank, { optical: true }),
    ];
    expect(planCache({ kind: 'auto' }, devices, [])).toMatchObject({ action: 'partition', disk: '/dev/vdc' });
    const none = planCache(
      { kind: 'auto' },
      devices.filter((item) => item.name !== 'vdc'),
      [],
    );
    expect(none.action).toBe('none');
    expect(none.message).toContain('left alone: /dev/vda (a GPT partition table), /dev/vdb (an XFS filesystem)');
  });

  it('auto says when the last boot on the cache did not unmount it', () => {
    expect(planCache({ kind: 'auto' }, [device('vda', gpt), device('vda1', cache)], [])).toMatchObject({ endedUncleanly: false });
    expect(planCache({ kind: 'auto' }, [device('vda', gpt), device('vda1', { ...cache, needsRecovery: true })], [])).toMatchObject({
      action: 'mount',
      endedUncleanly: true,
    });
  });

  it("auto repairs b2c's own partition whose first superblock was written over, formats one never formatted, and leaves anything else alone", () => {
    const named = { partitionName: 'B2C_CACHE' };
    const lostSuperblock: DeviceHeader = { kind: 'blank', backupLabel: 'B2C_CACHE' };
    expect(planCache({ kind: 'auto' }, [device('vda', gpt), device('vda1', lostSuperblock, named), device('vdb', blank)], [])).toMatchObject({
      action: 'mount',
      device: '/dev/vda1',
      mayReformat: true,
      endedUncleanly: true,
      message: "/dev/vda1 is b2c's partition (named B2C_CACHE) but its filesystem lost its first superblock: repairing it from a backup",
    });
    expect(planCache({ kind: 'auto' }, [device('vda', gpt), device('vda1', { kind: 'blank', zeroed: true }, named)], [])).toEqual({
      action: 'format',
      device: '/dev/vda1',
      message: "/dev/vda1 is b2c's partition (named B2C_CACHE) but was never formatted: formatting it",
    });
    expect(planCache({ kind: 'reset' }, [device('vda', gpt), device('vda1', lostSuperblock, named)], [])).toMatchObject({
      action: 'format',
      device: '/dev/vda1',
    });
    // Under b2c's name, but holding something b2c cannot read and no backup of its own: someone's.
    expect(planCache({ kind: 'auto' }, [device('vda', gpt), device('vda1', blank, named)], []).action).toBe('none');
    // A lost superblock under another name is someone else's too.
    expect(planCache({ kind: 'auto' }, [device('vda', gpt), device('vda1', lostSuperblock, { partitionName: 'THEIRS' })], []).action).toBe('none');
    expect(planCache({ kind: 'auto' }, [device('vda', gpt), device('vda1', data, named)], []).action).toBe('none');
    // A named disk gets the same repair instead of being partitioned anew.
    expect(planCache({ kind: 'device', path: '/dev/vda' }, [device('vda', gpt), device('vda1', lostSuperblock, named)], [])).toMatchObject({
      action: 'mount',
      device: '/dev/vda1',
      mayReformat: true,
    });
  });

  it('reset formats the cache partition anew', () => {
    expect(planCache({ kind: 'reset' }, [device('vda', gpt), device('vda1', cache)], [])).toMatchObject({ action: 'format', device: '/dev/vda1' });
  });

  it('a named partition is used with its label, formatted without one', () => {
    expect(planCache({ kind: 'device', path: '/dev/vda1' }, [device('vda', gpt), device('vda1', data)], [])).toMatchObject({
      action: 'mount',
      device: '/dev/vda1',
      mayReformat: false,
    });
    expect(planCache({ kind: 'device', path: '/dev/vda1' }, [device('vda', gpt), device('vda1', blank)], [])).toMatchObject({
      action: 'format',
      device: '/dev/vda1',
    });
    expect(planCache({ kind: 'device', path: '/dev/vda1' }, [device('vda1', { kind: 'other-filesystem', what: 'a LUKS volume' })], []).action).toBe('none');
  });

  it('a named disk is used through its B2C_CACHE partition, else repartitioned', () => {
    expect(planCache({ kind: 'device', path: '/dev/vda' }, [device('vda', gpt), device('vda1', data), device('vda2', cache)], [])).toMatchObject({
      action: 'mount',
      device: '/dev/vda2',
    });
    expect(planCache({ kind: 'device', path: '/dev/vda' }, [device('vda', gpt), device('vda1', data)], [])).toMatchObject({
      action: 'partition',
      disk: '/dev/vda',
    });
  });

  it('a missing device, and none, keep the storage in RAM; a filesystem name mounts it', () => {
    expect(planCache({ kind: 'device', path: '/dev/vdz' }, [device('vda', blank)], [])).toMatchObject({
      action: 'none',
      message: '/dev/vdz does not exist: the cache stays in RAM',
    });
    expect(planCache({ kind: 'none' }, [device('vda', blank)], []).action).toBe('none');
    const filesystem = { name: 'fast', type: 'ext4', src: '/dev/nvme0n1p3', opts: [] };
    expect(planCache({ kind: 'filesystem', name: 'fast' }, [], [filesystem])).toMatchObject({ action: 'filesystem', filesystem });
  });
});

describe('classifyHeader', () => {
  const at = (offset: number, bytes: number[]): Uint8Array => {
    const header = new Uint8Array(HEADER_BYTES);
    header.set(bytes, offset);
    return header;
  };
  const text = (value: string): number[] => [...value].map((char) => char.charCodeAt(0));

  it('tells blank, partitioned and formatted devices apart', () => {
    expect(classifyHeader(new Uint8Array(HEADER_BYTES))).toEqual({ kind: 'blank', zeroed: true });
    expect(classifyHeader(at(2000, [1]))).toEqual({ kind: 'blank' });
    expect(classifyHeader(at(512, text('EFI PART'))).kind).toBe('partition-table');
    expect(classifyHeader(at(510, [0x55, 0xaa]))).toEqual({ kind: 'partition-table', what: 'an MBR partition table' });
    const ext = at(1024 + 0x38, [0x53, 0xef]);
    ext.set(text('B2C_CACHE'), 1024 + 0x78);
    expect(classifyHeader(ext)).toEqual({
      kind: 'ext',
      label: 'B2C_CACHE',
      what: 'an ext filesystem labelled B2C_CACHE',
      needsRecovery: false,
      filesystem: 'ext4',
    });
    // The journal's RECOVER bit in s_feature_incompat, as a power cut leaves it.
    ext.set([0x04 | 0x02, 0x02], 1024 + 0x60);
    expect(classifyHeader(ext).needsRecovery).toBe(true);
    ext.set([0x02, 0x02], 1024 + 0x60);
    expect(classifyHeader(ext).needsRecovery).toBe(false);
    // A backup superblock is read on its own, 1024 bytes.
    expect(superblockLabel(ext.subarray(1024, 2048))).toBe('B2C_CACHE');
    expect(superblockLabel(new Uint8Array(1024))).toBeUndefined();
    expect(classifyHeader(at(0, text('XFSB'))).kind).toBe('other-filesystem');
    expect(classifyHeader(at(65600, text('_BHRfS_M'))).what).toBe('a Btrfs filesystem');
  });

  it("names the kernel's filesystem of what it finds, and none for volumes that are no filesystem", () => {
    const cases: Array<[number, number[], string | undefined]> = [
      [0, text('XFSB'), 'xfs'],
      [65600, text('_BHRfS_M'), 'btrfs'],
      [3, text('NTFS    '), 'ntfs3'],
      [3, text('EXFAT   '), 'exfat'],
      [1024, [0x10, 0x20, 0xf5, 0xf2], 'f2fs'],
      [82, text('FAT32   '), 'vfat'],
      [0, text('LUKS\xba\xbe'), undefined],
      [4086, text('SWAPSPACE2'), undefined],
    ];
    for (const [offset, bytes, filesystem] of cases) expect(classifyHeader(at(offset, bytes)).filesystem, String(filesystem)).toBe(filesystem);
  });
});
