// fscrypt for volumes on the ext4 cache, through e2fsprogs' e4crypt: the key unlocks the volume's folder, or encrypts it when it is new and empty.

import type { Secret } from '../cmdline/secret.ts';
import { B2C_RUN_DIRECTORY } from '../image-layout.ts';
import type { System } from '../system/system.ts';

/** What `e4crypt add_key DIR` did to the folder, read from what it prints (it exits 0 even when the policy fails). */
export type FscryptOutcome =
  | { kind: 'applied' }
  /** The folder is encrypted with another key. */
  | { kind: 'other-key' }
  /** The folder holds files and no encryption: only an empty folder can be encrypted. */
  | { kind: 'not-empty' }
  | { kind: 'failed'; detail: string };

/** Where the key waits for e4crypt to read it: a tmpfs, removed right after. */
const KEY_FILE = `${B2C_RUN_DIRECTORY}/fscrypt-key`;

export function readAddKeyOutput(stdout: string, status: number): FscryptOutcome {
  if (/applied to /.test(stdout) && status === 0) return { kind: 'applied' };
  const error = /Error \[([^\]]*)\] setting policy/.exec(stdout)?.[1];
  // The kernel refuses another policy on an encrypted folder with EEXIST, and any policy on a non-empty one with ENOTEMPTY.
  if (error === 'File exists') return { kind: 'other-key' };
  if (error === 'Directory not empty') return { kind: 'not-empty' };
  const lines = stdout
    .split('\n')
    .map((line) => line.replace(/^Enter passphrase \(echo disabled\): /, '').trim())
    .filter((line) => line !== '');
  return { kind: 'failed', detail: error ?? (lines.join('; ') || `e4crypt exited with status ${status}`) };
}

/** The filesystem type of the mount that holds `path`, from /proc/mounts (longest matching mount point wins). */
export function filesystemTypeOf(mounts: string, path: string): string | undefined {
  let best: { target: string; type: string } | undefined;
  for (const line of mounts.split('\n')) {
    const [, target, type] = line.split(' ');
    if (target === undefined || type === undefined) continue;
    const within = target === '/' || path === target || path.startsWith(`${target}/`);
    if (within && (best === undefined || target.length >= best.target.length)) best = { target, type };
  }
  return best?.type;
}

/**
 * Adds the key (e4crypt stretches it with the filesystem's salt) to the
 * keyring every process started by /init searches, and applies it to the
 * folder. The key travels in a file on a tmpfs, never in argv.
 */
export async function applyFscryptKey(system: System, directory: string, key: Secret): Promise<FscryptOutcome> {
  await system.makeDirectory(B2C_RUN_DIRECTORY);
  await system.writeText(KEY_FILE, `${key.reveal()}\n`);
  try {
    const result = await system.run(['e4crypt', 'add_key', directory], { stdinFile: KEY_FILE, captureStdout: true, captureStderr: true });
    return readAddKeyOutput(`${result.stdout}\n${result.stderr}`, result.status);
  } finally {
    await system.remove(KEY_FILE);
  }
}
