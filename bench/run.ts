// `npm run bench`: sizes of the initramfs and boot times against the floor, printed as tables and kept in bench/.

import { cpus, tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { join, resolve } from 'node:path';
import { architecture } from '../src/architectures.ts';
import { megabytes } from '../src/image/manifest.ts';
import { outputNames } from '../src/image/output-names.ts';
import { streamProgress } from '../src/image/progress.ts';
import { acceleratorMemo } from '../src/host-cache.ts';
import { B2C_VERSION } from '../src/cli/version.ts';
import { ADDITIONS, CUTS } from '../src/bench-report/cuts.ts';
import { sizeByComponent, type ManifestFileEntry } from '../src/bench-report/size.ts';
import { bootTimeline, markdownTable, summarize, volumeSyncSeconds, type BootTimeline, type ConsoleArrival } from '../src/bench-report/timeline.ts';
import { busyboxImage, incompressibleBytes } from '../src/testbed/images.ts';
import { LocalRegistry } from '../src/testbed/registry.ts';
import { TEST_ACCESS_KEY, TEST_SECRET_KEY, TestS3 } from '../src/testbed/s3.ts';
import { concatenateArchives } from '../src/vm/initrd.ts';
import { buildFloor } from './floor.ts';
import { archiveSizes, buildBenchImage } from './bench-build.ts';
import { instructionSection, registryImage, type InstructionResults } from './instruction-section.ts';
import { bootMachine, checkHostTools, chooseAccelerator } from '../src/vm/machine.ts';
import { DEFAULT_NIC_MODEL, FORWARD_ADDRESS, type VmSpec } from '../src/vm/qemu.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const INSTRUCTION_RUNS = Number(process.env.BENCH_INSTRUCTION_RUNS ?? 3);
const OUT = resolve('out');
const BENCH_OUT = join(OUT, 'bench');
const arch = architecture('amd64');
const names = outputNames(arch.debian);
const progress = streamProgress(process.stderr, 'bench');

/** The boots with add-ons after the xz image, in the order of the archives concatenated for them. */
const ADDON_VARIANTS: Array<{ name: string; addons: Array<'modules' | 'firmware'> }> = [
  { name: 'b2c, xz + modules add-on', addons: ['modules'] },
  { name: 'b2c, xz + firmware add-on', addons: ['firmware'] },
  { name: 'b2c, xz + both add-ons', addons: ['modules', 'firmware'] },
];

interface Variant {
  name: string;
  initrd: string;
  cmdline: string;
  marker: string;
}

/** A sink for a machine's console that keeps the text and when each piece of it arrived. */
function consoleRecorder(): { stream: Writable; text: () => string; arrivals: ConsoleArrival[]; started: number } {
  let text = '';
  const arrivals: ConsoleArrival[] = [];
  const started = Date.now();
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      text += chunk.toString();
      arrivals.push({ seconds: (Date.now() - started) / 1000, length: text.length });
      callback();
    },
  });
  return { stream, text: () => text, arrivals, started };
}

async function bootRecorded(spec: VmSpec): Promise<ReturnType<typeof consoleRecorder>> {
  const recorder = consoleRecorder();
  const result = await bootMachine(spec, { timeoutSeconds: 300, output: recorder.stream });
  if (result.outcome.kind === 'guest-crash' || result.outcome.kind === 'timeout') {
    throw new Error(`a benchmark boot failed (${result.outcome.kind}):\n${recorder.text().slice(-2000)}`);
  }
  return recorder;
}

async function bootOnce(spec: VmSpec, marker: string): Promise<BootTimeline> {
  const recorder = await bootRecorded(spec);
  return bootTimeline(recorder.text(), recorder.arrivals, (Date.now() - recorder.started) / 1000, marker);
}

/**
 * A volume of 50 MB pulled from the test S3 server at pipeline start, copied
 * by the container, and the copy pushed at pipeline end: the seconds /init
 * reports for each, per boot.
 */
