import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firmwareBelow, selectFirmware, storedOnce } from '../../src/image/firmware.ts';
import { PackageRoot } from '../../src/image/package-root.ts';

const folder = mkdtempSync(join(tmpdir(), 'b2c-firmware-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

/** An extracted firmware package as Debian lays it out: files, compressed files and links under usr/lib/firmware. */
function extracted(name: string, files: Record<string, string>, links: Record<string, string> = {}): string {
  const root = join(folder, name);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, 'usr/lib/firmware', path)), { recursive: true });
    writeFileSync(join(root, 'usr/lib/firmware', path), text);
  }
  for (const [path, target] of Object.entries(links)) {
    mkdirSync(dirname(join(root, 'usr/lib/firmware', path)), { recursive: true });
    symlinkSync(target, join(root, 'usr/lib/firmware', path));
  }
  return root;
}

describe('firmware selection', () => {
  const root = new PackageRoot();
  beforeAll(async () => {
    await root.addPackage(
      { name: 'firmware-realtek', version: '1', arch: 'all' },
      extracted('realtek', { 'rtl_nic/rtl8168h-2.fw': 'h2', 'rtl_nic/rtl8125b-2.fw.xz': 'b2' }, { 'rtl_nic/rtl8168g-3.fw': 'rtl8168h-2.fw' }),
    );
    await root.addPackage(
      { name: 'firmware-misc-nonfree', version: '1', arch: 'all' },
      extracted(
        'misc',
        { 'tigon/tg3.bin': 'tg3', 'amdgpu/a.bin': 'a', 'amdgpu/sub/b.bin': 'b' },
        { 'amdgpu/gone.bin': '../nowhere.bin', 'amdgpu/alias': 'sub' },
      ),
    );
  });

  it('finds what drivers name as the kernel does: the plain file, else a compressed one, links followed to the file and its package', () => {
    const selection = selectFirmware(['tigon/tg3.bin', 'rtl_nic/rtl8168g-3.fw', 'rtl_nic/rtl8125b-2.fw', 'rtl_nic/rtl8168h-2.fw', 'tigon/tg3.bin'], root);
    expect(selection.files).toEqual([
      { name: 'rtl_nic/rtl8125b-2.fw.xz', source: 'usr/lib/firmware/rtl_nic/rtl8125b-2.fw.xz', origin: 'firmware-realtek' },
      { name: 'rtl_nic/rtl8168g-3.fw', source: 'usr/lib/firmware/rtl_nic/rtl8168h-2.fw', origin: 'firmware-realtek' },
      { name: 'rtl_nic/rtl8168h-2.fw', source: 'usr/lib/firmware/rtl_nic/rtl8168h-2.fw', origin: 'firmware-realtek' },
      { name: 'tigon/tg3.bin', source: 'usr/lib/firmware/tigon/tg3.bin', origin: 'firmware-misc-nonfree' },
    ]);
    expect(selection.missing).toEqual([]);
  });

  it('lists as missing a name no package ships and a link that leads nowhere', () => {
    const selection = selectFirmware(['i915/none.bin', 'amdgpu/gone.bin', 'rtl_nic'], root);
    expect(selection.files).toEqual([]);
    expect(selection.missing).toEqual(['amdgpu/gone.bin', 'i915/none.bin', 'rtl_nic']);
  });

  it('takes every file below whole folders, in subfolders too, and keeps a link to a folder as a link', () => {
    const selection = firmwareBelow(['amdgpu'], root);
    expect(selection.files.map((found) => found.name)).toEqual(['amdgpu/a.bin', 'amdgpu/sub/b.bin']);
    expect(selection.missing).toEqual(['amdgpu/gone.bin']);
    expect(selection.folderLinks).toEqual([{ name: 'amdgpu/alias', target: 'amdgpu/sub' }]);
  });
});

describe('storedOnce', () => {
  it('stores a file once under its own name, and every other name that resolves to it as a link', () => {
    const file = (name: string, source: string): { name: string; source: string; origin: string } => ({
      name,
      source: `usr/lib/firmware/${source}`,
      origin: 'p',
    });
    const { stored, links } = storedOnce([
      file('nvidia/tu104/gsp.bin', 'nvidia/tu102/gsp.bin'),
      file('nvidia/tu102/gsp.bin', 'nvidia/tu102/gsp.bin'),
      file('nvidia/tu106/gsp.bin', 'nvidia/tu102/gsp.bin'),
      file('a/only-link.bin', 'a/real.bin'),
      file('b/alone.bin', 'b/alone.bin'),
    ]);
    expect(stored.map((found) => found.name)).toEqual(['nvidia/tu102/gsp.bin', 'a/only-link.bin', 'b/alone.bin']);
    expect(links).toEqual([
      { name: 'nvidia/tu104/gsp.bin', target: 'nvidia/tu102/gsp.bin' },
      { name: 'nvidia/tu106/gsp.bin', target: 'nvidia/tu102/gsp.bin' },
    ]);
  });
});
