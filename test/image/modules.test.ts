import { describe, expect, it } from 'vitest';
import { indexLinesFor, moduleName, modulesBelow, parseModulesDep, selectModules } from '../../src/image/modules.ts';
import { B2cError } from '../../src/errors.ts';
import { parseSoftDependencies } from '../../src/module-index.ts';

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

  it("keeps, for each archive, the index lines of its own modules: a dependency in the image stays named from the add-on's lines", () => {
    const own = new Set(['nfsv4', 'nfs']);
    const nfsv4 = 'kernel/fs/nfs/nfsv4.ko: kernel/fs/nfs/nfs.ko kernel/net/sunrpc/sunrpc.ko';
    const dep = `${nfsv4}\nkernel/fs/nfs/nfs.ko: kernel/net/sunrpc/sunrpc.ko\nkernel/net/sunrpc/sunrpc.ko:\n`;
    expect(indexLinesFor('modules.dep', dep, own)).toBe(
      'kernel/fs/nfs/nfsv4.ko: kernel/fs/nfs/nfs.ko kernel/net/sunrpc/sunrpc.ko\nkernel/fs/nfs/nfs.ko: kernel/net/sunrpc/sunrpc.ko\n',
    );
    expect(indexLinesFor('modules.alias', '# Aliases extracted from modules themselves.\nalias fs-nfs4 nfsv4\nalias rpc_pipefs sunrpc\n', own)).toBe(
      'alias fs-nfs4 nfsv4\n',
    );
    expect(indexLinesFor('modules.softdep', 'softdep r8169 pre: realtek\nsoftdep nfs pre: sunrpc\n', own)).toBe('softdep nfs pre: sunrpc\n');
    expect(indexLinesFor('modules.symbols', 'alias symbol:nfs_fattr_init nfs\nalias symbol:svc_create sunrpc\n', own)).toBe(
      'alias symbol:nfs_fattr_init nfs\n',
    );
    expect(indexLinesFor('modules.softdep', '', own)).toBe('');
  });

  it("ships a module's soft dependencies that are modules of this kernel, before it (a MAC's PHY driver), and leaves aliases to modprobe", () => {
    const dep = [
      'kernel/drivers/net/phy/libphy.ko:',
      'kernel/drivers/net/phy/realtek.ko: kernel/drivers/net/phy/libphy.ko',
      'kernel/drivers/net/ethernet/realtek/r8169.ko: kernel/drivers/net/phy/libphy.ko',
      'kernel/fs/ext4/ext4.ko:',
      '',
    ].join('\n');
    const softdep = '# Soft dependencies extracted from modules themselves.\nsoftdep r8169 pre: realtek\nsoftdep ext4 pre: crypto-crc32c\nsoftdep cifs gcm\n';
    expect(selectModules(['r8169', 'ext4'], dep, '', softdep).files).toEqual([
      'kernel/drivers/net/phy/libphy.ko',
      'kernel/drivers/net/phy/realtek.ko',
      'kernel/drivers/net/ethernet/realtek/r8169.ko',
      'kernel/fs/ext4/ext4.ko',
    ]);
    expect(parseSoftDependencies(softdep)).toEqual(
      new Map([
        ['r8169', { pre: ['realtek'], post: [] }],
        ['ext4', { pre: ['crypto-crc32c'], post: [] }],
        ['cifs', { pre: [], post: [] }],
      ]),
    );
  });

  it('skips, and lists, a requested module this kernel lacks only when it may lack it', () => {
    expect(selectModules(['ext4', 'ne2k_pci'], MODULES_DEP, MODULES_BUILTIN, '', ['ne2k_pci'])).toEqual({
      files: ['kernel/lib/crc16.ko.xz', 'kernel/fs/mbcache.ko.xz', 'kernel/fs/jbd2/jbd2.ko.xz', 'kernel/fs/ext4/ext4.ko.xz'],
      builtin: [],
      missing: ['ne2k_pci'],
    });
    expect(() => selectModules(['ext4', 'ne2k_pci'], MODULES_DEP, MODULES_BUILTIN)).toThrow(B2cError);
  });
});

describe('modulesBelow', () => {
  it('names every module below the given folders of drivers/, and nothing of a folder that only starts alike', () => {
    const dep = `kernel/drivers/net/ethernet/realtek/r8169.ko.xz: kernel/drivers/net/phy/libphy.ko.xz
kernel/drivers/net/phy/realtek.ko.xz: kernel/drivers/net/phy/libphy.ko.xz
kernel/drivers/net/phy/libphy.ko.xz:
kernel/drivers/net/ethernet-extra/x.ko.xz:
kernel/drivers/net/wireless/ath/ath9k.ko.xz:
kernel/fs/nfs/nfsv4.ko.xz:
`;
    expect(modulesBelow(['net/ethernet', 'net/phy'], dep)).toEqual(['r8169', 'realtek', 'libphy']);
    expect(modulesBelow([], dep)).toEqual([]);
  });
});
