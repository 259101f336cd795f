// The system interface inside the initramfs, over QuickJS's 'std' and 'os', for a process that is PID 1.

import * as os from 'os';
import * as std from 'std';
import { B2cError } from '../errors.ts';
import type { RunOptions, RunResult, System } from './system.ts';

/** The environment every program started by /init gets, unless a call gives its own. */
export const BASE_ENVIRONMENT: Record<string, string> = {
  PATH: '/usr/bin:/usr/sbin:/bin:/sbin',
  HOME: '/root',
  TERM: 'linux',
};

/**
 * PID 1 inherits every orphan, so it must reap them all; this is the one
 * place that does, keeping each exit status by pid so that code waiting for
 * its own child never loses that status to the reaper.
 */
const exitStatuses = new Map<number, number>();

function decodeWaitStatus(raw: number): number {
  const signal = raw & 0x7f;
  return signal === 0 ? (raw >> 8) & 0xff : 128 + signal;
}

/** Waits of waitForAny: each is woken by the end of one of its programs. */
const exitWaiters = new Set<{ pids: readonly number[]; wake: () => void }>();

function anyEnded(pids: readonly number[]): boolean {
  return pids.some((pid) => exitStatuses.has(pid));
}

/** Reaps every child that has ended, without waiting. */
function reapChildren(): void {
  for (;;) {
    const [pid, raw] = os.waitpid(-1, os.WNOHANG);
    if (pid <= 0) return;
    exitStatuses.set(pid, decodeWaitStatus(raw));
  }
}

/**
 * The SIGCHLD handler, which QuickJS runs from its event loop: reaps, and
 * wakes the waits whose programs ended (a child a blocking wait reaped first
 * still has its status kept, and its signal still comes).
 */
export function onChildExit(): void {
  reapChildren();
  for (const waiter of [...exitWaiters]) if (anyEnded(waiter.pids)) waiter.wake();
}

function waitFor(pid: number): number {
  for (;;) {
    const known = exitStatuses.get(pid);
    if (known !== undefined) {
      exitStatuses.delete(pid);
      return known;
    }
    const [ended, raw] = os.waitpid(-1, 0);
    if (ended < 0) throw new B2cError(`waiting for process ${pid}: ${std.strerror(-ended)}`);
    exitStatuses.set(ended, decodeWaitStatus(raw));
  }
}

function readAll(fd: number): string {
  const file = std.fdopen(fd, 'r');
  if (file === null) throw new B2cError('cannot read from a pipe');
  const text = file.readAsString();
  file.close();
  return text;
}

function readText(path: string): string | undefined {
  // std.loadFile returns '' for /proc files, whose size is 0: read them as a stream.
  const file = std.open(path, 'r');
  if (file === null) return undefined;
  const text = file.readAsString();
  file.close();
  return text;
}

