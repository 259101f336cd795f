// The podman command lines /init runs: what b2c adds around the user's ARGS, and the cleanup.

import type { ContainerStep } from '../cmdline/container.ts';

/** The flags b2c gives every step before the user's ARGS (COMPAT.md): the user's own flags come after and win. */
export const PODMAN_RUN_FLAGS = ['--privileged', '--network=host', '--pull=always'];

export function podmanRunArgs(step: ContainerStep, environment: Record<string, string>): string[] {
  const env = Object.entries(environment).flatMap(([name, value]) => ['--env', `${name}=${value}`]);
  return ['podman', 'run', ...PODMAN_RUN_FLAGS, ...env, ...step.argv];
}

export const PODMAN_CLEANUP_COMMANDS: string[][] = [
  ['podman', 'container', 'rm', '--all', '--force', '--time', '10'],
  ['podman', 'image', 'prune', '--force'],
];
