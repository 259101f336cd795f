// The one small interface through which b2c runs programs, touches files and waits: QuickJS in /init, Node on the host.

import { B2cError } from '../errors.ts';

export interface RunOptions {
  /** Replaces the environment; the implementation's own default otherwise. */
  env?: Record<string, string>;
  /** Added to the environment (the default one, or `env`): a proxy for a pull, the pipeline's variables for the shutdown command. */
  moreEnv?: Record<string, string>;
  cwd?: string;
  /** A file to read as standard input; nothing otherwise. */
  stdinFile?: string;
  /** Collect stdout into the result instead of passing it through. */
  captureStdout?: boolean;
  /** Collect stderr into the result instead of passing it through. */
  captureStderr?: boolean;
}

export interface RunResult {
  /** The exit code, or 128 + the signal number when a signal ended the program. */
  status: number;
  stdout: string;
  stderr: string;
}

/** A program started in the background. */
export interface RunningProgram {
  readonly pid: number;
  /** Its exit status, as `run` gives it, once it has ended. */
  wait(): Promise<number>;
  /** Its exit status if it has ended, without waiting; each ended program must still be waited for once. */
  poll(): number | undefined;
}

export interface StartOptions extends Pick<RunOptions, 'env' | 'moreEnv' | 'cwd'> {
  /** Append its output (stdout and stderr) to this file instead of sending it where ours goes; `/dev/null` drops it. */
  outputFile?: string;
}

/** What `stat` tells of a path; links are not followed. */
export interface FileInfo {
  kind: 'file' | 'directory' | 'link' | 'other';
  /** Permission bits (0o7777). */
  mode: number;
  size: number;
  /** Milliseconds since the epoch. */
  modified: number;
}

export interface System {
  /** Runs argv[0] (looked up in PATH) with the rest as arguments: never through a shell. */
  run(argv: readonly string[], options?: RunOptions): Promise<RunResult>;
  /** Starts a program without waiting for it; its output goes where ours goes. */
  start(argv: readonly string[], options?: StartOptions): Promise<RunningProgram>;
  /** The file's text, or undefined when it cannot be read. */
  readText(path: string): Promise<string | undefined>;
  writeText(path: string, text: string): Promise<void>;
  /** Up to `length` bytes from `offset` (fewer at the end); undefined when the file cannot be read. */
  readBytes(path: string, offset: number, length: number): Promise<Uint8Array | undefined>;
  /** Writes bytes at `offset` of an existing file or block device, without truncating it. */
  writeBytes(path: string, offset: number, data: Uint8Array): Promise<void>;
  exists(path: string): Promise<boolean>;
  /** The path itself (a link is not followed), or undefined when it does not exist. */
  stat(path: string): Promise<FileInfo | undefined>;
  /** Removes a file, a link or an empty directory. */
  remove(path: string): Promise<void>;
  /** Renames within one filesystem, replacing the target. */
  rename(from: string, to: string): Promise<void>;
  /** Makes `path` a symbolic link to `target`, replacing a link already there. */
  symlink(target: string, path: string): Promise<void>;
  /** Names in a directory, sorted; empty when it cannot be read. */
  listDir(path: string): Promise<string[]>;
  /** Creates a directory and its parents; no error when it exists. */
  makeDirectory(path: string): Promise<void>;
  /** Writes to the program's standard output: the console, for /init. */
  write(text: string): void;
  sleep(milliseconds: number): Promise<void>;
  /**
   * Waits until one of the programs (which `start` began) has ended, or
   * `milliseconds` have passed: a loop that polls programs then sees each end
   * when it comes, not up to a whole poll later. Other programs ending do not
   * wake it.
   */
  waitForAny(programs: readonly RunningProgram[], milliseconds: number): Promise<void>;
  /** Wall-clock time, milliseconds since the epoch. */
  now(): number;
}

/** A command under `timeout` (busybox's in the image, coreutils' on a host), killed after `seconds`: its status is then 137. */
export function withTimeout(seconds: number, argv: readonly string[]): string[] {
  return ['timeout', '-s', 'KILL', String(seconds), ...argv];
}

/** The error for a program that ran but did not succeed, with the last lines it said on stderr. */
export function commandFailure(argv: readonly string[], result: RunResult, context?: string): B2cError {
  const detail = result.stderr.trim().split('\n').slice(-5).join('\n');
  return new B2cError(`${context ?? argv.join(' ')} failed with status ${result.status}${detail ? `:\n${detail}` : ''}`);
}

/** Runs a program and throws its `commandFailure` unless it exits 0. */
export async function runChecked(system: System, argv: readonly string[], options?: RunOptions & { context?: string }): Promise<RunResult> {
  const result = await system.run(argv, { captureStderr: true, ...options });
  if (result.status !== 0) throw commandFailure(argv, result, options?.context);
  return result;
}