async function volumeSyncs(spec: Omit<VmSpec, 'cmdline'>, image: string): Promise<{ pull: number[]; push: number[] }> {
  const s3 = await TestS3.start(['bench']);
  const times: { pull: number[]; push: number[] } = { pull: [], push: [] };
  try {
    await s3.putObject('bench', 'volume/blob', incompressibleBytes(48 * 1024 * 1024));
    const cmdline = [
      `b2c.minio="bench,http://${FORWARD_ADDRESS}:${s3.port},${TEST_ACCESS_KEY},${TEST_SECRET_KEY}"`,
      // overwrite: each boot's copy is newer than the one the last boot pushed.
      'b2c.volume="data,mirror=bench/bench/volume,pull_on=pipeline_start,push_on=pipeline_end,overwrite"',
      `b2c.container="-v data:/data --tls-verify=false ${image} cp /data/blob /data/copy"`,
    ].join(' ');
    for (let run = 1; run <= RUNS; run++) {
      progress.update(`volume: boot ${run}/${RUNS}`);
      const text = (await bootRecorded({ ...spec, forwards: [...spec.forwards, s3.port], cmdline })).text();
      const pull = volumeSyncSeconds(text, 'pull', 'data');
      const push = volumeSyncSeconds(text, 'push', 'data');
      if (pull === undefined || push === undefined) throw new Error(`the volume was not pulled and pushed:\n${text.slice(-2000)}`);
      times.pull.push(pull);
      times.push.push(push);
    }
  } finally {
    await s3.close();
  }
  return times;
}

/** Whether the trivial pipeline runs to its output and a zero status with this much guest memory. */
async function runsWith(spec: VmSpec, marker: string): Promise<boolean> {
  const recorder = consoleRecorder();
  const result = await bootMachine(spec, { timeoutSeconds: 240, output: recorder.stream });
  return result.outcome.kind === 'status' && result.outcome.status === 0 && recorder.text().includes(marker);
}

/** The smallest memory, in steps of 32 MiB between 128 and 1024, with which the pipeline still runs. */
async function smallestMemory(spec: VmSpec, marker: string): Promise<number | undefined> {
  let failing = 128;
  let working = 1024;
  if (!(await runsWith({ ...spec, memoryMiB: working }, marker))) return undefined;
  while (working - failing > 32) {
    const middle = Math.round((failing + working) / 2 / 32) * 32;
    progress.update(`memory: trying ${middle} MiB`);
    if (await runsWith({ ...spec, memoryMiB: middle }, marker)) working = middle;
    else failing = middle;
  }
  return working;
}

/**
 * The same pull by the host's podman, as a reference: a fresh storage each
 * time, so every layer is downloaded. Undefined without podman. (Only the
 * pull: starting a container on the host needs rlimits that a sandboxed
 * host may refuse.)
 */
