// When each volume syncs: the pulls and pushes a pipeline event calls for, as b2c.volume's pull_on and push_on say.

import type { SyncCondition, VolumeConfig } from '../cmdline/config.ts';

export type PipelineEvent = Exclude<SyncCondition, 'changes'>;

export interface SyncAction {
  volume: string;
  direction: 'pull' | 'push';
}

/**
 * The syncs due at an event, in command-line order: pulls first, so that a
 * step starts on fresh inputs, then pushes. A volume pushed on `changes` is
 * pushed once more at pipeline end, so that nothing written late is lost.
 */
export function syncActionsAt(volumes: readonly VolumeConfig[], event: PipelineEvent): SyncAction[] {
  const pulls = volumes.filter((volume) => volume.pullOn.includes(event)).map((volume) => ({ volume: volume.name, direction: 'pull' as const }));
  const pushes = volumes
    .filter((volume) => volume.pushOn.includes(event) || (event === 'pipeline_end' && volume.pushOn.includes('changes')))
    .map((volume) => ({ volume: volume.name, direction: 'push' as const }));
  return [...pulls, ...pushes];
}

/** The volumes pushed continuously while the pipeline's containers run. */
export function continuouslyPushed(volumes: readonly VolumeConfig[]): string[] {
  return volumes.filter((volume) => volume.pushOn.includes('changes')).map((volume) => volume.name);
}

/** Volumes to remove once the pipeline is over (and, left over from an earlier boot, before it starts). */
export function expiringVolumes(volumes: readonly VolumeConfig[]): string[] {
  return volumes.filter((volume) => volume.expiration === 'pipeline_end').map((volume) => volume.name);
}
