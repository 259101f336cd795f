import { describe, expect, it } from 'vitest';
import { architecture } from '../../src/architectures.ts';
import { BOARDS, boardFor, type Board } from '../../src/vm/boards.ts';
import { boardProblem, DISK_BUSES, diskBusProblem, kernelCmdline, parseNics, forwarderCommand, qemuArgs, qemuProgram, type Nic } from '../../src/vm/qemu.ts';

const spec = {
  arch: architecture('amd64'),
  kernel: '/out/linux-amd64',
  initrd: '/out/initramfs.linux_amd64.cpio.xz',
  cmdline: 'b2c.container="docker://10.0.2.100:5000/i:1"',
  memoryMiB: 2048,
  cpus: 2,
  accel: 'tcg' as const,
  disks: ['/tmp/cache.img'],
  forwards: [5000, 9000],
  forwarder: 'busybox',
  nics: [{ kind: 'user' }] as Nic[],
  nicModel: 'virtio-net-pci',
  diskBus: 'virtio' as const,
};

describe('qemuArgs', () => {
  it('never reboots, puts the console first, and lets the user words come last', () => {
    expect(kernelCmdline(spec)).toBe('console=ttyS0 panic=-1 b2c.container="docker://10.0.2.100:5000/i:1"');
    const args = qemuArgs(spec);
    expect(args).toContain('-no-reboot');
    expect(args[args.indexOf('-append') + 1]).toBe(kernelCmdline(spec));
    expect(args[args.indexOf('-accel') + 1]).toBe('tcg,thread=single');
  });

  it('netboots through SeaBIOS and the card’s iPXE, or through OVMF with its own PXE, with no kernel given', () => {
    const nics: Nic[] = [
      { kind: 'tap', ifname: 'tap0' },
      { kind: 'tap', ifname: 'tap1' },
    ];
    const bios = qemuArgs({ ...spec, disks: [], nics, netboot: { firmware: 'bios' }, mac: '52:54:00:b2:c0:ff' });
    for (const option of ['-kernel', '-initrd', '-append', '-drive']) expect(bios).not.toContain(option);
    expect(bios[bios.indexOf('-boot') + 1]).toBe('order=n');
    const devices = bios.filter((_, index) => bios[index - 1] === '-device' && (bios[index] ?? '').startsWith('virtio-net-pci'));
    // The second card's address follows the first, wrapping within the last byte.
    expect(devices).toEqual(['virtio-net-pci,netdev=net0,mac=52:54:00:b2:c0:ff', 'virtio-net-pci,netdev=net1,mac=52:54:00:b2:c0:00']);
    const uefi = qemuArgs({ ...spec, disks: [], nics, netboot: { firmware: 'uefi', code: '/ovmf/CODE.fd', vars: '/run/VARS.fd' } });
    expect(uefi).toContain('if=pflash,format=raw,unit=0,readonly=on,file=/ovmf/CODE.fd');
    expect(uefi).toContain('if=pflash,format=raw,unit=1,file=/run/VARS.fd');
    expect(uefi).toContain('virtio-net-pci,netdev=net0,mac=52:54:00:12:34:56,romfile=');
    const board = boardFor('imx8mp-evk', architecture('arm64')) as Board;
    expect(
      boardProblem({ ...spec, disks: [], forwards: [], arch: architecture('arm64'), board: { board, dtb: '/d.dtb' }, netboot: { firmware: 'bios' } }),
    ).toMatch(/--netboot does not apply/);
  });

  it('counts instructions under TCG when asked, and never under KVM', () => {
    expect(qemuArgs(spec)).not.toContain('-icount');
    const counted = qemuArgs({ ...spec, instructionCounting: true });
    expect(counted[counted.indexOf('-icount') + 1]).toBe('shift=0,sleep=off,align=off');
    expect(qemuArgs({ ...spec, instructionCounting: true, accel: 'kvm' })).not.toContain('-icount');
  });

  it('gives every machine a virtio RNG, so that the guest kernel seeds its CRNG at once', () => {
    for (const arch of ['amd64', 'arm64', 'riscv64', 'armhf']) {
      const args = qemuArgs({ ...spec, arch: architecture(arch) });
      expect(args[args.indexOf('virtio-rng-pci') - 1]).toBe('-device');
    }
  });

  it('restricts the user network to the forwarded ports of 127.0.0.1, one forwarder per connection', () => {
    const args = qemuArgs(spec);
    const netdevs = args.filter((_, index) => args[index - 1] === '-netdev');
    expect(netdevs).toHaveLength(1);
    const options = (netdevs[0] ?? '').split(',');
    expect(options).toContain('restrict=on');
    const forwards = options.filter((option) => option.startsWith('guestfwd='));
    expect(forwards).toEqual(spec.forwards.map((port) => `guestfwd=tcp:10.0.2.100:${port}-cmd:${forwarderCommand('busybox', port)}`));
    // Nothing else gives the guest a way out: no host forwards, no SMB, no TFTP or boot file.
    expect(options.filter((option) => /^(hostfwd|smb|tftp|bootfile)=/.test(option))).toEqual([]);
  });

  it('gives tap cards after the user one, each with its own MAC, and none when asked', () => {
    const args = qemuArgs({ ...spec, nics: [{ kind: 'user' }, { kind: 'tap', ifname: 'b2ctap1' }] });
    const netdevs = args.flatMap((arg, index) => (args[index - 1] === '-netdev' ? [arg] : []));
    // The tap exists already (in the test's own namespace): QEMU must not run the host's ifup scripts on it.
    expect(netdevs[1]?.split(',')).toEqual(expect.arrayContaining(['tap', 'ifname=b2ctap1', 'script=no', 'downscript=no']));
    expect(args).toContain('virtio-net-pci,netdev=net0,mac=52:54:00:12:34:56');
    expect(args).toContain('virtio-net-pci,netdev=net1,mac=52:54:00:12:34:57');
    expect(qemuArgs({ ...spec, nics: [] })).not.toContain('-netdev');
  });

  it('gives the cards the model asked for, and a USB card an xHCI controller to sit on', () => {
    expect(qemuArgs({ ...spec, nicModel: 'rtl8139' })).toContain('rtl8139,netdev=net0,mac=52:54:00:12:34:56');
    expect(qemuArgs({ ...spec, nicModel: 'rtl8139' })).not.toContain('qemu-xhci,id=xhci');
    const usb = qemuArgs({ ...spec, nicModel: 'usb-net' });
    expect(usb).toContain('usb-net,netdev=net0,mac=52:54:00:12:34:56,bus=xhci.0');
    expect(usb.indexOf('qemu-xhci,id=xhci')).toBeLessThan(usb.indexOf('usb-net,netdev=net0,mac=52:54:00:12:34:56,bus=xhci.0'));
  });

  it('puts the disks on the bus asked for, with the controller it needs, once', () => {
    const devices = (bus: (typeof DISK_BUSES)[number], disks = spec.disks): string[] => {
      const args = qemuArgs({ ...spec, diskBus: bus, disks });
      return args.filter((_, index) => args[index - 1] === '-device' && !/rng|net/.test(args[index] ?? ''));
    };
    expect(devices('virtio')).toEqual(['virtio-blk-pci,drive=disk0,serial=b2c-disk0']);
    expect(devices('nvme', ['/a.img', '/b.img'])).toEqual(['nvme,drive=disk0,serial=b2c-disk0', 'nvme,drive=disk1,serial=b2c-disk1']);
    expect(devices('ahci', ['/a.img', '/b.img'])).toEqual(['ich9-ahci,id=ahci', 'ide-hd,drive=disk0,bus=ahci.0', 'ide-hd,drive=disk1,bus=ahci.1']);
    expect(devices('usb')).toEqual(['qemu-xhci,id=xhci', 'usb-storage,drive=disk0,bus=xhci.0']);
    expect(devices('sd')).toEqual(['sdhci-pci', 'sd-card,drive=disk0,bus=sd-bus']);
    // A USB card and USB disks share one controller.
    expect(qemuArgs({ ...spec, diskBus: 'usb', nicModel: 'usb-net' }).filter((arg) => arg === 'qemu-xhci,id=xhci')).toHaveLength(1);
    expect(diskBusProblem('sd', 2)).toMatch(/one SD card per machine/);
    expect(diskBusProblem('ahci', 6)).toBeUndefined();
    expect(diskBusProblem('ahci', 7)).toMatch(/6 ports/);
  });

  it('reads --network lists and refuses what it cannot boot', () => {
    expect(parseNics('user,tap=b2c0')).toEqual([{ kind: 'user' }, { kind: 'tap', ifname: 'b2c0' }]);
    expect(parseNics('none')).toEqual([]);
    expect(parseNics('user,none')).toMatch(/none alone/);
    expect(parseNics('user,user')).toMatch(/once/);
    expect(parseNics('user,nat')).toMatch(/once/);
    expect(parseNics('tap=')).toMatch(/not a network card/);
  });

  it('lets a nat card reach what the host reaches, keeping the forwards, and only when asked', () => {
    expect(parseNics('nat')).toEqual([{ kind: 'user', nat: true }]);
    const args = qemuArgs({ ...spec, nics: [{ kind: 'user', nat: true }] });
    const options = (args.find((_, index) => args[index - 1] === '-netdev') ?? '').split(',');
    expect(options).not.toContain('restrict=on');
    expect(options.filter((option) => option.startsWith('guestfwd='))).toHaveLength(spec.forwards.length);
  });

  it('sets the guest clock only when asked', () => {
    expect(qemuArgs(spec)).not.toContain('-rtc');
    const args = qemuArgs({ ...spec, rtcBase: '2001-01-01' });
    expect(args[args.indexOf('-rtc') + 1]).toBe('base=2001-01-01');
  });

  it('attaches disks as virtio disks', () => {
    const args = qemuArgs(spec);
    expect(args[args.indexOf('-drive') + 1]).toBe('file=/tmp/cache.img,format=raw,if=none,id=disk0');
    expect(args).toContain('virtio-blk-pci,drive=disk0,serial=b2c-disk0');
  });

  it('serves QMP with a port for hot-plugged disks only when asked', () => {
    expect(qemuArgs(spec)).not.toContain('-qmp');
    const args = qemuArgs({ ...spec, qmpSocket: '/tmp/qmp.sock' });
    expect(args[args.indexOf('-qmp') + 1]).toBe('unix:/tmp/qmp.sock,server=on,wait=off');
    expect(args).toContain('pcie-root-port,id=hotplug0,chassis=1');
  });

  it('boots the ARM and RISC-V guests on the virt machine with their own console', () => {
    const arm64 = qemuArgs({ ...spec, arch: architecture('arm64') });
    expect(arm64.slice(0, 4)).toEqual(['-machine', 'virt', '-cpu', 'cortex-a72']);
    expect(arm64[arm64.indexOf('-append') + 1]).toMatch(/^console=ttyAMA0 /);
    expect(qemuArgs({ ...spec, arch: architecture('armhf') }).slice(0, 2)).toEqual(['-machine', 'virt,highmem=off']);
    const riscv64 = qemuArgs({ ...spec, arch: architecture('riscv64') });
    expect(riscv64[riscv64.indexOf('-append') + 1]).toMatch(/^console=ttyS0 /);
  });
});

