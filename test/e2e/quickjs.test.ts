// The init's pure logic under the real QuickJS of the image (trixie's qjs, run through its own loader) gives what Node gives.

import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { defaultCacheDir } from '../../src/cache-dir.ts';
import { quickjsProbe } from '../quickjs/entry.ts';

function extracted(prefix: string): string {
  const root = join(defaultCacheDir(), 'extracted');
  const name = readdirSync(root).find((entry) => entry.startsWith(prefix) && !entry.endsWith('.partial'));
  if (!name) throw new Error(`no ${prefix} package in ${root}: b2c build runs first (global setup)`);
  return join(root, name);
}

describe('the init logic under QuickJS', () => {
  it('computes the same as under Node', async () => {
    const bundle = await build({
      entryPoints: ['test/quickjs/main.ts'],
      bundle: true,
      format: 'esm',
      platform: 'neutral',
      external: ['std', 'os'],
      write: false,
    });
    const script = join(defaultCacheDir(), 'work', 'quickjs-probe.js');
    mkdirSync(join(defaultCacheDir(), 'work'), { recursive: true });
    writeFileSync(script, bundle.outputFiles[0]?.text ?? '');
    const libc = extracted('libc6_');
    const result = spawnSync(
      join(libc, 'usr/lib64/ld-linux-x86-64.so.2'),
      ['--library-path', join(libc, 'usr/lib/x86_64-linux-gnu'), join(extracted('quickjs_'), 'usr/bin/qjs'), '--no-unhandled-rejection', script],
      { encoding: 'utf8' },
    );
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(JSON.parse(JSON.stringify(quickjsProbe())));
  });
});
