// `b2c build` for real: a second build from the host cache reaches no network and gives the same bytes, and a third has nothing to do.

import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostCacheDir } from '../../src/host-cache.ts';
import { runB2c } from './boot.ts';
import { expectModulePolicyShipped } from './module-policy.ts';

const sha256 = async (path: string): Promise<string> =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex');

describe('b2c build', () => {
  it("rebuilds from its cache without the network on a farm's own kernel (its modules_install folder and image): the same bytes", async () => {
    const manifest = JSON.parse(await readFile('out/manifest.amd64.json', 'utf8')) as { kernel: { package: string; version: string; release: string } };
    const extracted = join(hostCacheDir(), 'extracted', `${manifest.kernel.package}_${manifest.kernel.version}_amd64`);
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
      // A proxy that refuses every connection: any download apt tried would fail the build.
      const offline = { ...process.env, http_proxy: 'http://127.0.0.1:9', https_proxy: 'http://127.0.0.1:9' };
      const build = await runB2c(['build', '--kernel', farm, '--kernel-image', join(extracted, 'boot', `vmlinuz-${release}`), '--out', out], offline);
      expect(build.stderr).not.toMatch(/b2c: .*(failed|cannot)/);
      expect(build.status, build.stderr).toBe(0);
      expect(build.stderr).toContain('using the cached lists');
      // The suite's kernel and the same kernel as a farm's folder give the same image and kernel.
      expect(await sha256(join(out, 'initramfs.linux_amd64.cpio.xz'))).toBe(await sha256('out/initramfs.linux_amd64.cpio.xz'));
      expect(await sha256(join(out, 'linux-amd64'))).toBe(await sha256('out/linux-amd64'));
      const own = JSON.parse(await readFile(join(out, 'manifest.amd64.json'), 'utf8')) as { kernel: { package: string; release: string } };
      expect(own.kernel).toMatchObject({ package: `kernel ${release} (${basename(farm)})`, release });
      expect(await readdir(modules)).not.toContain('modules.dep');

      // Nothing changed: the second build keeps the first's outputs, and says so.
      const again = await runB2c(['build', '--kernel', farm, '--kernel-image', join(extracted, 'boot', `vmlinuz-${release}`), '--out', out], offline);
      expect(again.status, again.stderr).toBe(0);
      expect(again.stderr).toContain('nothing changed since the last build');
      expect(again.stderr).not.toContain('assembling the image');
    } finally {
      await rm(farm, { recursive: true, force: true });
    }
  });

  it('keeps the archive farms fetch within 20 MiB', async () => {
    const { size } = await stat('out/initramfs.linux_amd64.cpio.xz');
    console.log(`initramfs.linux_amd64.cpio.xz: ${size} bytes, ${20 * 1024 * 1024 - size} under 20 MiB`);
    expect(size).toBeLessThanOrEqual(20 * 1024 * 1024);
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

  it("ships its module policy with the soft dependencies and PHY drivers the kernel's own index names", () => {
    expectModulePolicyShipped('amd64');
  });
});
