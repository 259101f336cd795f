// Which parsed options this init does not act on yet, so that the console says so instead of ignoring them silently.

import type { B2cConfig } from '../cmdline/config.ts';

/** The options the line sets that this init leaves alone; each is named once. */
export function optionsNotActedOn(config: B2cConfig): string[] {
  const ignored: string[] = [];
  for (const volume of config.volumes) {
    if (volume.encryptKey !== undefined) ignored.push(`b2c.volume=${volume.name}: encrypt_key`);
  }
  return ignored;
}
