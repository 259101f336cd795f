// What differs per target architecture: Debian's names, the library triplet, the kernel and how QEMU boots it.

import { B2cError } from './errors.ts';

export interface Architecture {
  /** Debian's name, also the suffix of the output files. */
  debian: string;
  /** Multiarch folder under /usr/lib. */
  triplet: string;
  /** The platform an OCI index names for this architecture, which podman in the guest picks. */
  oci: { architecture: string; variant?: string };
  /** What `uname -m` says on this architecture. */
  machine: string;
  /** The kernel metapackage that names the current kernel. */
  kernelPackage: string;
  /** The kernel image's name in /boot, before `-VERSION`. */
  kernelImage: string;
  /** The boot header every kernel image of this architecture carries (bytes at an offset), and where a kernel build leaves that image. */
  kernelHeader: { offset: number; magic: string; built: string };
  qemu: {
    binary: string;
    package: string;
    machine: string[];
    /** TCG with one host thread for all vCPUs, or one each (QEMU's default for ARM and RISC-V guests). */
    tcgThread: 'single' | 'multi';
  };
  console: string;
  /** xz's branch filter for this architecture's code, when the host's xz and the kernel's decoder both have it. */
  xzBranchFilter?: string;
  /** A strip for this architecture's modules (a trixie package run on the host), where Debian leaves symbols no relocation needs. */
  moduleStrip?: { package: string; program: string };
}

export const ARCHITECTURES: Record<string, Architecture> = {
  amd64: {
    debian: 'amd64',
    triplet: 'x86_64-linux-gnu',
    oci: { architecture: 'amd64' },
    machine: 'x86_64',
    kernelPackage: 'linux-image-amd64',
    kernelImage: 'vmlinuz',
    kernelHeader: { offset: 0x202, magic: 'HdrS', built: 'arch/x86/boot/bzImage' },
    // Multi-threaded TCG with several vCPUs has been seen to crash x86 guest kernels on QEMU 7.2.
    qemu: { binary: 'qemu-system-x86_64', package: 'qemu-system-x86', machine: ['-machine', 'q35'], tcgThread: 'single' },
    console: 'ttyS0',
    xzBranchFilter: 'x86',
  },
  arm64: {
    debian: 'arm64',
    triplet: 'aarch64-linux-gnu',
    oci: { architecture: 'arm64', variant: 'v8' },
    machine: 'aarch64',
    kernelPackage: 'linux-image-arm64',
    kernelImage: 'vmlinuz',
    kernelHeader: { offset: 0x38, magic: 'ARM\x64', built: 'arch/arm64/boot/Image' },
    // cortex-a72 rather than max: TCG emulates pointer authentication slowly, and Debian's kernel needs nothing past ARMv8.0.
    qemu: { binary: 'qemu-system-aarch64', package: 'qemu-system-arm', machine: ['-machine', 'virt', '-cpu', 'cortex-a72'], tcgThread: 'multi' },
    console: 'ttyAMA0',
    xzBranchFilter: 'arm64',
  },
  riscv64: {
    debian: 'riscv64',
    triplet: 'riscv64-linux-gnu',
    oci: { architecture: 'riscv64' },
    machine: 'riscv64',
    kernelPackage: 'linux-image-riscv64',
    // Debian ships the uncompressed Image (with its EFI header) under this name.
    kernelImage: 'vmlinux',
    kernelHeader: { offset: 0x38, magic: 'RSC\x05', built: 'arch/riscv/boot/Image' },
    // QEMU's default firmware for virt is OpenSBI, which Debian ships in qemu-system-data.
    qemu: { binary: 'qemu-system-riscv64', package: 'qemu-system-misc', machine: ['-machine', 'virt'], tcgThread: 'multi' },
    console: 'ttyS0',
    // Debian's riscv64 modules keep the compiler's local labels: e1000e's 2.3 MB is 0.6 MB without those its relocations do not use.
    moduleStrip: { package: 'binutils-riscv64-linux-gnu', program: 'usr/bin/riscv64-linux-gnu-strip' },
  },
  armhf: {
    debian: 'armhf',
    triplet: 'arm-linux-gnueabihf',
    oci: { architecture: 'arm', variant: 'v7' },
    machine: 'armv7l',
    kernelPackage: 'linux-image-armmp',
    kernelImage: 'vmlinuz',
    kernelHeader: { offset: 0x24, magic: '\x18\x28\x6f\x01', built: 'arch/arm/boot/zImage' },
    // armmp has no LPAE: keep the PCIe window and RAM below 4 GiB, where it can reach them. With
    // two vCPUs on one TCG thread, this kernel locks up in stop_machine during boot.
    qemu: { binary: 'qemu-system-arm', package: 'qemu-system-arm', machine: ['-machine', 'virt,highmem=off', '-cpu', 'cortex-a15'], tcgThread: 'multi' },
    console: 'ttyAMA0',
    // ARM rather than Thumb: measured on this image, --arm saves 640 kB of xz and --armthumb 180 kB.
    xzBranchFilter: 'arm',
  },
};

export function architecture(name: string): Architecture {
  const arch = ARCHITECTURES[name];
  if (!arch) throw new B2cError(`unknown architecture ${name}: this b2c builds ${Object.keys(ARCHITECTURES).join(', ')}`);
  return arch;
}

/** `amd64`, `arm64,riscv64` or `all`: the architectures in the order given (all: the table's order), each once. */
export function parseArchitectureList(text: string): Architecture[] {
  const names = text === 'all' ? Object.keys(ARCHITECTURES) : text.split(',').map((name) => name.trim());
  return [...new Set(names)].map((name) => architecture(name));
}
