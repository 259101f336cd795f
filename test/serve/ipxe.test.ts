import { describe, expect, it } from 'vitest';
import { ARCHITECTURES } from '../../src/architectures.ts';
import { chainScript, filePaths, machineScript, noBootScript, parseFilePath, parseScriptPath } from '../../src/serve/ipxe.ts';
import type { MachineBoot } from '../../src/serve/machines.ts';

const entry: MachineBoot = {
  key: '52:54:00:12:34:56',
  arch: ARCHITECTURES.amd64 as MachineBoot['arch'],
  kernel: '/srv/out/linux-amd64',
  initrds: ['/srv/out/initramfs.linux_amd64.cpio.xz', '/srv/out/linux-amd64.modules.cpio.xz'],
  cmdline: 'console=ttyS0 b2c.container="docker://registry:5000/tests:42"',
};

describe('iPXE scripts', () => {
  it('chains from the DHCP script to the machine’s own', () => {
    expect(chainScript('http://10.77.0.1:8080')).toBe('#!ipxe\nchain http://10.77.0.1:8080/boot/${mac}.ipxe\n');
  });

  it("loads the machine's kernel with its command line, then its archives in order, on its own architecture only", () => {
    const script = machineScript('http://10.77.0.1:8080', entry.key, entry).split('\n');
    expect(script).toContain('iseq ${buildarch} x86_64 || iseq ${buildarch} i386 || goto wrong_arch');
    expect(script).toContain(`kernel http://10.77.0.1:8080/files/52%3A54%3A00%3A12%3A34%3A56/kernel/linux-amd64 ${entry.cmdline}`);
    const initrds = script.filter((line) => line.startsWith('initrd '));
    expect(initrds).toEqual([
      'initrd http://10.77.0.1:8080/files/52%3A54%3A00%3A12%3A34%3A56/initrd/0/initramfs.linux_amd64.cpio.xz',
      'initrd http://10.77.0.1:8080/files/52%3A54%3A00%3A12%3A34%3A56/initrd/1/linux-amd64.modules.cpio.xz',
    ]);
    expect(script.indexOf('boot')).toBeGreaterThan(script.indexOf(initrds[1] as string));
    const arm = machineScript('http://s', 'default', { ...entry, key: 'default', arch: ARCHITECTURES.arm64 as MachineBoot['arch'] });
    expect(arm).toContain('iseq ${buildarch} arm64 || goto wrong_arch');
    expect(arm).toContain('/files/default/kernel/');
  });

  it('sends a machine the file does not offer back to its firmware', () => {
    expect(noBootScript('52:54:00:00:00:01')).toMatch(/^#!ipxe\necho .*52:54:00:00:00:01.*\nexit 1\n$/);
  });

  it('takes apart the paths it hands out, and only those', () => {
    const paths = filePaths(entry);
    expect(parseFilePath(paths.kernel)).toEqual({ key: entry.key, file: { kind: 'kernel' }, name: 'linux-amd64' });
    expect(parseFilePath(paths.initrds[1] as string)).toEqual({ key: entry.key, file: { kind: 'initrd', index: 1 }, name: 'linux-amd64.modules.cpio.xz' });
    for (const bad of ['/files/x/kernel', '/files/x/initrd/a/f', '/files/x/../kernel/f', '/etc/passwd', '/files/%E0%A4%A/kernel/f'])
      expect(parseFilePath(bad)).toBeUndefined();
    expect(parseScriptPath('/boot/52%3A54%3A00%3A12%3A34%3A56.ipxe')).toBe('52:54:00:12:34:56');
    expect(parseScriptPath('/boot/52:54:00:12:34:56.ipxe')).toBe('52:54:00:12:34:56');
    expect(parseScriptPath('/boot.ipxe')).toBeUndefined();
  });
});
