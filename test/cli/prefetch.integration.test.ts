// `b2c prefetch --check` as a gateway's admin runs it: what b2c serve would still fetch from Debian, said without fetching it.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('b2c prefetch --check', () => {
  it('on an empty host cache, names the package lists and the packages, fails, and fetches nothing', () => {
    const cache = mkdtempSync(join(tmpdir(), 'b2c-prefetch-'));
    const result = spawnSync(process.execPath, ['bin/b2c.js', 'prefetch', '--check'], {
      encoding: 'utf8',
      env: { ...process.env, XDG_CACHE_HOME: cache },
      timeout: 30_000,
    });
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/still to fetch: Debian trixie's package lists, then dnsmasq-base, ipxe, docker-registry, nginx, ovmf, qemu-efi-aarch64/);
    expect(readdirSync(cache)).toEqual([]);
  });
});
