// Two b2c processes sharing one host cache at once, fetching the same packages from a Debian mirror on 127.0.0.1 (the packages the build fetched).

import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hostCacheDir } from '../../src/host-cache.ts';
import { DebianMirror } from '../../src/testbed/debian-mirror.ts';
import { runNode } from './boot.ts';

const shared = mkdtempSync(join(tmpdir(), 'b2c-shared-cache-'));
let mirror: DebianMirror | undefined;
afterAll(async () => {
  await mirror?.close();
  rmSync(shared, { recursive: true, force: true });
});

/** Runs the fetch the way `b2c serve` fetches its tools, in a process of its own, after `delayMs`. */
async function fetchPackages(packages: string[], delayMs: number): Promise<{ status: number | null; stdout: string; stderr: string }> {
  await new Promise((resolve) => setTimeout(resolve, delayMs));
  return runNode(['--import', 'tsx', 'test/debian/fetch-packages.ts', shared, (mirror as DebianMirror).url, ...packages]);
}

describe('the host cache shared by two b2c processes', () => {
  it('lets both fetch the same packages at once: one fetches the lists, both get every package whole, each stored once, nothing left half-done', async () => {
    // Slow packages keep both processes downloading at the same time.
    mirror = await DebianMirror.start(join(hostCacheDir(), 'apt', 'trixie-amd64'), 200);
    const [first, second] = await Promise.all([fetchPackages(['e2fsprogs', 'curl'], 0), fetchPackages(['curl', 'e2fsprogs'], 500)]);
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(second.stderr).toBe('');
    expect(second.status).toBe(0);
    const firstRoots = JSON.parse(first.stdout) as Record<string, string>;
    const secondRoots = JSON.parse(second.stdout) as Record<string, string>;
    expect(Object.keys(secondRoots).sort()).toEqual(Object.keys(firstRoots).sort());
    expect(Object.keys(firstRoots)).toEqual(expect.arrayContaining(['curl', 'e2fsprogs', 'libc6']));
    for (const [name, root] of Object.entries(firstRoots)) {
      expect(secondRoots[name]).toBe(root);
      expect(readdirSync(root).length, `${name} extracted into ${root}`).toBeGreaterThan(0);
    }
    expect(existsSync(join(firstRoots.curl as string, 'usr/bin/curl'))).toBe(true);
    // The lists were fetched once: the second process waited for the first's, then found them.
    expect(mirror.requests.filter((path) => path.endsWith('/InRelease'))).toHaveLength(1);
    const aptRoot = join(shared, 'apt', 'trixie-amd64');
    expect(readdirSync(join(aptRoot, 'archives')).filter((name) => name.endsWith('.deb'))).toHaveLength(Object.keys(firstRoots).length);
    expect(readdirSync(aptRoot).filter((name) => name.startsWith('incoming'))).toEqual([]);
    expect(readdirSync(join(shared, 'extracted')).filter((name) => name.includes('.partial'))).toEqual([]);
    expect(readdirSync(join(shared, 'extracted'))).toHaveLength(Object.keys(firstRoots).length);
  });
});
