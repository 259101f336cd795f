import { describe, expect, it } from 'vitest';
import type { VolumeConfig } from '../../src/cmdline/config.ts';
import { parseCmdline } from '../../src/cmdline/parse.ts';
import { parseVolumeList, podmanCleanupCommands, podmanVolumeCreateArgs } from '../../src/init/podman.ts';

describe('podmanVolumeCreateArgs', () => {
  const volume = (options: string) => {
    const config = parseCmdline(`b2c.filesystem="data,type=ext4,src=/dev/vdb1,opts=noatime|nodev" b2c.volume=${options}`);
    expect(config.errors).toEqual([]);
    return config;
  };

  it('labels the expiring volumes and passes a filesystem as podman mount options', () => {
    const plain = volume('job');
    expect(podmanVolumeCreateArgs(plain.volumes[0] as VolumeConfig)).toEqual(['podman', 'volume', 'create', 'job']);
    const mounted = volume('scratch,expiration=pipeline_end,filesystem=data');
    expect(podmanVolumeCreateArgs(mounted.volumes[0] as VolumeConfig, mounted.filesystems[0])).toEqual([
      'podman',
      'volume',
      'create',
      '--label',
      'expiration=pipeline_end',
      '--opt',
      'type=ext4',
      '--opt',
      'device=/dev/vdb1',
      '--opt',
      'o=noatime,nodev',
      'scratch',
    ]);
  });
});

describe('parseVolumeList', () => {
  it("reads each volume and whether it expires with its pipeline, by upstream's label or by the one older b2c images wrote", () => {
    expect(parseVolumeList('kept\t\t\nscratch\tpipeline_end\t\nolder\t\tpipeline_end\nother\tnever\t\n\n')).toEqual([
      { name: 'kept', expiring: false },
      { name: 'scratch', expiring: true },
      { name: 'older', expiring: true },
      { name: 'other', expiring: false },
    ]);
  });
});

describe('cleanup commands', () => {
  it('remove containers and dangling images from the cache partition, where they would outlive the boot', () => {
    expect(podmanCleanupCommands({ onCache: true, filesystemVolumesMounted: false })).toEqual([
      ['podman', 'container', 'rm', '--all', '--force', '--time', '10'],
      ['podman', 'image', 'prune', '--force'],
    ]);
  });

  it('leave storage in RAM to go with the machine, but stop containers that could keep a mounted volume busy', () => {
    expect(podmanCleanupCommands({ onCache: false, filesystemVolumesMounted: false })).toEqual([]);
    expect(podmanCleanupCommands({ onCache: false, filesystemVolumesMounted: true })).toEqual([
      ['podman', 'container', 'rm', '--all', '--force', '--time', '10'],
    ]);
  });
});
