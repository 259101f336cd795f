// The cuts made to reach the size and boot-time targets, each with what it saved when it landed: RESULTS.md lists them.

export interface Cut {
  cut: string;
  saved: string;
}

export const CUTS: Cut[] = [
  {
    cut: "xz's x86 branch filter (`--x86`) before LZMA2 for the amd64 archive; the kernel's decoder has it (CONFIG_XZ_DEC_X86)",
    saved: '0.9 MB of the xz archive (22.41 → 21.51 MB), measured on the same cpio; no time saved: /init started at 17.0 s median against 16.0 s before (5 TCG boots each, spreads 15.9–17.9 and 13.7–19.3)',
  },
];
