// Which parsed options this init does not act on yet, so that the console says so instead of ignoring them silently.

import type { B2cConfig } from '../cmdline/config.ts';

/** The options the line sets that this init leaves alone; each is named once. */
export function optionsNotActedOn(config: B2cConfig): string[] {
  const ignored: string[] = [];
  if (config.minio.length > 0) ignored.push('b2c.minio');
  if (config.volumes.length > 0) ignored.push('b2c.volume');
  // A filesystem serves the cache today; one meant for volumes waits for them.
  const cache = config.cacheDevice;
  if (config.filesystems.some((filesystem) => !(cache.kind === 'filesystem' && cache.name === filesystem.name))) ignored.push('b2c.filesystem');
  return ignored;
}