function hostPodmanPull(reference: string): number | undefined {
  if (spawnSync('podman', ['--version']).status !== 0) return undefined;
  const root = mkdtempSync(join(tmpdir(), 'b2c-bench-podman-'));
  try {
    const started = Date.now();
    const args = [
      '--root',
      join(root, 'root'),
      '--runroot',
      join(root, 'run'),
      '--cgroup-manager',
      'cgroupfs',
      '--events-backend',
      'file',
      'pull',
      '--tls-verify=false',
      reference,
    ];
    const result = spawnSync('podman', args, { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`podman pull failed: ${result.stderr}`);
    return (Date.now() - started) / 1000;
  } finally {
    // podman's overlay driver leaves its folder mounted on itself.
    spawnSync('umount', ['-R', join(root, 'root', 'overlay')]);
    rmSync(root, { recursive: true, force: true });
  }
}

const seconds = (value: number | undefined): string => (value === undefined ? '–' : value.toFixed(2));

function phaseRange(values: number[]): string {
  const summary = summarize(values);
  return summary ? `${seconds(summary.median)} (${seconds(summary.min)}–${seconds(summary.max)})` : '–';
}

function phaseCell(timelines: BootTimeline[], phase: keyof BootTimeline): string {
  return phaseRange(timelines.map((timeline) => timeline[phase]).filter((value): value is number => value !== undefined));
}

function pullRows(pulls: { cold: BootTimeline[]; warm: BootTimeline[]; host: number[] }): string[][] {
  const host = summarize(pulls.host);
  const row = (name: string, values: number[]): string[] => {
    const summary = summarize(values);
    if (summary === undefined) return [name, '–', '–'];
    return [
      name,
      `${seconds(summary.median)} (${seconds(summary.min)}–${seconds(summary.max)})`,
      host ? `${(summary.median / host.median).toFixed(1)} ×` : '–',
    ];
  };
  const firstSteps = (timelines: BootTimeline[]): number[] =>
    timelines.map((timeline) => timeline.firstStep).filter((value): value is number => value !== undefined);
  return [
    row('b2c, no cache (storage in RAM)', firstSteps(pulls.cold)),
    row('b2c, warm cache disk (layers already there)', firstSteps(pulls.warm)),
    host ? row('podman pull on the host (reference)', pulls.host) : ['podman pull on the host (reference)', 'podman is not installed', '–'],
  ];
}

async function main(): Promise<void> {
  await mkdir(BENCH_OUT, { recursive: true });
  const build = await buildBenchImage(arch, OUT, progress);
  const manifest = JSON.parse(await readFile(build.manifest, 'utf8')) as { files: ManifestFileEntry[] };
  const floor = await buildFloor(BENCH_OUT);

  const addonPath = (addon: 'modules' | 'firmware'): string => {
    const path = build.addons[addon]?.path;
    if (path === undefined) throw new Error(`the build wrote no ${addon} add-on`);
    return path;
  };
  const withAddons: Array<Awaited<ReturnType<typeof concatenateArchives>>> = [];

  const registry = await LocalRegistry.start();
  const results: Record<string, BootTimeline[]> = {};
  let accel: 'kvm' | 'tcg' = 'tcg';
  let minimumMemory: number | undefined;
  const pulls: { cold: BootTimeline[]; warm: BootTimeline[]; host: number[] } = { cold: [], warm: [], host: [] };
  let volumes: { pull: number[]; push: number[] };
  let instructions: InstructionResults;
  try {
    // What a bootloader gives a machine that loads add-ons: the image, then each add-on, one archive after the other.
    for (const { addons } of ADDON_VARIANTS) withAddons.push(await concatenateArchives([build.initramfs.xz as string, ...addons.map(addonPath)]));
    await registry.push('bench/busybox', '1', await busyboxImage('/bin/busybox', arch.debian));
    const step = `b2c.container="--tls-verify=false docker://${FORWARD_ADDRESS}:${registry.port}/bench/busybox:1 sh -c 'echo bench-output-$((6*7))'"`;
    const variants: Variant[] = [
      { name: 'b2c, xz', initrd: build.initramfs.xz as string, cmdline: step, marker: 'bench-output-42' },
      { name: 'b2c, zstd', initrd: build.initramfs.zstd as string, cmdline: step, marker: 'bench-output-42' },
      { name: 'b2c, uncompressed', initrd: build.initramfs.none as string, cmdline: step, marker: 'bench-output-42' },
      { name: 'floor (busybox /init, xz)', initrd: floor, cmdline: '', marker: 'floor-init-42' },
      ...ADDON_VARIANTS.map(({ name }, index) => ({ name, initrd: withAddons[index]?.path as string, cmdline: step, marker: 'bench-output-42' })),
    ];
    const base = {
      arch,
      kernel: join(OUT, names.kernel),
      memoryMiB: 2048,
      cpus: 2,
      accel,
      disks: [],
      forwards: [registry.port],
      forwarder: 'busybox',
      nics: [{ kind: 'user' as const }],
      nicModel: DEFAULT_NIC_MODEL,
      diskBus: 'virtio' as const,
    };
    checkHostTools({ ...base, initrd: build.initramfs.xz as string });
    progress.step(`boots counted in guest instructions, ${INSTRUCTION_RUNS} of each`);
    instructions = await instructionSection({
      base: { ...base, accel: 'tcg' },
      floor,
      build,
      image: registryImage(registry.port, 'bench/busybox:1'),
      runs: INSTRUCTION_RUNS,
      consoleFolder: BENCH_OUT,
      progress,
    });
    accel = await chooseAccelerator('auto', base, acceleratorMemo());
    for (const variant of variants) {
      results[variant.name] = [];
      for (let run = 1; run <= RUNS; run++) {
        progress.update(`${variant.name}: boot ${run}/${RUNS}`);
        results[variant.name]?.push(await bootOnce({ ...base, accel, initrd: variant.initrd, cmdline: variant.cmdline }, variant.marker));
      }
      progress.step(`${variant.name}: ${RUNS} boot${RUNS === 1 ? '' : 's'}, QEMU exit after ${phaseCell(results[variant.name] ?? [], 'exit')} s`);
    }
    progress.step('pulls of a 50 MB image');
    const big = await busyboxImage('/bin/busybox', arch.debian, [
      { path: 'data/', kind: 'dir' },
      { path: 'data/blob', kind: 'file', mode: 0o644, data: incompressibleBytes(48 * 1024 * 1024) },
    ]);
    await registry.push('bench/big', '1', big);
    const pullStep = `b2c.container="--tls-verify=false docker://${FORWARD_ADDRESS}:${registry.port}/bench/big:1 true"`;
    const xz = { ...base, accel, initrd: build.initramfs.xz as string };
    for (let run = 1; run <= RUNS; run++) {
      progress.update(`no cache: boot ${run}/${RUNS}`);
      pulls.cold.push(await bootOnce({ ...xz, cmdline: pullStep }, 'Execution is over'));
    }
    const cacheFolder = await mkdtemp(join(tmpdir(), 'b2c-bench-cache-'));
    try {
      const disk = join(cacheFolder, 'cache.img');
      await writeFile(disk, '');
      await truncate(disk, 1024 * 1024 * 1024);
      progress.update('warm cache: filling it');
      await bootOnce({ ...xz, disks: [disk], cmdline: `b2c.cache_device=auto ${pullStep}` }, 'Execution is over');
      for (let run = 1; run <= RUNS; run++) {
        progress.update(`warm cache: boot ${run}/${RUNS}`);
        pulls.warm.push(await bootOnce({ ...xz, disks: [disk], cmdline: `b2c.cache_device=auto ${pullStep}` }, 'Execution is over'));
      }
    } finally {
      await rm(cacheFolder, { recursive: true, force: true });
    }
    for (let run = 1; run <= RUNS; run++) {
      progress.update(`host podman: pull ${run}/${RUNS}`);
      const taken = hostPodmanPull(`127.0.0.1:${registry.port}/bench/big:1`);
      if (taken === undefined) break;
      pulls.host.push(taken);
    }

    progress.step('a volume of 50 MB pulled from S3 and pushed back');
    volumes = await volumeSyncs(xz, `docker://${FORWARD_ADDRESS}:${registry.port}/bench/busybox:1`);

    progress.step('the smallest guest memory that still runs the pipeline (xz)');
    minimumMemory = await smallestMemory({ ...base, accel, initrd: build.initramfs.xz as string, cmdline: step }, 'bench-output-42');
  } finally {
    await registry.stop();
    for (const archive of withAddons) await archive.remove();
  }

  const sizeRows = archiveSizes(build).map(({ archive, bytes }) => [archive, megabytes(bytes)]);
  const componentRows = sizeByComponent(manifest.files).map(({ component, bytes }) => [
    component,
    bytes < 1e5 ? `${(bytes / 1e3).toFixed(1)} kB` : megabytes(bytes),
    `${((100 * bytes) / build.unpackedBytes).toFixed(1)} %`,
  ]);
  const phases: Array<[keyof BootTimeline, string]> = [
    ['kernelStart', 'kernel start'],
    ['initStart', '/init start'],
    ['firstOutput', 'first output'],
    ['exit', 'QEMU exit'],
    ['initWork', "init's own work"],
    ['modulesStep', 'module step'],
    ['dhcpWait', 'DHCP wait'],
  ];
  const bootRows = Object.entries(results).map(([name, timelines]) => [name, ...phases.map(([phase]) => phaseCell(timelines, phase))]);
  const ours = summarize((results['b2c, xz'] ?? []).map((timeline) => timeline.exit));
  const floorExit = summarize((results['floor (busybox /init, xz)'] ?? []).map((timeline) => timeline.exit));
  const overhead =
    ours && floorExit
      ? `${Math.round((ours.median - floorExit.median) * 1000)} ms above the floor (${(ours.median / floorExit.median).toFixed(2)} × its time to QEMU exit)`
      : 'not measured';
  const emulation = accel === 'kvm' ? 'with KVM' : 'software emulation (TCG, single-threaded)';
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, QEMU ${emulation}`;

  const report = [
    '# b2c benchmark results',
    '',
    `Run on ${new Date().toISOString().slice(0, 10)}, ${machine}; b2c ${B2C_VERSION}, Debian trixie, ${RUNS} boot${RUNS === 1 ? '' : 's'} per row.`,
    '',
    instructions.section.trimEnd(),
    '',
    '## Size',
    '',
    markdownTable(['archive', 'size'], sizeRows),
    '',
    markdownTable(['component (unpacked)', 'size', 'share'], componentRows),
    '',
    '## Boot',
    '',
    'Wall-clock seconds, second to the instruction counts above, from QEMU start, median (min–max). "First output" is the ' +
      "trivial container's line (for the floor, its /init's echo). \"Init's own work\" runs from /init start to the podman exec of the first step, less the " +
      'DHCP wait. "Module step" is the init\'s module section: the boot list, then coldplug matching every device ' +
      "against the image's aliases (and the add-on's), and loading what matched. The add-on rows boot the xz image " +
      'followed by the add-ons, as a bootloader concatenates them.',
    '',
    markdownTable(['initramfs', ...phases.map(([, label]) => label)], bootRows),
    '',
    `Overhead of b2c (xz) to QEMU exit: ${overhead}.`,
    '',
    '## Memory',
    '',
    markdownTable(
      ['measure', 'MiB'],
      [
        ...['b2c, xz', ...ADDON_VARIANTS.map(({ name }) => name)].map((variant) => [
          `RAM in use before the first container (2048 MiB guest, median): ${variant}`,
          String(
            summarize((results[variant] ?? []).map((timeline) => timeline.memoryInUse).filter((value): value is number => value !== undefined))?.median ?? '–',
          ),
        ]),
        ['smallest -m that still runs the pipeline (xz, steps of 32 MiB)', String(minimumMemory ?? 'more than 1024')],
      ],
    ),
    '',
    '## Pull',
    '',
    'Seconds to pull and start an image of 50 MB (one incompressible layer) from the local registry, from the ' +
      'podman run of the first step to its exit (the command does nothing), median (min–max). The guests pull ' +
      'through the user-mode forward under TCG; the host reference is `podman pull` on the host itself (no start), ' +
      'with a fresh storage each time.',
    '',
    markdownTable(['pull', 'seconds', 'against the host'], pullRows(pulls)),
    '',
    '## Volumes',
    '',
    'Seconds /init reports for syncing a volume with an S3 server on the host (s3rver, through the user-mode ' +
      "forward): pulling one incompressible object of 50 MB at pipeline start, and pushing the container's 50 MB " +
      'copy of it at pipeline end, median (min–max).',
    '',
    markdownTable(
      ['sync', 'seconds'],
      [
        ['pull of 50 MB', volumes.pull.length > 0 ? phaseRange(volumes.pull) : '–'],
        ['push of 50 MB', volumes.push.length > 0 ? phaseRange(volumes.push) : '–'],
      ],
    ),
    '',
    '## Cuts',
    '',
    markdownTable(
      ['cut', 'saved'],
      CUTS.map((cut) => [cut.cut, cut.saved]),
    ),
    '',
    'What features added, in the same terms:',
    '',
    markdownTable(
      ['addition', 'cost'],
      ADDITIONS.map((addition) => [addition.cut, addition.saved]),
    ),
    '',
  ].join('\n');
  await writeFile('bench/RESULTS.md', report);
  await writeFile(
    'bench/results.json',
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        machine,
        accel,
        runs: RUNS,
        minimumMemory,
        sizes: { ...build.sizes, unpacked: build.unpackedBytes },
        components: sizeByComponent(manifest.files),
        boots: results,
        instructions: instructions.boots,
        pulls,
        volumes,
      },
      null,
      2,
    )}\n`,
  );
  process.stdout.write(`${report}\n`);
}

await main();
