// The b2c version, read once from package.json so there is one place to change it.

import { readFileSync } from 'node:fs';

export const B2C_VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
