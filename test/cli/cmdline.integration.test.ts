// `b2c cmdline` as a user runs it: a real process, its streams and its exit status.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FARM_LINES, type FarmLine } from '../cmdline/farm-lines.ts';

function b2c(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, ['bin/b2c.js', ...args], { input, encoding: 'utf8' });
}

describe('b2c cmdline', () => {
  it('prints one JSON document with secrets hidden, messages on stderr, errors first, and fails on errors', () => {
    const result = b2c(['cmdline', '--json', 'b2c.contianer=x b2c.minio="s3,http://10.0.0.1:9000,AKEY,SKEY" b2c.swap=lots']);
    expect(result.status).toBe(1);
    const json = JSON.parse(result.stdout) as { minio: Array<{ alias: string; accessKey: string }>; errors: string[] };
    expect(json.minio).toEqual([{ alias: 's3', url: 'http://10.0.0.1:9000', accessKey: '***', secretKey: '***' }]);
    expect(json.errors).toEqual(['b2c.swap=lots is not a size or a device: use a number with K, M, G or T (e.g. b2c.swap=4G) or /dev/X']);
    expect(result.stdout + result.stderr).not.toMatch(/AKEY|SKEY/);
    const lines = result.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/^error: b2c.swap=lots/);
    expect(lines.slice(1).every((line) => line.startsWith('warning: '))).toBe(true);
    expect(result.stderr).toContain('did you mean b2c.container?');
  });

  it('warns of an image named from an upstream that the gateway caches, with the name to use instead', () => {
    const line = 'console=ttyS0 b2c.container="docker://registry.freedesktop.org/mesa/mesa/test-gl:42 true"';
    const result = b2c(['cmdline', '--registry-cache', '10.77.0.1:8002=https://registry.freedesktop.org', line]);
    expect(result.status).toBe(0);
    expect(result.stderr).toContain(
      "warning: b2c.container pulls docker://registry.freedesktop.org/mesa/mesa/test-gl:42 from registry.freedesktop.org directly, past the gateway's cache of it: " +
        'name docker://10.77.0.1:8002/mesa/mesa/test-gl:42',
    );
    expect(b2c(['cmdline', line]).stderr).not.toContain('gateway');
    expect(b2c(['cmdline', '--registry-cache', '8002=https://registry.freedesktop.org', line])).toMatchObject({ status: 2 });
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

  it("explains both of ci-tron's templates as rendered with their defaults, the kernel line with its extra arguments, with no error", () => {
    const folder = mkdtempSync(join(tmpdir(), 'b2c-cmdline-'));
    const [job, , diskless] = FARM_LINES;
    const explain = (line: FarmLine | undefined, name: string): ReturnType<typeof b2c> => {
      writeFileSync(join(folder, `${name}.cmdline`), line?.kernel ?? '');
      writeFileSync(join(folder, `${name}.extra`), line?.extra ?? '');
      return b2c(['cmdline', '--file', join(folder, `${name}.cmdline`), '--extra-args', join(folder, `${name}.extra`)]);
    };
    const local = explain(job, 'job');
    expect(local.stderr).not.toMatch(/^error:/m);
    expect(local.status).toBe(0);
    expect(local.stdout).toMatch(/^Checked the command line as given, with the extra arguments of .*job\.extra\.$/m);
    expect(local.stdout).toContain('Swap: a 8 GiB file on the cache; vm.swappiness=60');
    expect(local.stdout).toContain("Proxy for b2c's own transfers (pulls, S3, downloads; not the containers' own): https through http://ci-gateway:8100");
    expect(local.stdout).toContain('Step 2: ci-gateway:8002/mesa/mesa/debian/x86_64_test-vk:2025-11-20-piglit');
    expect(local.stderr).toContain('warning: b2c.volume=job-1234-results: exclude= is empty (a template left it unset?): ignored');
    // The job's environment file comes from the second archive: nothing to warn about.
    expect(local.stderr).not.toContain('job.env');

    const disk = explain(diskless, 'diskless');
    expect(disk.stderr).not.toMatch(/^error:/m);
    expect(disk.status).toBe(0);
    expect(disk.stdout).toContain('Swap: on /dev/nbd1, made anew (mkswap) at each boot and switched off before the shutdown');
    expect(disk.stdout).toContain('Network block device /dev/nbd1: ci-gateway:10810');
    expect(disk.stdout).toContain(
      "Filesystem publicimgstore: ci-gateway:/imagestore/public (NFSv4 over TCP; needs the modules add-on) with ro,nolock; podman's read-only image store",
    );
  });
});
