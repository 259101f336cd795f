import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ARCHITECTURES } from '../src/architectures.ts';

describe('architectures', () => {
  it('keys the table by Debian name, and uses only branch filters the host xz has', () => {
    const help = spawnSync('xz', ['--long-help'], { encoding: 'utf8' }).stdout;
    for (const [name, arch] of Object.entries(ARCHITECTURES)) {
      expect(arch.debian).toBe(name);
      if (arch.xzBranchFilter !== undefined) expect(help).toContain(`--${arch.xzBranchFilter}[=OPTS]`);
    }
  });
});
