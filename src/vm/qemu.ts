// The QEMU command line for one boot: machine, kernel, console, disks and a network that reaches only what is forwarded.

import type { Architecture } from '../architectures.ts';
import type { Board } from './boards.ts';

/** The guest address at which forwarded host ports appear; QEMU refuses forwards on its own host alias 10.0.2.2. */
export const FORWARD_ADDRESS = '10.0.2.100';

export type Accelerator = 'kvm' | 'tcg';

export interface VmSpec {
  arch: Architecture;
  kernel: string;
  initrd: string;
  /** The user's words, appended after the console settings b2c adds. */
  cmdline: string;
  memoryMiB: number;
  cpus: number;
  accel: Accelerator;
  disks: string[];
  /** Host ports on 127.0.0.1 that the guest reaches at FORWARD_ADDRESS:port. */
  forwards: number[];
  /** The program that carries one forwarded connection (busybox with its nc applet). */
  forwarder: string;
  /** A QMP socket to control the machine from outside while it runs, e.g. to plug a disk in late. */
  qmpSocket?: string;
  /** The guest's network cards, in order (eth0 first); none at all is a machine without network. */
  nics: Nic[];
  /** The QEMU device model of every card (`virtio-net-pci`, `e1000e`, `rtl8139`, `usb-net`, ...): the hardware a driver must match. */
  nicModel: string;
  /** What the disks hang on: the controller whose driver a cache disk then needs. */
  diskBus: DiskBus;
  /** What the guest's RTC says at power on, e.g. `2001-01-01T00:00:00`; the host's UTC time otherwise. */
  rtcBase?: string;
  /** A board instead of the architecture's virt machine, with the device tree it boots with: its on-board card takes the one network. */
  board?: { board: Board; dtb: string };
  /** The argv that starts QEMU when it is not the architecture's binary on PATH: a trixie QEMU through its own loader, for a board. */
  qemuCommand?: string[];
  /** Boot as a farm machine does, through the firmware's network boot, instead of from the kernel and initramfs above. */
  netboot?: Netboot;
  /** The first card's MAC address, which a netboot server knows the machine by; the others follow it. */
  mac?: string;
  /** Count instructions: the guest's clock then advances one nanosecond per instruction (TCG only), so its stamps count them. */
  instructionCounting?: boolean;
}

/** SeaBIOS with the card's iPXE option ROM, or OVMF's own PXE (its code, and a copy of its variables the machine may write). */
export type Netboot = { firmware: 'bios' } | { firmware: 'uefi'; code: string; vars: string };

export const FIRMWARES = ['bios', 'uefi'] as const;

/** The argv that starts QEMU for a spec, before its arguments. */
export function qemuProgram(spec: Pick<VmSpec, 'arch' | 'qemuCommand'>): string[] {
  return spec.qemuCommand ?? [spec.arch.qemu.binary];
}

/** QEMU's arguments for counting: one guest nanosecond per instruction, and no wall-clock sleep or alignment to blur it. */
export const INSTRUCTION_COUNTING = ['-icount', 'shift=0,sleep=off,align=off'];

/**
 * QEMU user networking, restricted to the forwards (`user`) or reaching what
 * the host reaches through QEMU's NAT (`nat`: a developer's laptop pulling
 * from docker.io); or a tap device that already exists on the host side.
 */
export type Nic = { kind: 'user'; nat?: true } | { kind: 'tap'; ifname: string };

/** Reads `user`, `nat`, `none` or `tap=IFNAME` items, comma-separated. */
export function parseNics(text: string): Nic[] | string {
  const nics: Nic[] = [];
  for (const item of text.split(',')) {
    if (item === 'user') nics.push({ kind: 'user' });
    else if (item === 'nat') nics.push({ kind: 'user', nat: true });
    else if (item === 'none' && text === 'none') return [];
    else if (/^tap=[A-Za-z0-9_.-]{1,15}$/.test(item)) nics.push({ kind: 'tap', ifname: item.slice('tap='.length) });
    else return `${item} is not a network card: use user, nat, tap=IFNAME, or none alone`;
  }
  if (nics.filter((nic) => nic.kind === 'user').length > 1) return 'user (or nat) networking can be given once';
  return nics;
}

/** The buses `--disk` can put disks on: virtio, an NVMe drive each, AHCI (SATA), USB mass storage on xHCI, an SD card on SDHCI. */
export const DISK_BUSES = ['virtio', 'nvme', 'ahci', 'usb', 'sd'] as const;
export type DiskBus = (typeof DISK_BUSES)[number];

/** The card b2c gives a machine unless told otherwise. */
export const DEFAULT_NIC_MODEL = 'virtio-net-pci';

/** QEMU's USB devices (`usb-net`) need a USB controller, which b2c then adds: an xHCI, as on any recent PC. */
export function isUsbDevice(model: string): boolean {
  return model.startsWith('usb-');
}