export const quickjsSystem: System = {
  async run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const stdoutPipe = options.captureStdout ? os.pipe() : null;
    const stderrPipe = options.captureStderr ? os.pipe() : null;
    const stdin = options.stdinFile === undefined ? -1 : os.open(options.stdinFile, os.O_RDONLY);
    if (options.stdinFile !== undefined && stdin < 0) throw new B2cError(`cannot read ${options.stdinFile}: ${std.strerror(-stdin)}`);
    const pid = os.exec([...argv], {
      block: false,
      usePath: true,
      env: { ...(options.env ?? BASE_ENVIRONMENT), ...options.moreEnv },
      cwd: options.cwd,
      ...(stdoutPipe ? { stdout: stdoutPipe[1] } : {}),
      ...(stderrPipe ? { stderr: stderrPipe[1] } : {}),
      ...(stdin >= 0 ? { stdin } : {}),
    });
    if (stdin >= 0) os.close(stdin);
    if (stdoutPipe) os.close(stdoutPipe[1]);
    if (stderrPipe) os.close(stderrPipe[1]);
    if (pid < 0) throw new B2cError(`cannot start ${argv[0]}: ${std.strerror(-pid)}`);
    // Drain stdout before stderr: a program that fills the stderr pipe meanwhile would block, so keep stderr small.
    const stdout = stdoutPipe ? readAll(stdoutPipe[0]) : '';
    const stderr = stderrPipe ? readAll(stderrPipe[0]) : '';
    return { status: waitFor(pid), stdout, stderr };
  },
  async start(argv, options = {}) {
    const output = options.outputFile === undefined ? -1 : os.open(options.outputFile, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644);
    if (options.outputFile !== undefined && output < 0) throw new B2cError(`cannot write ${options.outputFile}: ${std.strerror(-output)}`);
    const pid = os.exec([...argv], {
      block: false,
      usePath: true,
      env: { ...(options.env ?? BASE_ENVIRONMENT), ...options.moreEnv },
      cwd: options.cwd,
      ...(output >= 0 ? { stdout: output, stderr: output } : {}),
    });
    if (output >= 0) os.close(output);
    if (pid < 0) throw new B2cError(`cannot start ${argv[0]}: ${std.strerror(-pid)}`);
    return {
      pid,
      wait: async () => waitFor(pid),
      poll: () => {
        reapChildren();
        return exitStatuses.get(pid);
      },
    };
  },
  async readText(path) {
    return readText(path);
  },
  async writeText(path, text) {
    const file = std.open(path, 'w');
    if (file === null) throw new B2cError(`cannot write ${path}`);
    file.puts(text);
    if (file.close() !== 0) throw new B2cError(`cannot write ${path}`);
  },
  async readBytes(path, offset, length) {
    const file = std.open(path, 'rb');
    if (file === null) return undefined;
    try {
      if (file.seek(offset, std.SEEK_SET) !== 0) return undefined;
      const buffer = new ArrayBuffer(length);
      const read = file.read(buffer, 0, length);
      return new Uint8Array(buffer, 0, read);
    } finally {
      file.close();
    }
  },
  async writeBytes(path, offset, data) {
    const file = std.open(path, 'r+b');
    if (file === null) throw new B2cError(`cannot open ${path} for writing`);
    try {
      if (file.seek(offset, std.SEEK_SET) !== 0) throw new B2cError(`cannot seek to ${offset} in ${path}`);
      const copy = data.slice().buffer;
      if (file.write(copy, 0, data.length) !== data.length) throw new B2cError(`cannot write ${data.length} bytes to ${path}`);
      file.flush();
    } catch (error) {
      file.close();
      throw error;
    }
    if (file.close() !== 0) throw new B2cError(`cannot write ${path}`);
  },
  async exists(path) {
    return os.stat(path)[1] === 0;
  },
  async stat(path) {
    const [info, error] = os.lstat(path);
    if (error !== 0) return undefined;
    const type = info.mode & os.S_IFMT;
    const kind = type === os.S_IFREG ? 'file' : type === os.S_IFDIR ? 'directory' : type === os.S_IFLNK ? 'link' : 'other';
    return { kind, mode: info.mode & 0o7777, size: info.size, modified: info.mtime };
  },
  async remove(path) {
    const error = os.remove(path);
    if (error !== 0) throw new B2cError(`cannot remove ${path}: ${std.strerror(-error)}`);
  },
  async rename(from, to) {
    const error = os.rename(from, to);
    if (error !== 0) throw new B2cError(`cannot rename ${from} to ${to}: ${std.strerror(-error)}`);
  },
  async symlink(target, path) {
    const [info, missing] = os.lstat(path);
    if (missing === 0 && (info.mode & os.S_IFMT) === os.S_IFLNK) os.remove(path);
    const error = os.symlink(target, path);
    if (error !== 0) throw new B2cError(`cannot link ${path} to ${target}: ${std.strerror(-error)}`);
  },
  async listDir(path) {
    const [names, error] = os.readdir(path);
    if (error !== 0) return [];
    return names.filter((name) => name !== '.' && name !== '..').sort();
  },
  async makeDirectory(path) {
    let prefix = '';
    for (const part of path.split('/').filter((segment) => segment !== '')) {
      prefix += `/${part}`;
      const [info, error] = os.stat(prefix);
      if (error === 0 && (info.mode & os.S_IFMT) === os.S_IFDIR) continue;
      const made = os.mkdir(prefix, 0o755);
      if (made !== 0) throw new B2cError(`cannot create ${prefix}: ${std.strerror(-made)}`);
    }
  },
  write(text) {
    std.out.puts(text);
    std.out.flush();
  },
  sleep(milliseconds) {
    return os.sleepAsync(milliseconds);
  },
  waitForAny(programs, milliseconds) {
    const pids = programs.map((program) => program.pid);
    reapChildren();
    if (anyEnded(pids)) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const waiter = {
        pids,
        wake: (): void => {
          exitWaiters.delete(waiter);
          os.clearTimeout(timer);
          resolve();
        },
      };
      // A SIGCHLD that comes between QuickJS's look at its signals and its select() is seen only when the timer ends it.
      const timer = os.setTimeout(waiter.wake, milliseconds);
      exitWaiters.add(waiter);
    });
  },
  now: () => Date.now(),
};
