// A test server as a child process: started with its output in a log file, ready when it answers, stopped with SIGTERM.

import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { B2cError } from '../errors.ts';

/**
 * Starts `binary` and waits for `ready` to resolve, or for the process to fail
 * first (then the error names what to install, or the log). On failure the
 * process is stopped before the error is thrown.
 */
export async function startServerProcess(
  binary: string,
  args: readonly string[],
  logFile: string,
  options: { install: string; ready: () => Promise<void> },
): Promise<ChildProcess> {
  const logFd = openSync(logFile, 'a');
  const child = spawn(binary, args, { stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  const failed = new Promise<never>((_, reject) => {
    child.on('error', (error) => reject(new B2cError(`cannot start ${binary}: ${options.install}`, { cause: error })));
    child.on('exit', (code) => reject(new B2cError(`${binary} exited with status ${code}:\n${readFileSync(logFile, 'utf8')}`)));
  });
  try {
    await Promise.race([failed, options.ready()]);
  } catch (error) {
    await stopServerProcess(child);
    throw error;
  }
  failed.catch(() => {});
  return child;
}

export async function stopServerProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}
