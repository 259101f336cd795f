import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { architecture } from '../../src/architectures.ts';
import { B2cError } from '../../src/errors.ts';
import { ownKernel } from '../../src/image/kernel-source.ts';
import { indexKernelModules } from '../../src/image/modules.ts';
import { nodeSystem } from '../../src/system/node.ts';

const folder = mkdtempSync(join(tmpdir(), 'b2c-own-kernel-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

/** A file with the boot header of that architecture's kernel images, which is all b2c reads of an image. */
function kernelImage(arch: string): Buffer {
  const { offset, magic } = architecture(arch).kernelHeader;
  const bytes = Buffer.alloc(1024);
  bytes.write(magic, offset, 'latin1');
  return bytes;
}

/** What `make modules_install INSTALL_MOD_PATH=DIR` leaves when DEPMOD is skipped: the modules' folder without an index. */
function modulesInstallFolder(name: string, release: string): string {
  const root = join(folder, name);
  mkdirSync(join(root, 'lib/modules', release, 'kernel'), { recursive: true });
  writeFileSync(join(root, 'lib/modules', release, 'modules.builtin'), 'kernel/fs/overlayfs/overlay.ko\n');
  writeFileSync(join(root, 'lib/modules', release, 'modules.order'), '');
  return root;
}

describe("a farm's kernel from a modules_install folder", () => {
  const amd64 = architecture('amd64');

  it('finds its release and its image, and indexes its modules with depmod outside the folder, which stays as it was', async () => {
    const root = modulesInstallFolder('farm', '6.8.0-farm');
    mkdirSync(join(root, 'boot'));
    writeFileSync(join(root, 'boot/vmlinuz-6.8.0-farm'), kernelImage('amd64'));
    const kernel = await ownKernel(nodeSystem, root, undefined, amd64, join(folder, 'work'));
    expect(kernel).toMatchObject({
      release: '6.8.0-farm',
      image: join(root, 'boot/vmlinuz-6.8.0-farm'),
      modulesDir: join(root, 'lib/modules/6.8.0-farm'),
      own: true,
    });
    expect(kernel.dtbs).toBeUndefined();

    const index = await indexKernelModules(nodeSystem, kernel.modulesDir, kernel.release, join(folder, 'index'));
    expect(index.indexDir).toBe(join(folder, 'index/lib/modules/6.8.0-farm'));
    expect(existsSync(join(index.indexDir, 'modules.dep'))).toBe(true);
    expect(index.modulesBuiltin).toContain('overlay.ko');
    expect(readdirSync(kernel.modulesDir).sort()).toEqual(['kernel', 'modules.builtin', 'modules.order']);
  });

  it('takes the image given apart, and refuses a folder without one or without modules', async () => {
    const root = modulesInstallFolder('no-image', '6.9.0');
    writeFileSync(join(folder, 'bzImage'), kernelImage('amd64'));
    expect((await ownKernel(nodeSystem, root, join(folder, 'bzImage'), amd64, join(folder, 'work'))).image).toBe(join(folder, 'bzImage'));
    await expect(ownKernel(nodeSystem, root, undefined, amd64, join(folder, 'work'))).rejects.toThrow(
      /no kernel image for 6\.9\.0: give the one the build made with --kernel-image/,
    );
    mkdirSync(join(folder, 'empty'));
    await expect(ownKernel(nodeSystem, join(folder, 'empty'), undefined, amd64, join(folder, 'work'))).rejects.toThrow(B2cError);
    await expect(ownKernel(nodeSystem, join(folder, 'missing'), undefined, amd64, join(folder, 'work'))).rejects.toThrow(/does not exist/);
  });

  it('refuses an image another architecture boots, or one that boots on none, naming what to give instead', async () => {
    const root = modulesInstallFolder('wrong-arch', '6.10.0');
    writeFileSync(join(folder, 'Image.gz'), gzipSync(kernelImage('arm64')));
    await expect(ownKernel(nodeSystem, root, join(folder, 'Image.gz'), amd64, join(folder, 'work'))).rejects.toThrow(
      `${join(folder, 'Image.gz')} is a kernel for arm64, not amd64: build with --arch arm64`,
    );
    writeFileSync(join(folder, 'vmlinux'), Buffer.from('\x7fELF\x02\x01\x01', 'latin1'));
    await expect(ownKernel(nodeSystem, root, join(folder, 'vmlinux'), amd64, join(folder, 'work'))).rejects.toThrow(
      `${join(folder, 'vmlinux')} is not a kernel image amd64 boots: give --kernel-image the one the kernel build leaves in arch/x86/boot/bzImage`,
    );
  });
});
