// The init's pure logic under the real QuickJS of the image (trixie's qjs, run through its own loader) gives what Node gives.

import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { debFileName, type DebianPackage } from '../../src/debian/apt.ts';
import { extractedPath } from '../../src/debian/extract.ts';
import { hostCacheDir } from '../../src/host-cache.ts';
import { outputNames } from '../../src/image/output-names.ts';
import { quickjsProbe } from '../quickjs/entry.ts';

/** Where the build extracted one of the amd64 image's packages: the version its manifest names, whatever else the host cache holds. */
function extracted(name: string): string {
  const manifest = JSON.parse(readFileSync(join('out', outputNames('amd64').manifest), 'utf8')) as { packages: DebianPackage[] };
  const pkg = manifest.packages.find((candidate) => candidate.name === name);
  if (pkg === undefined) throw new Error(`${name} is not in the amd64 image: b2c build runs first (global setup)`);
  const folder = extractedPath(debFileName(pkg), hostCacheDir());
  if (!existsSync(folder)) throw new Error(`${folder} is missing: b2c build extracts it`);
  return folder;
}

/** Bundles a test entry and runs it with the image's qjs, through trixie's loader. */
async function runUnderQuickjs(entry: string): Promise<SpawnSyncReturns<string>> {
  const bundle = await build({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'neutral', external: ['std', 'os'], write: false });
  const folder = mkdtempSync(join(tmpdir(), 'b2c-quickjs-'));
  try {
    const script = join(folder, 'entry.js');
    writeFileSync(script, bundle.outputFiles[0]?.text ?? '');
    const libc = extracted('libc6');
    return spawnSync(
      join(libc, 'usr/lib64/ld-linux-x86-64.so.2'),
      ['--library-path', join(libc, 'usr/lib/x86_64-linux-gnu'), join(extracted('quickjs'), 'usr/bin/qjs'), '--no-unhandled-rejection', script],
      { encoding: 'utf8' },
    );
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
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
