import { describe, expect, it } from 'vitest';
import { dnsmasqArgs, hostsFileText, parseDnsmasqLine, tftpNames, type DnsmasqPlan } from '../../src/serve/dnsmasq.ts';

const plan: DnsmasqPlan = {
  interface: 'eth1',
  serverAddress: '10.77.0.1',
  mode: { kind: 'dhcp', first: '10.77.0.100', last: '10.77.0.200', netmask: '255.255.255.0' },
  tftpRoot: '/run/b2c/tftp',
  hostsFile: '/run/b2c/hosts',
  leaseFile: '/run/b2c/leases',
  scriptUrl: 'http://10.77.0.1:8080/boot.ipxe',
  bootEveryone: false,
};

describe('dnsmasq arguments', () => {
  it('hands out addresses and, to the machines of the file only, iPXE by firmware, then the script', () => {
    const args = dnsmasqArgs(plan);
    expect(args).toContain('--interface=eth1');
    expect(args).toContain('--bind-interfaces');
    expect(args).toContain('--port=0');
    expect(args).toContain('--dhcp-range=10.77.0.100,10.77.0.200,255.255.255.0,1h');
    expect(args).toContain('--dhcp-hostsfile=/run/b2c/hosts');
    const boots = args.filter((arg) => arg.startsWith('--dhcp-boot='));
    expect(boots).toEqual([
      '--dhcp-boot=tag:b2c,tag:pxe,tag:ipxe,http://10.77.0.1:8080/boot.ipxe',
      '--dhcp-boot=tag:b2c,tag:pxe,tag:!ipxe,tag:efi-x86_64,ipxe.efi,,10.77.0.1',
      '--dhcp-boot=tag:b2c,tag:pxe,tag:!ipxe,tag:efi-arm64,ipxe-arm64.efi,,10.77.0.1',
      '--dhcp-boot=tag:b2c,tag:pxe,tag:!ipxe,tag:!efi-x86_64,tag:!efi-arm64,undionly.kpxe,,10.77.0.1',
    ]);
    expect(args.some((arg) => arg.startsWith('--dhcp-mac='))).toBe(false);
    expect(args.some((arg) => arg.startsWith('--pxe-service='))).toBe(false);
    // Machines the file does not name still get an address, without a boot file.
    expect(args.some((arg) => arg.startsWith('--dhcp-ignore='))).toBe(false);
  });

  it('offers every machine a boot when the file has a default', () => {
    expect(dnsmasqArgs({ ...plan, bootEveryone: true })).toContain('--dhcp-mac=set:b2c,*:*:*:*:*:*');
  });

  it('answers only with the boot in proxy mode, as boot services for firmwares and a file for iPXE', () => {
    const args = dnsmasqArgs({ ...plan, mode: { kind: 'proxy', network: '10.77.0.0', netmask: '255.255.255.0' } });
    expect(args).toContain('--dhcp-range=10.77.0.0,proxy,255.255.255.0');
    expect(args.filter((arg) => arg.startsWith('--dhcp-range='))).toHaveLength(1);
    expect(args).toContain('--dhcp-ignore=tag:!b2c');
    expect(args).toContain('--dhcp-boot=tag:b2c,tag:pxe,tag:ipxe,http://10.77.0.1:8080/boot.ipxe');
    expect(args.filter((arg) => arg.startsWith('--pxe-service='))).toEqual([
      '--pxe-service=tag:b2c,tag:pxe,tag:!ipxe,x86PC,"b2c",undionly.kpxe,10.77.0.1',
      '--pxe-service=tag:b2c,tag:pxe,tag:!ipxe,BC_EFI,"b2c",ipxe.efi,10.77.0.1',
      '--pxe-service=tag:b2c,tag:pxe,tag:!ipxe,X86-64_EFI,"b2c",ipxe.efi,10.77.0.1',
      '--pxe-service=tag:b2c,tag:pxe,tag:!ipxe,ARM64_EFI,"b2c",ipxe-arm64.efi,10.77.0.1',
    ]);
  });

  it('lists the machines in the hosts file, and names each program as PXE asks for it', () => {
    expect(hostsFileText(['52:54:00:12:34:56', '52:54:00:12:34:57'])).toBe('52:54:00:12:34:56,set:b2c\n52:54:00:12:34:57,set:b2c\n');
    expect(hostsFileText([])).toBe('');
    expect(tftpNames('undionly.kpxe')).toEqual(['undionly.kpxe', 'undionly.kpxe.0']);
  });
});

