// What differs per target architecture: Debian's names, the library triplet, the kernel and how QEMU boots it.

import { B2cError } from '../errors.ts';

export interface Architecture {
  /** Debian's name, also the suffix of the output files. */
  debian: string;
  /** Multiarch folder under /usr/lib. */
  triplet: string;
  /** The kernel metapackage that names the current kernel. */
  kernelPackage: string;
  /** The kernel image's name in /boot, before `-VERSION`. */
  kernelImage: string;
  qemu: { binary: string; package: string; machine: string[] };
  console: string;
  /** Modules worth shipping on this architecture only, such as accelerated checksums. */
  modules: string[];
  /** xz's branch filter for this architecture's code, when the host's xz and the kernel's decoder both have it. */
  xzBranchFilter?: string;
}

export const ARCHITECTURES: Record<string, Architecture> = {
  amd64: {
    debian: 'amd64',
    triplet: 'x86_64-linux-gnu',
    kernelPackage: 'linux-image-amd64',
    kernelImage: 'vmlinuz',
    qemu: { binary: 'qemu-system-x86_64', package: 'qemu-system-x86', machine: ['-machine', 'q35'] },
    console: 'ttyS0',
    modules: ['crc32c_intel'],
    xzBranchFilter: 'x86',
  },
};

export class ArchitectureError extends B2cError {}

export function architecture(name: string): Architecture {
  const arch = ARCHITECTURES[name];
  if (!arch) throw new ArchitectureError(`unknown architecture ${name}: this b2c builds ${Object.keys(ARCHITECTURES).join(', ')}`);
  return arch;
}
