// `npm run bench:local-images`: a developer's own image of 50 MB and of 500 MB in a VM, through `b2c run --image` and through the path
// people take today (a registry, a push, --forward), first and after one changed layer; and podman run on the host for reference.

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { markdownTable } from '../src/bench-report/timeline.ts';
import { hostCacheDir } from '../src/host-cache.ts';
import { debianBusybox, incompressibleBytes } from '../src/testbed/images.ts';
import { LocalRegistry } from '../src/testbed/registry.ts';
import { writeResultsSection } from './results-file.ts';

const SIZES_MB = [50, 500];
const MARKER = 'first-line-of-the-step';
const folder = mkdtempSync(join(tmpdir(), 'b2c-bench-local-'));

function podman(args: string[]): string {
  return execFileSync('podman', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
}

/** localhost/b2c-bench-NMB:1: busybox, a layer of N MB that do not compress, and a small layer on top that each change replaces. */
function buildImage(megabytes: number, top: string): string {
  const name = `localhost/b2c-bench-${megabytes}mb:1`;
  const context = join(folder, `context-${megabytes}`);
  if (!existsSync(context)) {
    mkdirSync(context, { recursive: true });
    writeFileSync(join(context, 'payload'), incompressibleBytes(megabytes * 1e6, megabytes));
  }
  writeFileSync(join(context, 'top'), top);
  writeFileSync(join(context, 'Containerfile'), 'FROM localhost/b2c-bench-base:1\nCOPY payload /payload\nCOPY top /top\n');
  podman(['build', '--quiet', '--layers', '--tag', name, context]);
  return name;
}

/** Seconds from the command's start to the step's first line, or undefined if it never came. */
function timeToFirstLine(argv: string[]): Promise<{ seconds?: number; stderr: string }> {
  return new Promise((resolvePromise) => {
    const started = Date.now();
    const [program = '', ...args] = argv;
    const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let consoleText = '';
    let stderr = '';
    let seconds: number | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      consoleText += chunk.toString();
      if (seconds === undefined && new RegExp(`^${MARKER}\\r?$`, 'm').test(consoleText)) seconds = (Date.now() - started) / 1000;
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', () => resolvePromise({ ...(seconds === undefined ? {} : { seconds }), stderr }));
  });
}

const b2cRun = (extra: string[], image: string, line: string[] = []): string[] => [
  process.execPath,
  resolve('bin/b2c.js'),
  'run',
  '--initrd',
  'out/initramfs.linux_amd64.cpio',
  '--memory',
  '3072',
  ...extra,
  ...line,
  `b2c.container="${image} echo ${MARKER}"`,
];

async function main(): Promise<void> {
  if (!existsSync('out/initramfs.linux_amd64.cpio')) throw new Error("out/initramfs.linux_amd64.cpio is missing: run 'npx b2c build --compress none' first");
  const rootfs = join(folder, 'rootfs');
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  execFileSync('cp', [await debianBusybox('amd64'), join(rootfs, 'bin/busybox')]);
  for (const applet of ['sh', 'echo']) symlinkSync('busybox', join(rootfs, 'bin', applet));
  execFileSync('tar', ['-C', rootfs, '-cf', join(folder, 'rootfs.tar'), '.']);
  podman(['import', join(folder, 'rootfs.tar'), 'localhost/b2c-bench-base:1']);
  const rows: string[][] = [];
  const cell = (seconds: number | undefined): string => (seconds === undefined ? 'no first line' : seconds.toFixed(1));
  for (const megabytes of SIZES_MB) {
    // b2c run's registry starts empty: the first run moves everything.
    rmSync(join(hostCacheDir(), 'run-images'), { recursive: true, force: true });
    let image = buildImage(megabytes, 'first\n');
    const moved = (stderr: string): string => /--image: \S+: (\d+ layers? moved \([0-9.]+ MB\))/.exec(stderr)?.[1] ?? '?';
    process.stderr.write(`bench: ${megabytes} MB with --image, first run\n`);
    const first = await timeToFirstLine(b2cRun(['--image', image], image));
    rows.push([`${megabytes} MB`, 'b2c run --image', 'first run', cell(first.seconds), moved(first.stderr)]);
    image = buildImage(megabytes, 'second\n');
    process.stderr.write(`bench: ${megabytes} MB with --image, after one changed layer\n`);
    const second = await timeToFirstLine(b2cRun(['--image', image], image));
    rows.push([`${megabytes} MB`, 'b2c run --image', 'one layer changed', cell(second.seconds), moved(second.stderr)]);
    // The goal's reference: the same image already on the guest's cache disk, then one layer changed on top of it.
    const disk = join(folder, `cache-${megabytes}.img`);
    execFileSync('truncate', ['--size', '4G', disk]);
    const cached = ['--image', image, '--disk', disk];
    await timeToFirstLine(b2cRun(cached, image, ['b2c.cache_device=auto']));
    process.stderr.write(`bench: ${megabytes} MB with --image, already on the guest's cache disk\n`);
    const warm = await timeToFirstLine(b2cRun(cached, image, ['b2c.cache_device=auto']));
    rows.push([`${megabytes} MB`, "b2c run --image, the guest's cache disk", 'image already there', cell(warm.seconds), moved(warm.stderr)]);
    image = buildImage(megabytes, 'second-on-disk\n');
    process.stderr.write(`bench: ${megabytes} MB with --image, one layer changed, on the guest's cache disk\n`);
    const changed = await timeToFirstLine(b2cRun(['--image', image, '--disk', disk], image, ['b2c.cache_device=auto']));
    rows.push([`${megabytes} MB`, "b2c run --image, the guest's cache disk", 'one layer changed', cell(changed.seconds), moved(changed.stderr)]);
    rmSync(disk, { force: true });
    // Today's path: a registry of one's own, a push, a forward, and the image named by the forward's address.
    const registry = await LocalRegistry.start();
    try {
      for (const [when, top] of [
        ['first run', 'third\n'],
        ['one layer changed', 'fourth\n'],
      ] as const) {
        image = buildImage(megabytes, top);
        process.stderr.write(`bench: ${megabytes} MB through a registry and a push, ${when}\n`);
        const started = Date.now();
        podman(['push', '--tls-verify=false', image, `docker://127.0.0.1:${registry.port}/bench/image:1`]);
        const pushed = (Date.now() - started) / 1000;
        const booted = await timeToFirstLine(
          b2cRun(['--forward', String(registry.port)], `--tls-verify=false docker://10.0.2.100:${registry.port}/bench/image:1`),
        );
        rows.push([`${megabytes} MB`, 'registry, podman push, --forward', when, cell(booted.seconds === undefined ? undefined : booted.seconds + pushed), '–']);
      }
    } finally {
      await registry.stop();
    }
    const hostStarted = Date.now();
    try {
      podman(['run', '--rm', image, 'echo', MARKER]);
      rows.push([`${megabytes} MB`, 'podman run on the host', 'image in the store', cell((Date.now() - hostStarted) / 1000), '–']);
    } catch (error) {
      // A host whose own limits crun may not set (a sandbox) runs no container: said in the table rather than guessed.
      const why = (error as { stderr?: string }).stderr?.trim().split('\n').at(-1) ?? String(error);
      rows.push([`${megabytes} MB`, 'podman run on the host', 'image in the store', `did not run here: ${why}`, '–']);
    }
    podman(['rmi', '--force', `localhost/b2c-bench-${megabytes}mb:1`]);
    podman(['image', 'prune', '--force']);
  }
  podman(['rmi', '--force', 'localhost/b2c-bench-base:1']);
  const section = [
    '## Local images',
    '',
    `Run on ${new Date().toISOString().slice(0, 10)}: a developer's image (busybox, a layer of 50 or 500 MB that do not compress, and a small`,
    "layer on top) from the host's podman storage into a VM, 3 GiB and 2 vCPUs under TCG on this host's " + `${cpus().length} cores, its storage in RAM.`,
    "Seconds from the command to the step's first line. `b2c run --image`: b2c run's own registry, empty before the first run; after a",
    "change of the top layer, the next run moves that layer only (the moved column is b2c run's own count). Today's path: a registry",
    'started by hand, `podman push`, `--forward` and the image named at 10.0.2.100, the push counted in. The guest pulls the whole image',
    'each time in both when its storage is in RAM; with a cache disk (b2c.cache_device=auto on a blank 4 GB disk, filled by an uncounted',
    'run first), it pulls only the layer that changed.',
    '',
    markdownTable(['image', 'path', 'run', 'seconds to the first line', 'moved'], rows),
    '',
  ].join('\n');
  await writeResultsSection(section);
  rmSync(folder, { recursive: true, force: true });
}

await main();