/** The PCIe port a disk can be hot-plugged into through QMP (`device_add ... bus=HOTPLUG_PORT`). */
export const HOTPLUG_PORT = 'hotplug0';

/** A machine with no devices but those asked for, its serial port on stdio, that stops rather than reboots (a panic or a reboot ends the run). */
export const SERIAL_CONSOLE_ONLY = serialConsoleOnly(0);

/** The same, with the console on the machine's serial port of that index (a board's UART2 is its second): the ports before it go nowhere. */
function serialConsoleOnly(consoleSerial: number): string[] {
  const unused = Array.from({ length: consoleSerial }, () => ['-serial', 'null']).flat();
  return ['-nodefaults', '-no-user-config', '-display', 'none', ...unused, '-serial', 'stdio', '-no-reboot'];
}

/** The kernel parameters b2c adds before the user's: a console, and no hang on panic. */
export function kernelCmdline(spec: Pick<VmSpec, 'arch' | 'cmdline' | 'board'>): string {
  // panic=-1 reboots at once on a panic, and -no-reboot turns that reboot into QEMU's exit.
  return [`console=${spec.board?.board.console ?? spec.arch.console}`, 'panic=-1', ...(spec.board?.board.kernelArgs ?? []), spec.cmdline].join(' ').trim();
}

/** Why a spec cannot boot on its board, or nothing: a board has its own card, no PCI for disks or QMP's port, a fixed core count. */
export function boardProblem(spec: VmSpec): string | undefined {
  if (spec.board === undefined) return undefined;
  const { board } = spec.board;
  if (spec.netboot !== undefined) return `b2c boots ${board.name} from its kernel only: --netboot does not apply`;
  if (spec.nics.length > 1) return `${board.name} has one network card, ${board.network}`;
  if (spec.nicModel !== DEFAULT_NIC_MODEL) return `${board.name} has its own network card (${board.network}): --nic-model does not apply`;
  if (spec.disks.length > 0) return `b2c gives ${board.name} no disks yet`;
  if (spec.qmpSocket !== undefined) return `${board.name} has no PCIe port to hot-plug into: --qmp does not apply`;
  if (spec.memoryMiB > board.maxMemoryMiB) return `${board.name} takes at most ${board.maxMemoryMiB} MiB: add --memory ${board.maxMemoryMiB}`;
  if (spec.cpus !== board.cpus) return `${board.name} boots with ${board.cpus} ${board.cpus === 1 ? 'core' : 'cores'} here: leave out --cpus`;
  return undefined;
}

/**
 * A card's backend: user networking restricted to the forwards (or not, for
 * nat), each
 * forwarded connection carried by its own forwarder process (a plain tcp:
 * target serves only one), or an existing tap.
 */
function networkBackend(spec: VmSpec, nic: Nic, index: number): string[] {
  if (nic.kind === 'tap') return ['tap', `id=net${index}`, `ifname=${nic.ifname}`, 'script=no', 'downscript=no'];
  return [
    'user',
    `id=net${index}`,
    ...(nic.nat === true ? [] : ['restrict=on']),
    ...spec.forwards.map((port) => `guestfwd=tcp:${FORWARD_ADDRESS}:${port}-cmd:${forwarderCommand(spec.forwarder, port)}`),
  ];
}

/**
 * The command that carries one forwarded connection. QEMU gives it the
 * guest's connection as stdin, stdout and stderr: nc's complaint about a
 * host port that refuses would reach the guest as the server's first bytes
 * (podman then reads `malformed HTTP status code "can't"`). With stderr
 * dropped, the guest sees its connection closed instead.
 */
export function forwarderCommand(forwarder: string, port: number): string {
  return `${forwarder} sh -c 'exec ${forwarder} nc 127.0.0.1 ${port} 2>/dev/null'`;
}

function macAddress(spec: Pick<VmSpec, 'mac'>, index: number): string {
  const first = (spec.mac ?? '52:54:00:12:34:56').split(':');
  const last = (parseInt(first[5] as string, 16) + index) % 256;
  return [...first.slice(0, 5), last.toString(16).padStart(2, '0')].join(':');
}

/** What the machine starts: the kernel and initramfs with b2c's console settings, or its firmware's network boot. */
function bootArgs(spec: VmSpec): string[] {
  if (spec.netboot === undefined) return ['-kernel', spec.kernel, '-initrd', spec.initrd, '-append', kernelCmdline(spec)];
  if (spec.netboot.firmware === 'bios') return ['-boot', 'order=n'];
  return [
    '-drive',
    `if=pflash,format=raw,unit=0,readonly=on,file=${spec.netboot.code}`,
    '-drive',
    `if=pflash,format=raw,unit=1,file=${spec.netboot.vars}`,
    '-boot',
    'order=n',
  ];
}

