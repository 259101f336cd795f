// The headline of the benchmark: boots counted in guest instructions (QEMU -icount), which repeat whatever the host's load.

import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { instructionCells, instructionSpread, instructionTimeline, INSTRUCTION_PHASES, type InstructionTimeline } from '../src/bench-report/instructions.ts';
import { markdownTable } from '../src/bench-report/timeline.ts';
import { megabytes } from '../src/image/manifest.ts';
import { archiveSizes, type Build } from './bench-build.ts';
import type { Progress } from '../src/image/progress.ts';
import { bootMachine } from '../src/vm/machine.ts';
import { FORWARD_ADDRESS, type VmSpec } from '../src/vm/qemu.ts';

export interface InstructionInputs {
  /** The machine every boot shares: one vCPU, TCG, the registry's port forwarded. */
  base: Omit<VmSpec, 'initrd' | 'cmdline' | 'disks' | 'cpus' | 'instructionCounting'>;
  floor: string;
  /** The archives booted, and listed with every add-on under the boots. */
  build: Build;
  /** `docker://…` of a busybox image in the local registry. */
  image: string;
  runs: number;
  /** Where each boot's console is kept. */
  consoleFolder: string;
  progress: Progress;
}

export interface InstructionResults {
  section: string;
  boots: Record<string, InstructionTimeline[]>;
}

/** A boot's phases; it must end with status 0, or for the floor (which prints no status) power off. */
async function countedBoot(spec: VmSpec, consolePath: string): Promise<InstructionTimeline> {
  let text = '';
  const output = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      text += chunk.toString();
      callback();
    },
  });
  const result = await bootMachine({ ...spec, instructionCounting: true }, { timeoutSeconds: 400, output });
  await writeFile(consolePath, text);
  const timeline = instructionTimeline(text);
  const { outcome } = result;
  const ended = outcome.kind === 'status' ? outcome.status === 0 : outcome.kind === 'no-status' && timeline.powerOff !== undefined;
  if (!ended) throw new Error(`an instruction-counted boot failed (${JSON.stringify(outcome)}); its console is in ${consolePath}:\n${text.slice(-2000)}`);
  return timeline;
}

export async function instructionSection(inputs: InstructionInputs): Promise<InstructionResults> {
  const { base, image, runs, progress, build } = inputs;
  const initramfs = { xz: build.initramfs.xz as string, zstd: build.initramfs.zstd as string, none: build.initramfs.none as string };
  const none = 'b2c.cache_device=none';
  const step = `b2c.container="--tls-verify=false ${image} sh -c 'echo bench-output-$((6*7))'"`;
  const rows: Array<{ name: string; initrd: string; cmdline: string; cache?: boolean }> = [
    { name: 'floor (busybox /init, xz)', initrd: inputs.floor, cmdline: '' },
    { name: 'b2c, xz, no container', initrd: initramfs.xz, cmdline: none },
    { name: 'b2c, zstd, no container', initrd: initramfs.zstd, cmdline: none },
    { name: 'b2c, uncompressed, no container', initrd: initramfs.none, cmdline: none },
    { name: 'b2c, xz, trivial container, storage in RAM', initrd: initramfs.xz, cmdline: `${none} ${step}` },
    { name: 'b2c, zstd, trivial container, storage in RAM', initrd: initramfs.zstd, cmdline: `${none} ${step}` },
    { name: 'b2c, xz, trivial container, warm cache disk', initrd: initramfs.xz, cmdline: `b2c.cache_device=auto ${step}`, cache: true },
  ];
  const boots: Record<string, InstructionTimeline[]> = {};
  const cacheFolder = await mkdtemp(join(tmpdir(), 'b2c-bench-icount-'));
  try {
    const disk = join(cacheFolder, 'cache.img');
    for (const [index, row] of rows.entries()) {
      const disks = row.cache === true ? [disk] : [];
      const spec: VmSpec = { ...base, cpus: 1, initrd: row.initrd, cmdline: row.cmdline, disks };
      if (row.cache === true) {
        // A first boot formats the disk and pulls the image; the counted ones find both there.
        await writeFile(disk, '');
        await truncate(disk, 1024 * 1024 * 1024);
        progress.update(`${row.name}: warming the cache`);
        await countedBoot(spec, join(inputs.consoleFolder, `icount-${index}-warming.console`));
      }
      boots[row.name] = [];
      for (let run = 1; run <= runs; run++) {
        progress.update(`${row.name}: counted boot ${run}/${runs}`);
        boots[row.name]?.push(await countedBoot(spec, join(inputs.consoleFolder, `icount-${index}-${run}.console`)));
      }
      const cells = instructionCells(boots[row.name] ?? []);
      const end = INSTRUCTION_PHASES.findIndex(({ label }) => label === (row.cmdline === '' ? 'power-off' : 'status line'));
      progress.step(`${row.name}: ${row.cmdline === '' ? 'power-off' : 'status line'} at ${cells[end]} G instructions`);
    }
  } finally {
    await rm(cacheFolder, { recursive: true, force: true });
  }

  const table = markdownTable(
    ['boot', ...INSTRUCTION_PHASES.map(({ label }) => label), `spread over ${runs} boots`],
    rows.map(({ name }) => {
      const timelines = boots[name] ?? [];
      const spread = instructionSpread(timelines);
      return [name, ...instructionCells(timelines), spread === undefined ? '–' : `${spread.toFixed(2)} %`];
    }),
  );
  const floorEnd = (boots[rows[0]?.name ?? ''] ?? []).map((timeline) => timeline.powerOff ?? 0);
  const floorFigure = floorEnd.length > 0 ? Math.min(...floorEnd).toFixed(2) : '–';
  const section = [
    '## Instructions',
    '',
    `Run on ${new Date().toISOString().slice(0, 10)}. G instructions (10⁹) the guest executed, counted by QEMU ` +
      `(\`-icount shift=0,sleep=off,align=off\`, TCG, 1 vCPU, ${base.memoryMiB} MiB, ` +
      `virtio NIC, no disk but the cache's), median of ${runs} boots: the guest's clock advances 1 ns per instruction, so the kernel's ` +
      "and the init's stamps read as counts, the same from run to run whatever else the host runs. Phases are read off the " +
      "console: /init start is the kernel's `Run /init`; a section runs from the first stamp after its start marker to the first " +
      "after its end marker (the init's stamps have two decimals: 0.01 G); the first step runs from its `podman run` line to its exit " +
      `line. The floor (a static busybox /init that powers off, in xz) ends at ${floorFigure} G; its last figure is its power-off.`,
    '',
    table,
    '',
    'Reading G instructions as time on a real machine: a core of 3 to 4 GHz that retires 1 to 2 instructions per cycle runs 1 G ' +
      'in 0.12 to 0.33 s, so the 7 G between xz and zstd are one to two seconds. This is an estimate: the count also holds the ' +
      "guest's idle waits on its clock (a SATA link's probe, a DHCP answer) as 1 ns each, which take the same time on a real machine, " +
      'and a real machine with several cores unpacks the initramfs while its kernel probes devices.',
    '',
    markdownTable(
      ['archive', 'bytes', 'size'],
      archiveSizes(build).map(({ archive, bytes }) => [archive, String(bytes), megabytes(bytes)]),
    ),
    '',
  ].join('\n');
  return { section, boots };
}

/** The local registry's busybox as the guests reach it through the user-mode forward. */
export function registryImage(port: number, repository: string): string {
  return `docker://${FORWARD_ADDRESS}:${port}/${repository}`;
}
