// Boots the built image through the real `b2c run` and collects what a farm would see.

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { expect, inject } from 'vitest';
import { outputNames } from '../../src/image/output-names.ts';
import { LocalRegistry } from '../../src/testbed/registry.ts';
import { FORWARD_ADDRESS } from '../../src/vm/qemu.ts';

export interface BootResult {
  /** `b2c run`'s exit status. */
  exitCode: number;
  /** The serial console. */
  console: string;
  /** What `b2c run` said on stderr. */
  stderr: string;
  /** The console without the kernel's echo of its own command line, which repeats every word of it. */
  output: string;
  /** Seconds from the start of `b2c run` until `text` first showed on the console; undefined if it never did. */
  secondsUntil(text: string): number | undefined;
  /**
   * The guest's own uptime on the first `[UPTIME]: ` line holding `text`:
   * the machine's clock, which a busy host does not blur as it does the
   * console's arrival times.
   */
  uptimeAt(text: string): number | undefined;
}

/** The reference the guest pulls a test image by, from the shared registry or one on `port`. */
export function testImage(name = 'busybox', port = inject('registryPort')): string {
  return `docker://${FORWARD_ADDRESS}:${port}/b2c-test/${name}:1`;
}

/**
 * A registry of the test's own serving the shared registry's images: its log
 * counts this test's requests only, whatever other tests pull meanwhile.
 * Boots reach it with `--forward registry.port`.
 */
export function ownRegistry(): Promise<LocalRegistry> {
  return LocalRegistry.start({ dataDirectory: inject('registryData') });
}

/** A `b2c.container`-style parameter for the test image, pulled over plain HTTP. */
export function step(option: string, command: string, image = testImage()): string {
  return `${option}="--tls-verify=false ${image} ${command}"`;
}

export interface BootOptions {
  disks?: string[];
  timeoutSeconds?: number;
  /** Serve QMP on this socket, to act on the machine while it runs. */
  qmp?: string;
  /** Called with the whole console so far, each time more of it arrives. */
  onConsole?: (consoleText: string) => void;
  /** More `b2c run` options, e.g. `--network tap=b2ctap0` or `--initrd FILE`. */
  runOptions?: string[];
  /** Run QEMU inside this network namespace, where the taps of a test LAN are. */
  namespace?: string;
  /** Whether the machine reaches the shared registry (forwarded unless false). */
  sharedRegistry?: boolean;
  /**
   * The archive booted when runOptions give none: the uncompressed one by
   * default, which the kernel unpacks seconds sooner under emulation; `xz` for
   * the tests that are about the archive farms fetch.
   */
  archive?: 'none' | 'xz';
}

/** The build's archive of an architecture, as global-setup.ts has it built. */
export function builtArchive(arch = 'amd64', compression: 'none' | 'xz' = 'none'): string {
  return join('out', outputNames(arch).initramfs[compression]);
}

/**
 * b2c run's --timeout unless a test gives its own: about three times the
 * longest plain boot here (a pull of the 50 MB image onto a new cache disk,
 * another boot beside it), so that a hung boot costs minutes, not the run.
 */
const DEFAULT_BOOT_TIMEOUT_SECONDS = 180;

export function bootB2c(words: string[], options: BootOptions = {}): Promise<BootResult> {
  const disks = (options.disks ?? []).flatMap((disk) => ['--disk', disk]);
  const qmp = options.qmp === undefined ? [] : ['--qmp', options.qmp];
  const runOptions = options.runOptions ?? [];
  const archAt = runOptions.indexOf('--arch');
  const arch = archAt === -1 ? 'amd64' : (runOptions[archAt + 1] ?? 'amd64');
  const ownArchives = ['--initrd', '--netboot', '--kernel-tree'].some((option) => runOptions.includes(option));
  const initrd = ownArchives ? [] : ['--initrd', builtArchive(arch, options.archive)];
  const args = [
    'bin/b2c.js',
    'run',
    ...(options.sharedRegistry === false ? [] : ['--forward', String(inject('registryPort'))]),
    '--timeout',
    String(options.timeoutSeconds ?? DEFAULT_BOOT_TIMEOUT_SECONDS),
    ...disks,
    ...qmp,
    ...initrd,
    ...runOptions,
    ...words,
  ];
  const [program, ...programArgs] =
    options.namespace === undefined ? [process.execPath, ...args] : ['ip', 'netns', 'exec', options.namespace, process.execPath, ...args];
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(program, programArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
    let consoleText = '';
    let stderr = '';
    // When each stretch of the console arrived: [seconds since start, console length after it].
    const arrivals: Array<[number, number]> = [];
    child.stdout.on('data', (chunk: Buffer) => {
      consoleText += chunk.toString();
      arrivals.push([(Date.now() - started) / 1000, consoleText.length]);
      options.onConsole?.(consoleText);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const output = consoleText
        .split('\n')
        .filter((line) => !/Command line: |Kernel command line: /.test(line))
        .join('\n');
      const secondsUntil = (text: string): number | undefined => {
        const index = consoleText.indexOf(text);
        return index === -1 ? undefined : arrivals.find(([, length]) => length >= index + text.length)?.[0];
      };
      const uptimeAt = (text: string): number | undefined => {
        const line = consoleText.split('\n').find((candidate) => candidate.includes(text) && /^\[[\d.]+\]: /.test(candidate));
        return line === undefined ? undefined : Number(/^\[([\d.]+)\]/.exec(line)?.[1]);
      };
      resolve({ exitCode: code ?? -1, console: consoleText, stderr, output, secondsUntil, uptimeAt });
    });
  });
}

/** The lines between a section's start and end markers. */
export function sectionText(consoleText: string, name: string): string {
  const start = consoleText.indexOf(`section_start:`, consoleText.search(new RegExp(`section_start:\\d+:${name}[\\[\\r]`)));
  const end = consoleText.search(new RegExp(`section_end:\\d+:${name}\\r`));
  return start === -1 || end === -1 ? '' : consoleText.slice(start, end);
}

/**
 * The end every boot must have: no guest kernel crash, the status line once
 * with the expected status, the shutdown notice, and `b2c run` exiting with
 * that status.
 */
export function expectCleanEnd(result: BootResult, status: number, notice: 'poweroff' | 'reboot' = 'poweroff'): void {
  // A boot that went wrong shows where it stood: the console's last lines.
  const tail = `the console ended with:\n${result.console.split('\n').slice(-40).join('\n')}`;
  expect(result.stderr, tail).not.toMatch(/crashed|no pipeline status|stopped without/);
  expect(result.console).not.toMatch(/Kernel panic|Oops/);
  expect(result.console).toMatch(new RegExp(`^\\[[0-9.]+\\]: Execution is over, pipeline status: ${status}\\r?$`, 'm'));
  expect(result.console).toMatch(notice === 'reboot' ? /^Rebooting the computer\r?$/m : /^It's now safe to turn off your computer\r?$/m);
  expect(result.exitCode).toBe(status);
}

/**
 * Runs `b2c ARGS` without blocking the test worker (a build takes minutes, and
 * a worker busy that long loses its link to vitest); stdout and stderr as text.
 */
export function runB2c(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return runNode(['bin/b2c.js', ...args], env);
}

/** Runs a Node program (a script and its arguments) in a process of its own, without blocking the test worker; stdout and stderr as text. */
export function runNode(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
