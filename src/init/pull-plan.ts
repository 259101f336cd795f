// How a step's image is pulled before the step runs: the podman pull command, which failures another try can mend, and the pace of the tries.

import { isImageId, stepOptions, type ContainerStep } from '../cmdline/container.ts';

/** As upstream boot2container: five tries in all. */
export const PULL_TRIES = 5;

/** Seconds to wait after the Nth failed try: 1, 2, 4, 8. */
export function pullDelaySeconds(failedTries: number): number {
  return 2 ** (failedTries - 1);
}

/**
 * A try in which podman moves less than PULL_STALL_BYTES in this long is
 * stopped and counts as a failed try: a registry that accepted the connection
 * and then went silent would otherwise hold the machine until the farm's own
 * timeout. A slow link passes: 1 KB/s is fifteen times the floor.
 */
export const PULL_STALL_SECONDS = 60;
/** Idle, podman's runtime still reads and writes a few bytes a second (its wake-up events): silence is less than this. */
export const PULL_STALL_BYTES = 4096;

/** The reason a stopped try gives, for the console and for the next try's decision. */
export const PULL_STALL_REASON = `podman moved less than ${PULL_STALL_BYTES / 1024} KiB in ${PULL_STALL_SECONDS} s: the registry stopped answering`;

/**
 * The bytes a process has read and written through any file or socket, from
 * its `/proc/PID/io`: the count that shows a pull is still moving, whether
 * downloading or unpacking. Undefined when the text has no counts.
 */
export function ioBytes(procIo: string): number | undefined {
  const read = /^rchar:\s*(\d+)$/m.exec(procIo)?.[1];
  const written = /^wchar:\s*(\d+)$/m.exec(procIo)?.[1];
  return read === undefined || written === undefined ? undefined : Number(read) + Number(written);
}

/** The `podman run` options that say how to pull, which the pull must get too. */
const PULL_OPTIONS = new Set(['tls-verify', 'creds', 'authfile', 'cert-dir', 'platform', 'arch', 'os', 'variant', 'decryption-key']);

/** `podman pull` for the step's image with its pull options; undefined when the step names a local image by its ID. */
export function podmanPullArgs(step: ContainerStep): string[] | undefined {
  if (isImageId(step.image)) return undefined;
  const options = stepOptions(step).filter((option) => PULL_OPTIONS.has((option[0] as string).replace(/^--/, '').split('=')[0] as string));
  return ['podman', 'pull', ...options.flat(), step.image];
}

export interface PullFailure {
  /** `transient`: another try may work; `permanent`: the registry's answer will not change; `no-space`: room must be made first. */
  kind: 'transient' | 'permanent' | 'no-space';
  /** What podman said, in one line. */
  reason: string;
}

// What the registry, or the machine, says for good: the image or the right to it is not there, or the reference is wrong.
const PERMANENT = new RegExp(
  [
    'manifest unknown',
    'name unknown',
    'not found',
    'unauthorized',
    'denied',
    'authentication required',
    'invalid reference format',
    'short-name',
    'unexpected http status: 4\\d\\d',
    'x509',
    'certificate',
    // The machine's own storage failing (a cache disk gone or turned read-only by its errors): no other try mends it.
    'input/output error',
    'read-only file system',
  ].join('|'),
  'i',
);

/** Reads podman pull's complaint: its last `Error:` line, and whether trying again can help. */
export function classifyPullFailure(stderr: string): PullFailure {
  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const reason = ([...lines].reverse().find((line) => line.startsWith('Error:')) ?? lines.at(-1) ?? 'no message').replace(/^Error: /, '');
  if (/no space left on device/i.test(stderr)) return { kind: 'no-space', reason };
  return { kind: PERMANENT.test(reason) ? 'permanent' : 'transient', reason };
}
