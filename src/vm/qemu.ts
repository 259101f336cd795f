// The QEMU command line for one boot: machine, kernel, console, disks and a network that reaches only what is forwarded.

import type { Architecture } from '../build/architectures.ts';

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
}

/** The PCIe port a disk can be hot-plugged into through QMP (`device_add ... bus=HOTPLUG_PORT`). */
export const HOTPLUG_PORT = 'hotplug0';

/** The kernel parameters b2c adds before the user's: a console, and no hang on panic. */
export function kernelCmdline(spec: Pick<VmSpec, 'arch' | 'cmdline'>): string {
  // panic=-1 reboots at once on a panic, and -no-reboot turns that reboot into QEMU's exit.
  return `console=${spec.arch.console} panic=-1 ${spec.cmdline}`.trim();
}

export function qemuArgs(spec: VmSpec): string[] {
  // restrict=on: the guest reaches nothing but the forwards below. Each forwarded
  // connection gets its own forwarder process: a plain tcp: target serves only one.
  const netdev = ['user', 'id=net0', 'restrict=on', ...spec.forwards.map((port) => `guestfwd=tcp:${FORWARD_ADDRESS}:${port}-cmd:${spec.forwarder} nc 127.0.0.1 ${port}`)];
  const args = [
    ...spec.arch.qemu.machine,
    // Multi-threaded TCG with several vCPUs has been seen to crash guest kernels on QEMU 7.2.
    '-accel', spec.accel === 'kvm' ? 'kvm' : 'tcg,thread=single',
    '-smp', String(spec.cpus),
    '-m', String(spec.memoryMiB),
    '-nodefaults', '-no-user-config',
    '-display', 'none',
    '-serial', 'stdio',
    '-no-reboot',
    '-kernel', spec.kernel,
    '-initrd', spec.initrd,
    '-append', kernelCmdline(spec),
    '-netdev', netdev.join(','),
    '-device', 'virtio-net-pci,netdev=net0',
  ];
  if (spec.qmpSocket !== undefined) {
    args.push('-qmp', `unix:${spec.qmpSocket},server=on,wait=off`, '-device', `pcie-root-port,id=${HOTPLUG_PORT},chassis=1`);
  }
  for (const [index, disk] of spec.disks.entries()) {
    const format = disk.endsWith('.qcow2') ? 'qcow2' : 'raw';
    args.push('-drive', `file=${disk},format=${format},if=none,id=disk${index}`, '-device', `virtio-blk-pci,drive=disk${index},serial=b2c-disk${index}`);
  }
  return args;
}
