// The names `b2c build` gives its output files: what farms fetch, and what `b2c run` and the benchmark boot.

export type Compression = 'xz' | 'zstd' | 'none';

/** The archives `b2c build --addons` writes, which a bootloader loads after the initramfs, and the device trees it hands the kernel. */
export type Addon = 'modules' | 'firmware' | 'gpu-firmware' | 'dtbs';
export const ADDONS: readonly Addon[] = ['modules', 'firmware', 'gpu-firmware', 'dtbs'];

export interface OutputNames {
  initramfs: Record<Compression, string>;
  kernel: string;
  manifest: string;
  addons: Record<Addon, string>;
}

/** Names in the output folder for one architecture (Debian's name for it). */
export function outputNames(arch: string): OutputNames {
  return {
    initramfs: {
      xz: `initramfs.linux_${arch}.cpio.xz`,
      zstd: `initramfs.linux_${arch}.cpio.zst`,
      none: `initramfs.linux_${arch}.cpio`,
    },
    kernel: `linux-${arch}`,
    manifest: `manifest.${arch}.json`,
    addons: {
      modules: `linux-${arch}.modules.cpio.xz`,
      firmware: `linux-${arch}.firmware.cpio.xz`,
      'gpu-firmware': `linux-${arch}.gpu-firmware.cpio.xz`,
      // A folder, as Debian's kernel package lays it out: the bootloader picks the board's file.
      dtbs: `linux-${arch}.dtbs`,
    },
  };
}
