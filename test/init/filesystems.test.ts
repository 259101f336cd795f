import { describe, expect, it } from 'vitest';
import type { FilesystemConfig } from '../../src/cmdline/config.ts';
import { parseCmdline } from '../../src/cmdline/parse.ts';
import { HEADER_BYTES } from '../../src/init/cache-plan.ts';
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

describe('a b2c.filesystem on a local disk', () => {
  /** A device holding `header`, a kernel with `registered` filesystems, and modules whose loading registers theirs. */
  function disk(header: Uint8Array, registered: string[], inImage: Record<string, string>, inAddon: Record<string, string> = {}) {
    const fake = new FakeSystem();
    const device = new Uint8Array(HEADER_BYTES);
    device.set(header.subarray(0, HEADER_BYTES));
    fake.file('/dev/vda', device);
    fake.file('/proc/filesystems', registered.map((name) => `\t${name}\n`).join(''));
    const loaded: string[] = [];
    const modules = {
      loadNamed: async (names: readonly string[]) => {
        loaded.push(...names);
        for (const name of names) fake.files.set('/proc/filesystems', `${String(fake.files.get('/proc/filesystems'))}\t${name}\n`);
      },
      modulesMatching: async (modalias: string) => (inImage[modalias] === undefined ? [] : [inImage[modalias]]),
      addonsMatching: async (modalias: string) =>
        inAddon[modalias] === undefined ? [] : [{ addon: 'modules', file: 'linux-amd64.modules.cpio.xz', modules: [inAddon[modalias]] }],
    } as unknown as KernelModules;
    const log = { log: async (message: string) => fake.write(`${message}\n`) };
    return { fake, loaded, filesystems: new Filesystems(fake, log, modules) };
  }
  const ext4 = (): Uint8Array => {
    const bytes = new Uint8Array(HEADER_BYTES);
    bytes.set([0x53, 0xef], 1024 + 0x38);
    return bytes;
  };
  const xfs = (): Uint8Array => new Uint8Array([...'XFSB'].map((char) => char.charCodeAt(0)));

  it('loads the module of what the device holds when the line gives no type, and mounts it as that type', async () => {
    const { loaded, filesystems, fake } = disk(ext4(), ['nodev\tproc'], { 'fs-ext4': 'ext4' });
    const [ready] = await filesystems.resolve(parseCmdline('b2c.filesystem=imgstore,src=/dev/vda,opts=ro').filesystems);
    expect(loaded).toEqual(['ext4']);
    expect(ready).toEqual({ name: 'imgstore', src: '/dev/vda', opts: ['ro'], type: 'ext4' });
    expect(fake.consoleText).toBe('');
  });

  it('loads nothing for a type the kernel already has', async () => {
    const { loaded, filesystems } = disk(ext4(), ['ext4'], { 'fs-ext4': 'ext4' });
    expect((await filesystems.readyToMount({ name: 'data', type: 'ext4', src: '/dev/vda', opts: [] })).type).toBe('ext4');
    expect(loaded).toEqual([]);
  });

  it('names the add-on that has the module when no archive the machine booted has it', async () => {
    const { filesystems, fake } = disk(xfs(), ['ext4'], {}, { 'fs-xfs': 'xfs' });
    expect((await filesystems.readyToMount({ name: 'imgstore', src: '/dev/vda', opts: [] })).type).toBe('xfs');
    expect(fake.consoleText).toBe(
      'b2c.filesystem=imgstore: /dev/vda holds xfs, which this kernel cannot mount yet: ' +
        'the modules add-on has xfs: load linux-amd64.modules.cpio.xz after the initramfs\n',
    );
  });

  it('leaves a device that is not there yet, or holds nothing it knows, to the mount', async () => {
    const { filesystems, loaded } = disk(new Uint8Array(16), [], {});
    const unknown = { name: 'odd', src: '/dev/vda', opts: [] };
    expect(await filesystems.readyToMount(unknown)).toEqual(unknown);
    const missing = { name: 'late', src: '/dev/sdz', opts: [] };
    expect(await filesystems.readyToMount(missing)).toEqual(missing);
    expect(loaded).toEqual([]);
  });
});
