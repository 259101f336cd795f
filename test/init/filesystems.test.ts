import { describe, expect, it } from 'vitest';
import type { FilesystemConfig } from '../../src/cmdline/config.ts';
import { parseCmdline } from '../../src/cmdline/parse.ts';
import { Filesystems, nfsMountable, nfsShare, parseNslookupAddresses } from '../../src/init/filesystems.ts';
import type { KernelModules } from '../../src/init/modules.ts';
import { FakeSystem } from '../fake-system.ts';

const modules = { loadNamed: async () => {} } as unknown as KernelModules;

describe('NFS shares', () => {
  it('split into server and path, IPv6 in brackets too', () => {
    expect(nfsShare('10.42.0.1:/imgstore/public')).toEqual({ host: '10.42.0.1', path: '/imgstore/public' });
    expect(nfsShare('[fd00::1]:/export')).toEqual({ host: 'fd00::1', path: '/export' });
    expect(nfsShare('gateway:relative')).toBeUndefined();
    expect(nfsShare('/dev/sdb1')).toBeUndefined();
  });

  it("become NFSv4 mounts with the server's address, dropping an older version or address the line gave", () => {
    const share: FilesystemConfig = { name: 'store', type: 'nfs', src: 'gateway:/store', opts: ['ro', 'nolock', 'vers=3', 'addr=1.2.3.4'] };
    expect(nfsMountable(share, '10.42.0.1')).toEqual({ name: 'store', type: 'nfs4', src: 'gateway:/store', opts: ['ro', 'nolock', 'addr=10.42.0.1'] });
  });

  it("read the answer's addresses from busybox nslookup, not the server's", () => {
    const output = 'Server:\t\t10.0.2.3\nAddress:\t10.0.2.3:53\n\nName:\tgateway.farm\nAddress: 10.42.0.1\n\nName:\tgateway.farm\nAddress: fd00::1\n';
    expect(parseNslookupAddresses(output)).toEqual(['10.42.0.1', 'fd00::1']);
    // Older busybox numbers the addresses, the server's too.
    expect(parseNslookupAddresses('Server:    10.0.2.3\nAddress 1: 10.0.2.3\n\nName:      gateway\nAddress 1: 10.42.0.1\n')).toEqual(['10.42.0.1']);
    expect(parseNslookupAddresses("Server:\t\t10.0.2.3\nAddress:\t10.0.2.3:53\n\n** server can't find nowhere: NXDOMAIN\n")).toEqual([]);
  });
});

describe('Filesystems', () => {
  it('looks up an NFS server by name, and leaves other filesystems alone', async () => {
    const fake = new FakeSystem();
    fake.on(['nslookup', 'gateway'], { stdout: 'Server:\t\t10.0.2.3\nAddress:\t10.0.2.3:53\n\nName:\tgateway\nAddress: 10.42.0.1\n' });
    const log = { log: async (message: string) => fake.write(`${message}\n`) };
    const config = parseCmdline('b2c.filesystem=store,type=nfs,src=gateway:/store,opts=ro b2c.filesystem=disk,type=ext4,src=/dev/sdb1');
    const resolved = await new Filesystems(fake, log, modules).resolve(config.filesystems);
    // No NFS client came with the modules: the console says where it is.
    expect(fake.consoleText).toContain('Warning: this kernel has no NFSv4 client: the bootloader must load the modules add-on');
    fake.consoleText = '';
    fake.file('/proc/filesystems', 'nodev\tsysfs\nnodev\tnfs\nnodev\tnfs4\n');
    await new Filesystems(fake, log, modules).resolve(config.filesystems);
    expect(fake.consoleText).not.toContain('no NFSv4 client');
    expect(resolved).toEqual([
      { name: 'store', type: 'nfs4', src: 'gateway:/store', opts: ['ro', 'addr=10.42.0.1'] },
      { name: 'disk', type: 'ext4', src: '/dev/sdb1', opts: [] },
    ]);
  });

  it('mounts the image stores read-only and writes them into podman storage.conf; a store that fails is left out with the reason', async () => {
    const fake = new FakeSystem();
    fake.on(['mount'], {});
    fake.on(['mount', '-t', 'nfs4', '-o', 'ro,addr=10.42.0.1', '10.42.0.1:/broken'], { status: 255, stderr: 'mount: permission denied\n' });
    await fake.makeDirectory('/etc/containers');
    const log = { log: async (message: string) => fake.write(`${message}\n`) };
    const filesystems = new Filesystems(fake, log, modules);
    const config = parseCmdline(
      'b2c.filesystem=good,type=nfs,src=10.42.0.1:/good,opts=rw|nolock b2c.filesystem=broken,type=nfs,src=10.42.0.1:/broken ' +
        'b2c.storage=additionalimagestores=good,broken',
    );
    await filesystems.mountImageStores({ ...config, filesystems: await filesystems.resolve(config.filesystems) });
    expect(fake.ran('mount')[0]).toEqual(['mount', '-t', 'nfs4', '-o', 'ro,nolock,addr=10.42.0.1', '10.42.0.1:/good', '/run/b2c/stores/good']);
    expect(fake.consoleText).toContain('Could not mount the image store broken (10.42.0.1:/broken): mount: permission denied');
    expect(fake.files.get('/etc/containers/storage.conf')).toContain('\n[storage.options]\nadditionalimagestores = ["/run/b2c/stores/good"]\n');
  });
});
