// Loads the console keymap b2c.keymap names, from the binary maps the image ships.

import { KEYMAP_FOLDER } from '../image-layout.ts';
import type { System } from '../system/system.ts';
import type { Log } from './console.ts';

/** Loads a keymap the image ships into the console; an unknown name is a warning that lists the known ones. */
export async function loadKeymap(system: System, console: Log, name: string): Promise<void> {
  const path = `${KEYMAP_FOLDER}/${name}.bmap`;
  if (!(await system.exists(path))) {
    const known = (await system.listDir(KEYMAP_FOLDER)).map((file) => file.replace(/\.bmap$/, ''));
    await console.log(`Warning: b2c.keymap=${name}: this image has no such keymap (it has: ${known.join(', ') || 'none'}); the console keeps its own`);
    return;
  }
  const result = await system.run(['loadkmap'], { stdinFile: path, captureStderr: true });
  if (result.status === 0) await console.log(`Loaded the keymap ${name}`);
  else await console.log(`Warning: could not load the keymap ${name}: ${result.stderr.trim() || `status ${result.status}`}`);
}
