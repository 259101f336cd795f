import { describe, expect, it } from 'vitest';
import { B2cError } from '../../src/errors.ts';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { ARCHITECTURES } from '../../src/architectures.ts';
import { kernelImageArchitectures, modulesRelease, parseControlFields } from '../../src/image/kernel-source.ts';

describe("a farm's kernel", () => {
  it('takes the one release a modules folder holds, and says which when there are none or several', () => {
    expect(modulesRelease(['6.8.0-farm'], 'DIR/lib/modules')).toBe('6.8.0-farm');
    expect(modulesRelease(['.keep', '6.8.0-farm'], 'DIR/lib/modules')).toBe('6.8.0-farm');
    expect(() => modulesRelease([], 'DIR/lib/modules')).toThrow(new B2cError("DIR/lib/modules holds no kernel's modules"));
    expect(() => modulesRelease(['6.9.0', '6.8.0'], 'DIR/lib/modules')).toThrow(
      new B2cError('DIR/lib/modules holds the modules of several kernels (6.8.0, 6.9.0): give a folder with one'),
    );
  });

  it("reads a package's control fields, continuation lines aside", () => {
    const fields = parseControlFields('Package: linux-image-6.8.0-farm\nVersion: 6.8.0-1\nDescription: a kernel\n for a farm\nArchitecture: amd64\n');
    expect(fields.get('Package')).toBe('linux-image-6.8.0-farm');
    expect(fields.get('Version')).toBe('6.8.0-1');
    expect(fields.get('Architecture')).toBe('amd64');
    expect(fields.has(' for a farm')).toBe(false);
  });

  it.each(Object.keys(ARCHITECTURES))('knows a %s kernel image by its boot header alone, plain or gzip-compressed', (name) => {
    const { offset, magic } = (ARCHITECTURES[name] as (typeof ARCHITECTURES)[string]).kernelHeader;
    const image = Buffer.alloc(4096);
    image.write(magic, offset, 'latin1');
    expect(kernelImageArchitectures(image)).toEqual([name]);
    expect(kernelImageArchitectures(gzipSync(image))).toEqual([name]);
    expect(kernelImageArchitectures(Buffer.from('\x7fELF\x02\x01\x01\x00', 'latin1'))).toEqual([]);
    // The check reads the file's first kilobytes only: a compressed image cut there still shows its header, a broken one none.
    expect(kernelImageArchitectures(gzipSync(Buffer.concat([image, randomBytes(256 * 1024)])).subarray(0, 64 * 1024))).toEqual([name]);
    expect(kernelImageArchitectures(Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0xff, 0xff]))).toEqual([]);
  });
});
