import { describe, expect, it } from 'vitest';
import { unmountOrder } from '../../src/init/mounts.ts';

describe('unmountOrder', () => {
  it('unmounts what lies below the roots, deepest and latest first', () => {
    const mounts = [
      'proc /proc proc rw 0 0',
      'containers /var/lib/containers tmpfs rw 0 0',
      'overlay /var/lib/containers/storage/overlay/abc/merged overlay rw 0 0',
      'shm /var/lib/containers/storage/overlay-containers/x/userdata/shm tmpfs rw 0 0',
      'tmpfs /var/lib/containers-other tmpfs rw 0 0',
      'tmpfs /run/containers/storage/with\\040blank tmpfs rw 0 0',
      'tmpfs /var/lib/containers tmpfs rw 0 0',
    ].join('\n');
    expect(unmountOrder(mounts, ['/var/lib/containers', '/run/containers'])).toEqual([
      '/var/lib/containers/storage/overlay-containers/x/userdata/shm',
      '/var/lib/containers/storage/overlay/abc/merged',
      '/run/containers/storage/with blank',
      '/var/lib/containers',
      '/var/lib/containers',
    ]);
  });
});