/** The arguments of a board: its machine, its device tree, its on-board card on the network. */
function boardArgs(spec: VmSpec, board: Board, dtb: string): string[] {
  const args = [
    ...board.machine,
    '-accel',
    `tcg,thread=${spec.arch.qemu.tcgThread}`,
    '-smp',
    String(board.cpus),
    '-m',
    String(spec.memoryMiB),
    ...serialConsoleOnly(board.consoleSerial),
    '-kernel',
    spec.kernel,
    '-dtb',
    dtb,
    '-initrd',
    spec.initrd,
    '-append',
    kernelCmdline(spec),
    ...(spec.rtcBase !== undefined ? ['-rtc', `base=${spec.rtcBase}`] : []),
  ];
  // -nic gives the board's own card (QEMU's first NIC slot) its backend.
  const nic = spec.nics[0];
  if (nic !== undefined) args.push('-nic', [...networkBackend(spec, nic, 0), `mac=${macAddress(spec, 0)}`].join(','));
  return args;
}

export function qemuArgs(spec: VmSpec): string[] {
  if (spec.board !== undefined) return boardArgs(spec, spec.board.board, spec.board.dtb);
  const args = [
    ...spec.arch.qemu.machine,
    '-accel',
    spec.accel === 'kvm' ? 'kvm' : `tcg,thread=${spec.arch.qemu.tcgThread}`,
    '-smp',
    String(spec.cpus),
    '-m',
    String(spec.memoryMiB),
    ...SERIAL_CONSOLE_ONLY,
    ...bootArgs(spec),
    ...(spec.rtcBase !== undefined ? ['-rtc', `base=${spec.rtcBase}`] : []),
    ...(spec.instructionCounting === true && spec.accel === 'tcg' ? INSTRUCTION_COUNTING : []),
    // Without a hardware RNG, the guest kernel's CRNG waits seconds for timer jitter under TCG, and
    // podman's first start (Go's crypto/rand, through getrandom) blocks until it is ready.
    '-device',
    'virtio-rng-pci',
  ];
  // One xHCI controller for whatever USB devices the machine has.
  if ((isUsbDevice(spec.nicModel) && spec.nics.length > 0) || (spec.diskBus === 'usb' && spec.disks.length > 0)) args.push('-device', 'qemu-xhci,id=xhci');
  for (const [index, nic] of spec.nics.entries()) {
    const bus = isUsbDevice(spec.nicModel) ? ',bus=xhci.0' : '';
    // OVMF drives the card itself and boots with its own PXE, as a PC's UEFI does: the card's iPXE option ROM would take its place.
    const rom = spec.netboot?.firmware === 'uefi' ? ',romfile=' : '';
    args.push(
      '-netdev',
      networkBackend(spec, nic, index).join(','),
      '-device',
      `${spec.nicModel},netdev=net${index},mac=${macAddress(spec, index)}${bus}${rom}`,
    );
  }
  if (spec.qmpSocket !== undefined) {
    args.push('-qmp', `unix:${spec.qmpSocket},server=on,wait=off`, '-device', `pcie-root-port,id=${HOTPLUG_PORT},chassis=1`);
  }
  // AHCI is built into q35 but not into ARM's virt: a controller of its own works on both.
  if (spec.diskBus === 'ahci' && spec.disks.length > 0) args.push('-device', 'ich9-ahci,id=ahci');
  for (const [index, disk] of spec.disks.entries()) {
    const format = disk.endsWith('.qcow2') ? 'qcow2' : 'raw';
    args.push('-drive', `file=${disk},format=${format},if=none,id=disk${index}`, ...diskDevice(spec.diskBus, index));
  }
  return args;
}

/** The -device arguments that put drive `disk<index>` on `bus`. */
function diskDevice(bus: DiskBus, index: number): string[] {
  const drive = `drive=disk${index}`;
  switch (bus) {
    case 'virtio':
      return ['-device', `virtio-blk-pci,${drive},serial=b2c-disk${index}`];
    case 'nvme':
      return ['-device', `nvme,${drive},serial=b2c-disk${index}`];
    case 'ahci':
      return ['-device', `ide-hd,${drive},bus=ahci.${index}`];
    case 'usb':
      return ['-device', `usb-storage,${drive},bus=xhci.0`];
    case 'sd':
      // QEMU names every SDHCI's bus sd-bus: one SD card per machine (checkDisks refuses more).
      return ['-device', 'sdhci-pci', '-device', `sd-card,${drive},bus=sd-bus`];
  }
}

/** What QEMU cannot give for these disks on that bus, in words; undefined when it can. */
export function diskBusProblem(bus: DiskBus, disks: number): string | undefined {
  if (bus === 'sd' && disks > 1) return 'one SD card per machine: QEMU names every SDHCI bus alike';
  if (bus === 'ahci' && disks > 6) return 'an AHCI controller has 6 ports';
  return undefined;
}
