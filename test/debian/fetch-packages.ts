// Fetches Debian packages into a host cache from a mirror, as `b2c serve` fetches its tools: run by the host cache test, several at once.
//
// Usage: node --import tsx test/debian/fetch-packages.ts CACHE_DIR MIRROR_URL PACKAGE...

import { extractDebianPackages } from '../../src/debian/tools.ts';

const [cacheDir, mirror, ...packages] = process.argv.slice(2);
if (cacheDir === undefined || mirror === undefined || packages.length === 0) throw new Error('usage: fetch-packages.ts CACHE_DIR MIRROR_URL PACKAGE...');
const roots = await extractDebianPackages(packages, 'amd64', { cacheDir, source: { mirror } });
process.stdout.write(`${JSON.stringify(Object.fromEntries(roots))}\n`);
