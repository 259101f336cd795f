// `b2c build` for real: a second build from the cache reaches no network and gives the same bytes.

import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultCacheDir } from '../../src/cache-dir.ts';
import { runB2c } from './boot.ts';
import { expectModulePolicyShipped } from './module-policy.ts';

const sha256 = async (path: string): Promise<string> =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex');

describe('b2c build', () => {
  let second = '';
  afterAll(async () => {
    if (second) await rm(second, { recursive: true, force: true });
  });

  it('rebuilds from its cache without the network, byte for byte', async () => {
    second = await mkdtemp(join(tmpdir(), 'b2c-build-'));
    // A proxy that refuses every connection: any download apt tried would fail the build.
    const env = { ...process.env, http_proxy: 'http://127.0.0.1:9', https_proxy: 'http://127.0.0.1:9' };
    const build = await runB2c(['build', '--out', second], env);
    expect(build.stderr).not.toMatch(/b2c: .*(failed|cannot)/);
    expect(build.status).toBe(0);
    expect(build.stderr).toContain('using the cached lists');
    expect(await sha256(join(second, 'initramfs.linux_amd64.cpio.xz'))).toBe(await sha256('out/initramfs.linux_amd64.cpio.xz'));
    expect(await sha256(join(second, 'linux-amd64'))).toBe(await sha256('out/linux-amd64'));
  });

  it('writes a manifest of every package version and file', async () => {
    const manifest = JSON.parse(await readFile('out/manifest.amd64.json', 'utf8')) as {
      packages: Array<{ name: string; version: string }>;
      files: Array<{ path: string; size: number; origin: string }>;
      totals: { files: number; bytes: number };
      kernel: { release: string };
    };
    const names = manifest.packages.map((pkg) => pkg.name);
    expect(names).toEqual(expect.arrayContaining(['busybox', 'quickjs', 'podman', 'crun', 'conmon', 'libc6']));
    expect(manifest.packages.every((pkg) => /^\S+$/.test(pkg.version))).toBe(true);
    const paths = manifest.files.map((file) => file.path);
    expect(paths).toEqual(
      expect.arrayContaining(['/init', '/usr/bin/qjs', '/usr/bin/podman', '/etc/containers/containers.conf', '/etc/ssl/certs/ca-certificates.crt']),
    );
    // Each archive brings its own module index; /init joins them at boot.
    expect(paths).toContain(`/usr/lib/modules/${manifest.kernel.release}/b2c-indexes/image/modules.dep`);
    expect(paths).not.toContain(`/usr/lib/modules/${manifest.kernel.release}/modules.dep`);
    expect(manifest.totals.bytes).toBe(manifest.files.reduce((sum, file) => sum + file.size, 0));
    // r8169's firmware, from non-free-firmware.
    expect(names).toContain('firmware-realtek');
    expect(manifest.files).toContainEqual(expect.objectContaining({ path: '/usr/lib/firmware/rtl_nic/rtl8168h-2.fw', origin: 'firmware-realtek' }));
  });

  it("builds on a farm's own kernel from its modules_install folder and image: the same kernel gives the same image, byte for byte", async () => {
    const manifest = JSON.parse(await readFile('out/manifest.amd64.json', 'utf8')) as { kernel: { package: string; version: string; release: string } };
    const extracted = join(defaultCacheDir(), 'extracted', `${manifest.kernel.package}_${manifest.kernel.version}_amd64`);
    const release = manifest.kernel.release;
    // A modules_install folder without its index (as with DEPMOD=true): b2c runs depmod, outside the folder.
    const farm = await mkdtemp(join(tmpdir(), 'b2c-farm-kernel-'));
    try {
      const modules = join(farm, 'lib/modules', release);
      await mkdir(modules, { recursive: true });
      await cp(join(extracted, 'usr/lib/modules', release, 'kernel'), join(modules, 'kernel'), { recursive: true });
      for (const file of ['modules.builtin', 'modules.builtin.modinfo', 'modules.order'])
        await cp(join(extracted, 'usr/lib/modules', release, file), join(modules, file));
      const out = join(farm, 'out');
      const build = await runB2c(['build', '--kernel', farm, '--kernel-image', join(extracted, 'boot', `vmlinuz-${release}`), '--out', out]);
      expect(build.status, build.stderr).toBe(0);
      expect(await sha256(join(out, 'initramfs.linux_amd64.cpio.xz'))).toBe(await sha256('out/initramfs.linux_amd64.cpio.xz'));
      expect(await sha256(join(out, 'linux-amd64'))).toBe(await sha256('out/linux-amd64'));
      const own = JSON.parse(await readFile(join(out, 'manifest.amd64.json'), 'utf8')) as { kernel: { package: string; release: string } };
      expect(own.kernel).toMatchObject({ package: `kernel ${release} (${basename(farm)})`, release });
      expect(await readdir(modules)).not.toContain('modules.dep');
    } finally {
      await rm(farm, { recursive: true, force: true });
    }
  });

  it("ships its module policy with the soft dependencies and PHY drivers the kernel's own index names", () => {
    expectModulePolicyShipped('amd64');
  });
});
