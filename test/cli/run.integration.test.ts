// `b2c run` as a user runs it when the host cannot boot the machine: exit status 254 and a message naming what to fix, before any VM starts.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RUN_EXIT } from '../../src/vm/outcome.ts';

const folder = mkdtempSync(join(tmpdir(), 'b2c-run-cli-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));
// Files that exist: what they hold does not matter, since no machine starts.
const kernel = join(folder, 'kernel');
const initrd = join(folder, 'initrd');
writeFileSync(kernel, 'not a kernel');
writeFileSync(initrd, 'not an archive');

function run(args: string[], env: NodeJS.ProcessEnv = process.env): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, ['bin/b2c.js', 'run', '--kernel', kernel, '--initrd', initrd, '--timeout', '5', ...args], {
    encoding: 'utf8',
    env,
    timeout: 60_000,
  });
}

describe('b2c run on a host that cannot boot the machine', () => {
  it('names the missing QEMU and its Debian package', () => {
    // A PATH with a shell and nothing else.
    const bin = join(folder, 'bin');
    mkdirSync(bin);
    symlinkSync('/bin/sh', join(bin, 'sh'));
    const result = run([], { ...process.env, PATH: bin });
    expect(result.stderr).toContain('qemu-system-x86_64 is missing: apt-get install qemu-system-x86');
    expect(result.status).toBe(RUN_EXIT.hostProblem);
    expect(result.stdout).toBe('');
  });

  it('names an add-on that does not exist', () => {
    const missing = join(folder, 'linux-amd64.modules.cpio.xz');
    const result = run(['--addon', missing]);
    expect(result.stderr).toContain(`the add-on ${missing} does not exist`);
    expect(result.status).toBe(RUN_EXIT.hostProblem);
  });

  it('refuses KVM for a machine of another architecture than the host', () => {
    const result = run(['--arch', 'arm64', '--accel', 'kvm']);
    expect(result.stderr).toContain('KVM cannot run arm64 guests on this x86_64 host: use --accel tcg');
    expect(result.status).toBe(RUN_EXIT.hostProblem);
  });
});
