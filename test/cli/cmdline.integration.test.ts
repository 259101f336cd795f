// `b2c cmdline` as a user runs it: a real process, its streams and its exit status.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

function b2c(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, ['bin/b2c.js', ...args], { input, encoding: 'utf8' });
}

describe('b2c cmdline', () => {
  it('prints one JSON document with secrets hidden, messages on stderr, errors first, and fails on errors', () => {
    const result = b2c(['cmdline', '--json', 'b2c.contianer=x b2c.minio="s3,http://10.0.0.1:9000,AKEY,SKEY" b2c.swap=lots']);
    expect(result.status).toBe(1);
    const json = JSON.parse(result.stdout) as { minio: Array<{ alias: string; accessKey: string }>; errors: string[] };
    expect(json.minio).toEqual([{ alias: 's3', url: 'http://10.0.0.1:9000', accessKey: '***', secretKey: '***' }]);
    expect(json.errors).toEqual(['b2c.swap=lots is not a size: use a number with K, M, G or T, e.g. b2c.swap=4G']);
    expect(result.stdout + result.stderr).not.toMatch(/AKEY|SKEY/);
    const lines = result.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/^error: b2c.swap=lots/);
    expect(lines.slice(1).every((line) => line.startsWith('warning: '))).toBe(true);
    expect(result.stderr).toContain('did you mean b2c.container?');
  });

  it('still explains the rest of a line that has an error, and says that it runs nothing', () => {
    const result = b2c(['cmdline', 'b2c.container="docker://r/i:1 true" b2c.cache_device=/dev/../../etc b2c.swap=2G']);
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/^The line has an error: a machine booted with it runs no container\. The rest of it says:\n/);
    expect(result.stdout).toContain('Step 1: docker://r/i:1');
    expect(result.stderr).toMatch(/^error: b2c\.cache_device=\/dev\/\.\.\/\.\.\/etc is not a device path/);
  });

  it('explains a valid line read from stdin, and picks the kernel line of an iPXE script', () => {
    const fromStdin = b2c(['cmdline'], 'b2c.container="docker://r/i:1 sh -c \'echo hi\'"\n');
    expect(fromStdin.status).toBe(0);
    expect(fromStdin.stdout).toContain('Step 1: docker://r/i:1');
    expect(fromStdin.stdout).toContain('command: ["sh","-c","echo hi"]');

    const script = join(mkdtempSync(join(tmpdir(), 'b2c-cmdline-')), 'boot.ipxe');
    writeFileSync(script, '#!ipxe\nkernel http://farm/linux-amd64 b2c.pipefail b2c.run="docker://r/j:2"\nboot\n');
    const fromFile = b2c(['cmdline', '--file', script]);
    expect(fromFile.status).toBe(0);
    expect(fromFile.stdout).toMatch(/^Checked the arguments of the kernel line\./);
    expect(fromFile.stdout).toContain('Step 1: docker://r/j:2');
    expect(fromFile.stdout).toContain('b2c.pipefail');
  });
});
