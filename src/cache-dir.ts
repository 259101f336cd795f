// Where b2c keeps its cache on the host.

import { homedir } from 'node:os';
import { join } from 'node:path';

export function defaultCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'b2c');
}
