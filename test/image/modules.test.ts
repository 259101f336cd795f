import { describe, expect, it } from 'vitest';
import { moduleName, parseModulesDep, selectModules } from '../../src/image/modules.ts';
import { B2cError } from '../../src/errors.ts';

const MODULES_DEP = `kernel/fs/ext4/ext4.ko.xz: kernel/fs/jbd2/jbd2.ko.xz kernel/fs/mbcache.ko.xz kernel/lib/crc16.ko.xz
kernel/fs/jbd2/jbd2.ko.xz:
kernel/fs/mbcache.ko.xz:
kernel/lib/crc16.ko.xz:
kernel/drivers/net/virtio_net.ko.xz: kernel/drivers/net/net_failover.ko.xz kernel/net/core/failover.ko.xz
kernel/drivers/net/net_failover.ko.xz: kernel/net/core/failover.ko.xz
kernel/net/core/failover.ko.xz:
kernel/drivers/hid/hid-generic.ko.xz:
`;
const MODULES_BUILTIN = 'kernel/drivers/virtio/virtio_pci.ko\nkernel/fs/proc.ko\n';

describe('kernel module selection', () => {
  it('names modules as modprobe does', () => {
    expect(moduleName('kernel/drivers/hid/hid-generic.ko.xz')).toBe('hid_generic');
    expect(moduleName('kernel/fs/ext4/ext4.ko')).toBe('ext4');
  });

  it('reads modules.dep', () => {
    expect(parseModulesDep(MODULES_DEP).get('kernel/drivers/net/net_failover.ko.xz')).toEqual(['kernel/net/core/failover.ko.xz']);
  });

  it('takes each module after its dependencies, once, and reports built-in ones', () => {
    expect(selectModules(['virtio_net', 'ext4', 'hid-generic', 'virtio_pci', 'net_failover'], MODULES_DEP, MODULES_BUILTIN)).toEqual({
      files: [
        'kernel/net/core/failover.ko.xz',
        'kernel/drivers/net/net_failover.ko.xz',
        'kernel/drivers/net/virtio_net.ko.xz',
        'kernel/lib/crc16.ko.xz',
        'kernel/fs/mbcache.ko.xz',
        'kernel/fs/jbd2/jbd2.ko.xz',
        'kernel/fs/ext4/ext4.ko.xz',
        'kernel/drivers/hid/hid-generic.ko.xz',
      ],
      builtin: ['virtio_pci'],
    });
  });

  it('refuses a module the kernel does not have', () => {
    expect(() => selectModules(['no_such_module'], MODULES_DEP, MODULES_BUILTIN)).toThrow(B2cError);
  });
});