describe('boards', () => {
  const armhf = architecture('armhf');
  const board = BOARDS['orangepi-pc'] as Board;
  const onBoard = { ...spec, arch: armhf, disks: [], memoryMiB: 1024, cpus: 4, board: { board, dtb: '/out/linux-armhf.dtbs/sun8i-h3-orangepi-pc.dtb' } };

  it("boots the board's machine with its device tree, core count and console, its own card on the restricted network, and nothing on PCI", () => {
    const args = qemuArgs(onBoard);
    expect(args.slice(0, 2)).toEqual(['-machine', 'orangepi-pc']);
    expect(args[args.indexOf('-dtb') + 1]).toBe('/out/linux-armhf.dtbs/sun8i-h3-orangepi-pc.dtb');
    expect(args[args.indexOf('-smp') + 1]).toBe('4');
    expect(args[args.indexOf('-append') + 1]).toMatch(/^console=ttyS0 panic=-1 maxcpus=1 b2c\.container=/);
    const nic = args[args.indexOf('-nic') + 1]?.split(',') ?? [];
    expect(nic).toEqual(expect.arrayContaining(['user', 'restrict=on', 'mac=52:54:00:12:34:56']));
    expect(nic.filter((option) => option.startsWith('guestfwd=tcp:10.0.2.100:'))).toHaveLength(2);
    expect(args.join(' ')).not.toMatch(/virtio|pci|-netdev/);
  });

  it("puts the console on the board's UART2 for imx8mp-evk, the ports before it nowhere, and runs the QEMU given", () => {
    const imx = BOARDS['imx8mp-evk'] as Board;
    const arm64 = architecture('arm64');
    const imxSpec = { ...onBoard, arch: arm64, cpus: 1, memoryMiB: 3072, board: { board: imx, dtb: '/dtbs/freescale/imx8mp-evk.dtb' } };
    const args = qemuArgs(imxSpec);
    const serials = args.flatMap((arg, index) => (arg === '-serial' ? [args[index + 1]] : []));
    expect(serials).toEqual(['null', 'stdio']);
    expect(args[args.indexOf('-append') + 1]).toMatch(/^console=ttymxc1,115200 panic=-1 cpuidle\.off=1 /);
    expect(boardProblem(imxSpec)).toBeUndefined();
    expect(qemuProgram(imxSpec)).toEqual(['qemu-system-aarch64']);
    expect(qemuProgram({ ...imxSpec, qemuCommand: ['/lib/ld.so', 'qemu'] })).toEqual(['/lib/ld.so', 'qemu']);
    expect(imx.trixieQemu?.program).toBe('usr/bin/qemu-system-aarch64');
    // The virt machine keeps its one serial port.
    expect(qemuArgs(spec).filter((arg) => arg === '-serial')).toHaveLength(1);
  });

  it('refuses what a board does not have', () => {
    expect(boardProblem(onBoard)).toBeUndefined();
    expect(boardProblem({ ...onBoard, nics: [{ kind: 'user' }, { kind: 'tap', ifname: 't0' }] })).toMatch(/one network card/);
    expect(boardProblem({ ...onBoard, nicModel: 'e1000' })).toMatch(/--nic-model does not apply/);
    expect(boardProblem({ ...onBoard, disks: ['/tmp/d.img'] })).toMatch(/no disks/);
    expect(boardProblem({ ...onBoard, memoryMiB: 2048 })).toBe('orangepi-pc takes at most 1024 MiB: add --memory 1024');
    expect(boardProblem({ ...onBoard, cpus: 2 })).toBe('orangepi-pc boots with 4 cores here: leave out --cpus');
    expect(boardFor('orangepi-pc', architecture('arm64'))).toBe('orangepi-pc is an armhf board: add --arch armhf');
    expect(boardFor('rpi9', armhf)).toBe('rpi9 is not a board b2c boots (orangepi-pc, imx8mp-evk)');
    expect(boardFor('orangepi-pc', armhf)).toBe(board);
  });
});
