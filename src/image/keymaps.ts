// Console keymaps for b2c.keymap: Debian's console-data maps compiled at build time into busybox loadkmap's binary format.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { DebianTools } from '../debian/tools.ts';
import { B2cError } from '../errors.ts';

/**
 * The keymaps an image ships, by the name b2c.keymap takes, and their
 * source under console-data's usr/share/keymaps. Another one is a line here.
 */
export const KEYMAPS: Record<string, string> = {
  us: 'i386/qwerty/us.kmap.gz',
  uk: 'i386/qwerty/uk.kmap.gz',
  de: 'i386/qwertz/de.kmap.gz',
  fr: 'i386/azerty/fr.kmap.gz',
  es: 'i386/qwerty/es.kmap.gz',
  it: 'i386/qwerty/it.kmap.gz',
};

/** The packages `compileKeymaps` takes its compiler and maps from. */
export const KEYMAP_PACKAGES = ['kbd', 'console-data'];

/** Compiles every keymap with kbd's `loadkeys --bkeymap`, which writes the binary map and touches no console. */
export function compileKeymaps(tools: DebianTools): Map<string, Uint8Array> {
  const maps = join(tools.root('console-data'), 'usr/share/keymaps');
  const compiled = new Map<string, Uint8Array>();
  for (const [name, source] of Object.entries(KEYMAPS)) {
    const [program, ...args] = tools.command('kbd', 'usr/bin/loadkeys', ['--bkeymap', '--quiet', join(maps, source)]);
    const result = spawnSync(program as string, args, { maxBuffer: 1 << 20 });
    // A binary keymap starts with this magic; anything else is not one, whatever the status says.
    if (result.status !== 0 || result.stdout.subarray(0, 7).toString() !== 'bkeymap') {
      throw new B2cError(
        `cannot compile the keymap ${name} from ${source}: ${result.stderr?.toString().trim() || result.error?.message || `status ${result.status}`}`,
      );
    }
    compiled.set(name, new Uint8Array(result.stdout));
  }
  return compiled;
}
