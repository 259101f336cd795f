// The names `b2c build` gives its output files: what farms fetch, and what `b2c run` and the benchmark boot.

export type Compression = 'xz' | 'zstd' | 'none';

export interface OutputNames {
  initramfs: Record<Compression, string>;
  kernel: string;
  manifest: string;
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
  };
}
