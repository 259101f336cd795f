// Boots one VM: checks the host tools, picks the accelerator, streams the console and decides how the run ended.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { machine } from 'node:os';
import { dirname } from 'node:path';
import type { Writable } from 'node:stream';
import { ConsoleMonitor } from './console-monitor.ts';
import { decideOutcome, type RunOutcome } from './outcome.ts';
import { qemuArgs, qemuProgram, SERIAL_CONSOLE_ONLY, type Accelerator, type VmSpec } from './qemu.ts';
import { B2cError } from '../errors.ts';

export class HostToolError extends B2cError {}

export interface MachineResult {
  outcome: RunOutcome;
  /** Everything the console printed. */
  console: string;
  qemuExit: number | null;
  timedOut: boolean;
  /** Seconds from QEMU's start to its exit. */
  seconds: number;
}

function onPath(program: string): boolean {
  if (program.includes('/')) return existsSync(program);
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', program], { stdio: 'ignore' }).status === 0;
}

/** Names each missing host tool with the Debian package that provides it. */
export function checkHostTools(
  spec: Pick<VmSpec, 'arch' | 'forwarder' | 'forwards' | 'kernel' | 'initrd' | 'disks' | 'board' | 'qemuCommand' | 'netboot'>,
): void {
  const problems: string[] = [];
  // A board of trixie's QEMU brings its own, fetched into the host cache.
  const hostQemu = spec.qemuCommand === undefined && spec.board?.board.trixieQemu === undefined;
  if (hostQemu && !onPath(spec.arch.qemu.binary)) problems.push(`${spec.arch.qemu.binary} is missing: apt-get install ${spec.arch.qemu.package}`);
  if (spec.forwards.length > 0) {
    const hasNc = onPath(spec.forwarder) && spawnSync(spec.forwarder, ['nc', '--help'], { stdio: 'ignore' }).status !== 127;
    if (!hasNc) problems.push(`${spec.forwarder} (with its nc applet) is missing, and --forward needs it: apt-get install busybox-static`);
  }
  // A machine that netboots gets its kernel and initramfs from the server.
  const bootFiles =
    spec.netboot !== undefined
      ? []
      : ([
          ['kernel', spec.kernel],
          ['initramfs', spec.initrd],
        ] as const);
  for (const [what, path] of bootFiles) {
    if (!existsSync(path)) problems.push(`the ${what} ${path} does not exist: run 'npx b2c build' first, or give --${what === 'kernel' ? 'kernel' : 'initrd'}`);
  }
  for (const disk of spec.disks) if (!existsSync(disk)) problems.push(`the disk ${disk} does not exist`);
  if (spec.board !== undefined && !existsSync(spec.board.dtb)) {
    problems.push(`the device tree ${spec.board.dtb} does not exist: run 'npx b2c build --arch ${spec.arch.debian} --addons dtbs' first, or give --dtb`);
  }
  if (problems.length > 0) throw new HostToolError(problems.join('\n'));
}

/**
 * KVM only when it is usable and quick: on some hosts /dev/kvm exists but is
 * nested and so slow that software emulation wins. The probe boots the kernel
 * with no initramfs, which panics at once on a working KVM; the answer is kept
 * for the host's current boot.
 */
export async function chooseAccelerator(requested: 'auto' | Accelerator, spec: Pick<VmSpec, 'arch' | 'kernel'>, memoFile: string): Promise<Accelerator> {
  // KVM runs guests of the host's own architecture only; the others are emulated.
  const native = spec.arch.machine === machine();
  if (requested === 'kvm' && !native) throw new HostToolError(`KVM cannot run ${spec.arch.debian} guests on this ${machine()} host: use --accel tcg`);
  if (requested !== 'auto') return requested;
  if (!native || !existsSync('/dev/kvm')) return 'tcg';
  const bootId = (await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => '')).trim();
  try {
    const remembered = JSON.parse(await readFile(memoFile, 'utf8')) as { bootId: string; accel: Accelerator };
    if (remembered.bootId === bootId) return remembered.accel;
  } catch {
    // no answer kept yet
  }
  const probe = spawnSync(
    spec.arch.qemu.binary,
    [
      ...spec.arch.qemu.machine,
      '-accel',
      'kvm',
      '-m',
      '256',
      ...SERIAL_CONSOLE_ONLY,
      '-kernel',
      spec.kernel,
      '-append',
      `console=${spec.arch.console} panic=-1`,
    ],
    { timeout: 6000, stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const accel: Accelerator = probe.status === 0 && probe.stdout.toString().includes('Kernel panic') ? 'kvm' : 'tcg';
  await mkdir(dirname(memoFile), { recursive: true });
  // Renamed into place: another b2c run reading the memo at the same time never sees half of it.
  const partial = `${memoFile}.${process.pid}.partial`;
  await writeFile(partial, JSON.stringify({ bootId, accel }));
  await rename(partial, memoFile);
  return accel;
}

/** How long a crashed guest keeps running for the rest of its trace to reach the console. */
const CRASH_TRACE_MS = 5000;

/** Boots the VM and streams its console to `output` until QEMU exits, the timeout stops it, or a crash ends it. */
export function bootMachine(spec: VmSpec, options: { timeoutSeconds: number; output?: Writable }): Promise<MachineResult> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const [program = spec.arch.qemu.binary, ...programArgs] = qemuProgram(spec);
    // Through its own loader, the program is ld.so: the QEMU it runs is the last word of the command.
    const qemuName = [program, ...programArgs].at(-1) as string;
    const child = spawn(program, [...programArgs, ...qemuArgs(spec)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const monitor = new ConsoleMonitor();
    let consoleText = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutSeconds * 1000);
    // A kernel that oopsed or locked up but did not panic would hold the run until its timeout: it ends once the trace is out.
    let crashTimer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      consoleText += text;
      monitor.feed(text);
      options.output?.write(chunk);
      if (monitor.crashed && crashTimer === undefined) crashTimer = setTimeout(() => child.kill('SIGKILL'), CRASH_TRACE_MS);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new HostToolError(`cannot start ${qemuName}: ${error.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      clearTimeout(crashTimer);
      const verdict = monitor.end();
      if (!timedOut && code !== 0 && verdict.status === undefined && verdict.crash === undefined && stderr.trim() !== '') {
        reject(new HostToolError(`${qemuName} failed with status ${code}:\n${stderr.trim()}`));
        return;
      }
      resolve({
        outcome: decideOutcome(verdict, { timedOut, timeoutSeconds: options.timeoutSeconds, qemuExit: code }),
        console: consoleText,
        qemuExit: code,
        timedOut,
        seconds: (Date.now() - started) / 1000,
      });
    });
  });
}
