// The system interface on the host, over Node's child_process and fs.

import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { access, lstat, mkdir, open, readdir, readFile, rename, rmdir, symlink, unlink, writeFile } from 'node:fs/promises';
import { constants } from 'node:os';
import type { RunOptions, RunResult, System } from './system.ts';

/** Waits of waitForAny, each told of every program's end to look at its own. */
const exitWaiters = new Set<() => void>();

export const nodeSystem: System = {
  run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      const [program, ...args] = argv;
      if (program === undefined) throw new TypeError('run needs a program');
      const stdin = options.stdinFile === undefined ? 'ignore' : openSync(options.stdinFile, 'r');
      const child = spawn(program, args, {
        cwd: options.cwd,
        env: { ...(options.env ?? process.env), ...options.moreEnv },
        stdio: [stdin, options.captureStdout ? 'pipe' : 'inherit', options.captureStderr ? 'pipe' : 'inherit'],
      });
      if (typeof stdin === 'number') closeSync(stdin);
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
      child.on('error', reject);
      child.on('close', (code, signal) => {
        const status = code ?? 128 + (signal ? constants.signals[signal] : 0);
        resolve({ status, stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() });
      });
    });
  },
  async start(argv, options = {}) {
    const [program, ...args] = argv;
    if (program === undefined) throw new TypeError('start needs a program');
    const output = options.outputFile === undefined ? 'inherit' : openSync(options.outputFile, 'a');
    const child = spawn(program, args, { cwd: options.cwd, env: { ...(options.env ?? process.env), ...options.moreEnv }, stdio: ['ignore', output, output] });
    if (typeof output === 'number') closeSync(output);
    let status: number | undefined;
    const exited = new Promise<number>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code, signal) => {
        status = code ?? 128 + (signal ? constants.signals[signal] : 0);
        resolve(status);
        for (const wake of [...exitWaiters]) wake();
      });
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', reject);
    });
    return { pid: child.pid as number, wait: () => exited, poll: () => status };
  },
  async readText(path) {
    try {
      return await readFile(path, 'utf8');
    } catch {
      return undefined;
    }
  },
  async writeText(path, text) {
    await writeFile(path, text);
  },
  async readBytes(path, offset, length) {
    try {
      const file = await open(path, 'r');
      try {
        const buffer = Buffer.alloc(length);
        const { bytesRead } = await file.read(buffer, 0, length, offset);
        return new Uint8Array(buffer.subarray(0, bytesRead));
      } finally {
        await file.close();
      }
    } catch {
      return undefined;
    }
  },
  async writeBytes(path, offset, data) {
    const file = await open(path, 'r+');
    try {
      await file.write(data, 0, data.length, offset);
      await file.sync();
    } finally {
      await file.close();
    }
  },
  async exists(path) {
    return access(path).then(
      () => true,
      () => false,
    );
  },
  async stat(path) {
    try {
      const info = await lstat(path);
      const kind = info.isFile() ? 'file' : info.isDirectory() ? 'directory' : info.isSymbolicLink() ? 'link' : 'other';
      return { kind, mode: info.mode & 0o7777, size: info.size, modified: Math.floor(info.mtimeMs) };
    } catch {
      return undefined;
    }
  },
  async remove(path) {
    const info = await lstat(path);
    await (info.isDirectory() ? rmdir(path) : unlink(path));
  },
  async rename(from, to) {
    await rename(from, to);
  },
  async symlink(target, path) {
    if ((await lstat(path).catch(() => undefined))?.isSymbolicLink()) await unlink(path);
    await symlink(target, path);
  },
  async listDir(path) {
    try {
      return (await readdir(path)).sort();
    } catch {
      return [];
    }
  },
  async makeDirectory(path) {
    await mkdir(path, { recursive: true });
  },
  write(text) {
    process.stdout.write(text);
  },
  sleep: (milliseconds) => new Promise((resolve) => setTimeout(resolve, milliseconds)),
  waitForAny: (programs, milliseconds) =>
    new Promise((resolve) => {
      const ended = (): boolean => programs.some((program) => program.poll() !== undefined);
      if (ended()) {
        resolve();
        return;
      }
      const done = (): void => {
        exitWaiters.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const check = (): void => {
        if (ended()) done();
      };
      const timer = setTimeout(done, milliseconds);
      exitWaiters.add(check);
    }),
  now: () => Date.now(),
};
