// `npm run bench:instructions`: only the benchmark's headline, boots counted in guest instructions, put into bench/RESULTS.md.

import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { architecture } from '../src/architectures.ts';
import { replaceSection } from '../src/bench-report/report.ts';
import { outputNames } from '../src/image/output-names.ts';
import { streamProgress } from '../src/image/progress.ts';
import { busyboxImage } from '../src/testbed/images.ts';
import { LocalRegistry } from '../src/testbed/registry.ts';
import { checkHostTools } from '../src/vm/machine.ts';
import { DEFAULT_NIC_MODEL } from '../src/vm/qemu.ts';
import { buildBenchImage } from './bench-build.ts';
import { buildFloor } from './floor.ts';
import { instructionSection, registryImage } from './instruction-section.ts';

const OUT = resolve('out');
const BENCH_OUT = join(OUT, 'bench');
const arch = architecture('amd64');
const progress = streamProgress(process.stderr, 'bench');

async function main(): Promise<void> {
  await mkdir(BENCH_OUT, { recursive: true });
  const build = await buildBenchImage(arch, OUT, progress);
  const floor = await buildFloor(BENCH_OUT);
  const registry = await LocalRegistry.start();
  try {
    await registry.push('bench/busybox', '1', await busyboxImage('/bin/busybox', arch.debian));
    const base = {
      arch,
      kernel: join(OUT, outputNames(arch.debian).kernel),
      memoryMiB: 2048,
      accel: 'tcg' as const,
      forwards: [registry.port],
      forwarder: 'busybox',
      nics: [{ kind: 'user' as const }],
      nicModel: DEFAULT_NIC_MODEL,
      diskBus: 'virtio' as const,
    };
    checkHostTools({ ...base, disks: [], initrd: build.initramfs.xz as string });
    const { section } = await instructionSection({
      base,
      floor,
      build,
      image: registryImage(registry.port, 'bench/busybox:1'),
      runs: Number(process.env.BENCH_INSTRUCTION_RUNS ?? 3),
      consoleFolder: BENCH_OUT,
      progress,
    });
    const path = 'bench/RESULTS.md';
    const report = existsSync(path) ? await readFile(path, 'utf8') : '# b2c benchmark results\n';
    await writeFile(path, replaceSection(report, section, true));
    process.stdout.write(`${section}\n`);
  } finally {
    await registry.stop();
  }
}

await main();
