// The podman command lines /init runs: what b2c adds around the user's ARGS, and the cleanup.

import type { FilesystemConfig, VolumeConfig } from '../cmdline/config.ts';
import type { ContainerStep } from '../cmdline/container.ts';

/** The flags b2c gives every step before the user's ARGS (COMPAT.md): the user's own flags come after and win. */
const PODMAN_RUN_FLAGS = ['--privileged', '--network=host'];

/**
 * How the run gets its image: `never` once b2c pulled it just before (with
 * retries), so that a step always runs what the registry holds now;
 * `missing` for an image named by its ID, which is in a local store.
 */
export type RunPull = 'missing' | 'never';

function environmentFlags(environment: Record<string, string>): string[] {
  return Object.entries(environment).flatMap(([name, value]) => ['--env', `${name}=${value}`]);
}

export function podmanRunArgs(step: ContainerStep, environment: Record<string, string>, pull: RunPull): string[] {
  return ['podman', 'run', ...PODMAN_RUN_FLAGS, `--pull=${pull}`, ...environmentFlags(environment), ...step.argv];
}

/** A service is created first, so that a failure to pull or create it is known before the pipeline starts. */
export function podmanCreateArgs(step: ContainerStep, name: string, environment: Record<string, string>, pull: RunPull): string[] {
  return ['podman', 'create', '--name', name, ...PODMAN_RUN_FLAGS, `--pull=${pull}`, ...environmentFlags(environment), ...step.argv];
}

/** Runs a created service in the foreground of a background process, its output in a file. */
export function podmanStartArgs(name: string): string[] {
  return ['podman', 'start', '--attach', name];
}

export function podmanStopArgs(name: string): string[] {
  return ['podman', 'stop', '--time', '10', name];
}

/** The name b2c gives the Nth service (counted from 1), so it can stop it by name. */
export function serviceName(index: number): string {
  return `b2c-service-${index + 1}`;
}

/** Where podman's storage is at cleanup time, which decides what is worth removing. */
export interface StorageAtCleanup {
  /** On the cache partition, where containers and dangling images would outlive the boot. */
  onCache: boolean;
  /** A volume backed by a b2c.filesystem is mounted: a container still running would keep it busy. */
  filesystemVolumesMounted: boolean;
}

/** Removes every container, giving a running one `stopSeconds` to stop. */
export function podmanRemoveContainersArgs(stopSeconds: number): string[] {
  return ['podman', 'container', 'rm', '--all', '--force', '--time', String(stopSeconds)];
}

/**
 * The podman commands of the cleanup. Storage on a tmpfs goes with the
 * machine's RAM, and removing it first would only cost a podman start per
 * command (over a second each under emulation), except where a container
 * must let go of a mounted volume.
 */
export function podmanCleanupCommands(storage: StorageAtCleanup): string[][] {
  const commands: string[][] = [];
  if (storage.onCache || storage.filesystemVolumesMounted) commands.push(podmanRemoveContainersArgs(10));
  if (storage.onCache) commands.push(['podman', 'image', 'prune', '--force']);
  return commands;
}

/** How long a cleanup command may take before it is killed: the machine must reach its shutdown whatever podman does. */
export const CLEANUP_COMMAND_SECONDS = 60;

/**
 * After a boot that did not unmount the cache: every layer is read again and
 * compared with the digest it was pulled with (a power cut leaves layers
 * recorded as complete whose files never reached the disk); damaged images go,
 * with the containers made from them, and are pulled again by the steps.
 */
export const PODMAN_STORAGE_CHECK_ARGS = ['podman', 'system', 'check', '--repair', '--force'];

/** Reading every layer of a large cache takes minutes under emulation; the bound keeps the boot's end in sight. */
export const STORAGE_CHECK_SECONDS = 900;

/**
 * Volumes that must not outlive the pipeline carry this label, so that one
 * left by a boot that crashed is found and removed by the next. It is the
 * label upstream boot2container writes and reads, so that a cache disk moves
 * between the two.
 */
const EXPIRATION_LABEL = 'expiration';
/** The label older b2c images wrote: still read, so that their leftovers expire too. */
const OLDER_EXPIRATION_LABEL = 'b2c.expiration';
const EXPIRES_WITH_PIPELINE = 'pipeline_end';

/** Creates a volume; one backed by a b2c.filesystem gets podman's mount options, which podman applies when the volume is mounted. */
export function podmanVolumeCreateArgs(volume: VolumeConfig, filesystem?: FilesystemConfig): string[] {
  return [
    'podman',
    'volume',
    'create',
    ...(volume.expiration === 'pipeline_end' ? ['--label', `${EXPIRATION_LABEL}=${EXPIRES_WITH_PIPELINE}`] : []),
    ...(filesystem === undefined
      ? []
      : [
          ...(filesystem.type !== undefined ? ['--opt', `type=${filesystem.type}`] : []),
          '--opt',
          `device=${filesystem.src}`,
          ...(filesystem.opts.length > 0 ? ['--opt', `o=${filesystem.opts.join(',')}`] : []),
        ]),
    volume.name,
  ];
}

/** Every volume with its expiration label, in one podman call (each takes most of a second under emulation). */
export const PODMAN_VOLUMES_ARGS = [
  'podman',
  'volume',
  'ls',
  '--format',
  `{{.Name}}\t{{index .Labels "${EXPIRATION_LABEL}"}}\t{{index .Labels "${OLDER_EXPIRATION_LABEL}"}}`,
];

/** The volumes `PODMAN_VOLUMES_ARGS` lists, and whether each expires with its pipeline. */
export function parseVolumeList(text: string): Array<{ name: string; expiring: boolean }> {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [name = '', expiration = '', olderExpiration = ''] = line.split('\t');
      return { name: name.trim(), expiring: [expiration, olderExpiration].some((value) => value.trim() === EXPIRES_WITH_PIPELINE) };
    });
}