describe("dnsmasq's log", () => {
  // Lines as dnsmasq 2.91 printed them while machines booted.
  it('reads the answers to a machine, with their transaction', () => {
    expect(parseDnsmasqLine('dnsmasq-dhcp[29017]: 3130112798 DHCPOFFER(br0) 10.77.0.157 52:54:00:12:34:56 ')).toEqual({
      step: 'dhcp',
      message: 'DHCPOFFER 10.77.0.157',
      mac: '52:54:00:12:34:56',
      address: '10.77.0.157',
      transaction: '3130112798',
    });
    expect(parseDnsmasqLine('dnsmasq-dhcp[30164]: 2953546300 PXE(br0) 52:54:00:12:34:57 proxy')).toMatchObject({
      message: 'PXE proxy',
      mac: '52:54:00:12:34:57',
    });
    expect(parseDnsmasqLine('dnsmasq-dhcp[29017]: 1085020423 DHCPACK(br0) 10.77.0.157 52:54:00:12:34:56 ')).toMatchObject({ message: 'DHCPACK 10.77.0.157' });
    // What the machine asked is not a step of the server's.
    expect(parseDnsmasqLine('dnsmasq-dhcp[29017]: 1085020423 DHCPREQUEST(br0) 10.77.0.157 52:54:00:12:34:56 ')).toBeUndefined();
    expect(parseDnsmasqLine('dnsmasq-dhcp[29017]: 1085020423 vendor class: PXEClient:Arch:00007:UNDI:003001')).toBeUndefined();
  });

  it('reads the boot file offered, in both the forms dnsmasq logs it', () => {
    expect(parseDnsmasqLine('dnsmasq-dhcp[29017]: 1085020423 bootfile name: undionly.kpxe')).toEqual({
      step: 'boot-file',
      transaction: '1085020423',
      file: 'undionly.kpxe',
    });
    expect(parseDnsmasqLine('dnsmasq-dhcp[29017]: 3130112798 sent size: 32 option: 67 bootfile-name  http://10.77.0.1:8080/boot.ipxe')).toEqual({
      step: 'boot-file',
      transaction: '3130112798',
      file: 'http://10.77.0.1:8080/boot.ipxe',
    });
  });

  it('reads TFTP transfers and their failures', () => {
    expect(parseDnsmasqLine('dnsmasq-tftp[29017]: sent /tmp/b2c-serve-x/tftp/ipxe.efi to 10.77.0.158')).toEqual({
      step: 'tftp',
      file: '/tmp/b2c-serve-x/tftp/ipxe.efi',
      address: '10.77.0.158',
      ok: true,
      message: 'sent',
    });
    expect(parseDnsmasqLine('dnsmasq-tftp[29017]: file /tmp/b2c-serve-x/tftp/autoexec.ipxe not found for 10.77.0.158')).toMatchObject({
      ok: false,
      file: '/tmp/b2c-serve-x/tftp/autoexec.ipxe',
      address: '10.77.0.158',
    });
    expect(parseDnsmasqLine('dnsmasq-tftp[29017]: TFTP root is /tmp/nb/tftp  ')).toBeUndefined();
  });

  it("passes dnsmasq's own words on", () => {
    expect(parseDnsmasqLine('dnsmasq[29017]: started, version 2.91 DNS disabled')).toEqual({ step: 'dnsmasq', message: 'started, version 2.91 DNS disabled' });
    expect(parseDnsmasqLine('dnsmasq: failed to create listening socket for port 67: Address already in use')).toEqual({
      step: 'dnsmasq',
      message: 'dnsmasq: failed to create listening socket for port 67: Address already in use',
    });
    expect(parseDnsmasqLine('')).toBeUndefined();
  });
});
