// `b2c run --kernel-tree`: a kernel developer's tree boots its own image with its own modules, and the image made for it is kept while
// they do not change. The tree is Debian's kernel package laid out as `make` and `make modules_install INSTALL_MOD_PATH=TREE` leave a
// tree: a kernel build does not fit the test budget. One build (about a minute) and two boots.

import { cp, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostCacheDir } from '../../src/host-cache.ts';
import { bootB2c, expectCleanEnd, step } from './boot.ts';

describe('b2c run --kernel-tree', () => {
  let tree: string;
  let release: string;

  beforeAll(async () => {
    const manifest = JSON.parse(await readFile('out/manifest.amd64.json', 'utf8')) as { kernel: { package: string; version: string; release: string } };
    release = manifest.kernel.release;
    const extracted = join(hostCacheDir(), 'extracted', `${manifest.kernel.package}_${manifest.kernel.version}_amd64`);
    tree = await mkdtemp(join(tmpdir(), 'b2c-kernel-tree-'));
    await mkdir(join(tree, 'arch/x86/boot'), { recursive: true });
    await cp(join(extracted, 'boot', `vmlinuz-${release}`), join(tree, 'arch/x86/boot/bzImage'));
    await cp(join(extracted, 'usr/lib/modules', release), join(tree, 'lib/modules', release), { recursive: true });
  });

  afterAll(async () => {
    await rm(tree, { recursive: true, force: true });
  });

  it("boots the tree's image with an image made for its modules, and makes it again only when they change", async () => {
    const line = [step('b2c.container', "sh -c 'echo on-$(uname -r)'")];
    const first = await bootB2c(line, { runOptions: ['--kernel-tree', tree] });
    expectCleanEnd(first, 0);
    expect(first.output).toContain(`on-${release}`);
    // The image was made for the tree's kernel, with that kernel's modules: the network card's driver came from them.
    expect(first.stderr).toContain(`kernel modules for ${release}`);
    expect(first.stderr).toMatch(/b2c: time: preparing \d+\.\d s/);
    const second = await bootB2c(line, { runOptions: ['--kernel-tree', tree] });
    expectCleanEnd(second, 0);
    expect(second.stderr).toContain('nothing changed since the last build');
    expect(second.stderr).not.toContain(`kernel modules for ${release}`);
  }, 600_000);

  it('says a tree of another architecture before anything is built', async () => {
    const result = await bootB2c(['b2c.container=x'], { runOptions: ['--arch', 'arm64', '--kernel-tree', tree] });
    expect(result.exitCode).toBe(254);
    expect(result.stderr).toContain(`${tree} holds a kernel built for amd64 (arch/x86/boot/bzImage), not arm64: give --arch amd64`);
  });
});
