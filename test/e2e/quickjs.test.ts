// The init's pure logic under the real QuickJS of the image (trixie's qjs, run through its own loader) gives what Node gives.

import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
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

/** Bundles a test entry and runs it with the image's qjs, through trixie's loader. */
async function runUnderQuickjs(entry: string): Promise<SpawnSyncReturns<string>> {
  const bundle = await build({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'neutral', external: ['std', 'os'], write: false });
  const script = join(defaultCacheDir(), 'work', `quickjs-${entry.replace(/\W/g, '-')}.js`);
  mkdirSync(join(defaultCacheDir(), 'work'), { recursive: true });
  writeFileSync(script, bundle.outputFiles[0]?.text ?? '');
  const libc = extracted('libc6_');
  return spawnSync(
    join(libc, 'usr/lib64/ld-linux-x86-64.so.2'),
    ['--library-path', join(libc, 'usr/lib/x86_64-linux-gnu'), join(extracted('quickjs_'), 'usr/bin/qjs'), '--no-unhandled-rejection', script],
    { encoding: 'utf8' },
  );
}

describe('the init logic under QuickJS', () => {
  it('computes the same as under Node', async () => {
    const result = await runUnderQuickjs('test/quickjs/main.ts');
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(JSON.parse(JSON.stringify(quickjsProbe())));
  });

  it("wakes a wait for a program's end when that program ends (SIGCHLD), and not when another one does", async () => {
    const result = await runUnderQuickjs('test/quickjs/wake.ts');
    expect(result.stderr).toBe('');
    const { woke, status, idle } = JSON.parse(result.stdout) as { woke: number; status: number; idle: number };
    expect(status).toBe(0);
    // sleep 0.3 ends the 20 s wait; true's end does not end the 300 ms one. The margins are wide: what is checked is the wake, not a speed.
    expect(woke).toBeGreaterThanOrEqual(290);
    expect(woke).toBeLessThan(10_000);
    expect(idle).toBeGreaterThanOrEqual(290);
  });
});
