// The host cache: where b2c keeps package lists, downloads and extracted packages between runs, and the lock that lets several b2c processes share it.

import { mkdir, mkdtemp } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { lock } from 'proper-lockfile';

/** The host cache's folder: `$XDG_CACHE_HOME/b2c`, else `~/.cache/b2c`. */
export function hostCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'b2c');
}

/** Where `b2c run` remembers whether KVM is worth using on this host, until it reboots. */
export function acceleratorMemo(): string {
  return join(hostCacheDir(), 'accelerator-memo.json');
}

/** A scratch folder of this process's own under the host cache's `work/`, which no other b2c process writes into. */
export async function privateWorkDir(cacheDir: string, purpose: string): Promise<string> {
  const work = join(cacheDir, 'work');
  await mkdir(work, { recursive: true });
  return mkdtemp(join(work, `${purpose}-`));
}

/**
 * Runs `body` while holding the lock of `path` (a file or folder, which need
 * not exist): other b2c processes wait for it. A lock whose holder died is
 * taken over once it is 30 s old. `onWait` is called once, when the lock is
 * held by another process, so that the wait can be said.
 */
export async function withLock<T>(path: string, body: () => Promise<T>, onWait: () => void = () => undefined): Promise<T> {
  const options = {
    realpath: false,
    lockfilePath: `${path}.lock`,
    stale: 30_000,
    update: 10_000,
    // A lock whose refresh came late (a busy host, a suspend) may have been taken over: the work goes on rather than the process dying.
    onCompromised: (error: Error) => process.stderr.write(`b2c: the lock of ${path} was taken over by another process (${error.message}); going on\n`),
  };
  await mkdir(join(path, '..'), { recursive: true });
  let release: () => Promise<void>;
  try {
    release = await lock(path, options);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
    onWait();
    release = await lock(path, { ...options, retries: { forever: true, minTimeout: 200, maxTimeout: 1000, factor: 1.5 } });
  }
  try {
    return await body();
  } finally {
    await release();
  }
}
