// Compresses the cpio archive the way the kernel's initramfs decoders want it, deterministically.

import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Architecture } from '../architectures.ts';
import { B2cError } from '../errors.ts';

/** The compressor's command line: single-threaded, so the output does not depend on the machine. */
export function compressorArgs(compression: 'xz' | 'zstd', arch: Architecture): string[] {
  if (compression === 'zstd') return ['zstd', '-19', '--single-thread', '--stdout', '--quiet'];
  // The kernel's xz decoder wants CRC32 checks, not xz's default CRC64. A
  // branch filter for the architecture's executables (which the kernel's
  // decoder has) makes the archive smaller at no cost in decompression. The
  // initramfs decoder allocates the dictionary the stream names, so a 64 MiB
  // one (preset 6 has 8 MiB) finds repeats across programs and libraries; it
  // is only held while the kernel unpacks.
  const lzma2 = '--lzma2=preset=6,dict=64MiB';
  const filters = arch.xzBranchFilter ? [`--${arch.xzBranchFilter}`, lzma2] : [lzma2];
  return ['xz', '--check=crc32', '--threads=1', ...filters, '--stdout'];
}

/** Resolves once the compressor has exited with 0 and every byte it wrote is in `output`. */
export async function compress(input: string, output: string, compression: 'xz' | 'zstd', arch: Architecture): Promise<void> {
  const argv = compressorArgs(compression, arch);
  const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve, reject) => {
    child.on('error', (error) => reject(new B2cError(`cannot run ${argv[0]}: install ${compression === 'xz' ? 'xz-utils' : 'zstd'}`, { cause: error })));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new B2cError(`${argv[0]} failed with status ${code}`))));
  });
  // The child's exit alone does not mean the file stream has flushed what it read from the child.
  const results = await Promise.allSettled([exited, pipeline(createReadStream(input), child.stdin), pipeline(child.stdout, createWriteStream(output))]);
  // The compressor's own failure says most (a missing program, a status); a broken pipe only follows from it.
  const failure = results.find((result) => result.status === 'rejected');
  if (failure !== undefined) throw (results[0].status === 'rejected' ? results[0] : failure).reason;
}
