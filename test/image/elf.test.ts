import { describe, expect, it } from 'vitest';
import { isElf, readElfDynamicInfo, readModinfo } from '../../src/image/elf.ts';
import { B2cError } from '../../src/errors.ts';

/** A minimal little-endian ELF64 with PT_INTERP and a dynamic section, laid out by hand. */
function syntheticElf64(): Uint8Array {
  const bytes = new Uint8Array(0x400);
  const view = new DataView(bytes.buffer);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  view.setBigUint64(0x20, 0x40n, true); // phoff
  view.setUint16(0x36, 56, true); // phentsize
  view.setUint16(0x38, 3, true); // phnum
  const ph = (index: number, type: number, offset: number, vaddr: number, size: number): void => {
    const base = 0x40 + index * 56;
    view.setUint32(base, type, true);
    view.setBigUint64(base + 8, BigInt(offset), true);
    view.setBigUint64(base + 16, BigInt(vaddr), true);
    view.setBigUint64(base + 32, BigInt(size), true);
  };
  ph(0, 1, 0, 0x10000, 0x400); // PT_LOAD: file offset 0 at 0x10000
  ph(1, 3, 0x200, 0x10200, 28); // PT_INTERP
  ph(2, 2, 0x300, 0x10300, 0x60); // PT_DYNAMIC
  bytes.set(new TextEncoder().encode('/lib64/ld-linux-x86-64.so.2\0'), 0x200);
  // String table at file 0x280 (address 0x10280).
  const strings = '\0libc.so.6\0libfoo.so.1\0$ORIGIN/../lib:/opt/lib\0';
  bytes.set(new TextEncoder().encode(strings), 0x280);
  const dyn = (index: number, tag: number, value: number): void => {
    view.setBigUint64(0x300 + index * 16, BigInt(tag), true);
    view.setBigUint64(0x300 + index * 16 + 8, BigInt(value), true);
  };
  dyn(0, 1, 1); // DT_NEEDED libc.so.6
  dyn(1, 1, 11); // DT_NEEDED libfoo.so.1
  dyn(2, 29, 23); // DT_RUNPATH
  dyn(3, 5, 0x10280); // DT_STRTAB
  dyn(4, 0, 0);
  return bytes;
}

describe('readElfDynamicInfo', () => {
  it('reads the interpreter, DT_NEEDED and run paths of an ELF64 file', () => {
    expect(readElfDynamicInfo(syntheticElf64())).toEqual({
      interpreter: '/lib64/ld-linux-x86-64.so.2',
      needed: ['libc.so.6', 'libfoo.so.1'],
      runPaths: ['$ORIGIN/../lib', '/opt/lib'],
    });
  });

  it('rejects what is not ELF', () => {
    expect(isElf(new TextEncoder().encode('#!/bin/sh\n'))).toBe(false);
    expect(() => readElfDynamicInfo(new Uint8Array(64))).toThrow(B2cError);
  });

  it('rejects a truncated program header table', () => {
    expect(() => readElfDynamicInfo(syntheticElf64().slice(0, 0x60))).toThrow(/truncated/);
  });
});

/** A relocatable ELF (what a kernel module is) with a section string table and a .modinfo section, 64- or 32-bit, little-endian. */
function syntheticModule(is64: boolean, modinfo: string): Uint8Array {
  const bytes = new Uint8Array(0x400);
  const view = new DataView(bytes.buffer);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, is64 ? 2 : 1, 1, 1]);
  const names = '\0.shstrtab\0.text\0.modinfo\0';
  bytes.set(new TextEncoder().encode(names), 0x100);
  bytes.set(new TextEncoder().encode(modinfo), 0x200);
  const shoff = 0x300;
  const entsize = is64 ? 64 : 40;
  if (is64) {
    view.setBigUint64(0x28, BigInt(shoff), true);
    view.setUint16(0x3a, entsize, true);
    view.setUint16(0x3c, 4, true);
    view.setUint16(0x3e, 1, true);
  } else {
    view.setUint32(0x20, shoff, true);
    view.setUint16(0x2e, entsize, true);
    view.setUint16(0x30, 4, true);
    view.setUint16(0x32, 1, true);
  }
  const section = (index: number, name: number, offset: number, size: number): void => {
    const base = shoff + index * entsize;
    view.setUint32(base, name, true);
    if (is64) {
      view.setBigUint64(base + 0x18, BigInt(offset), true);
      view.setBigUint64(base + 0x20, BigInt(size), true);
    } else {
      view.setUint32(base + 0x10, offset, true);
      view.setUint32(base + 0x14, size, true);
    }
  };
  section(1, 1, 0x100, names.length); // .shstrtab
  section(2, 11, 0x180, 0); // .text
  section(3, 17, 0x200, modinfo.length); // .modinfo
  return bytes;
}

describe('readModinfo', () => {
  const modinfo = 'license=GPL\0firmware=rtl_nic/rtl8168h-2.fw\0alias=pci:v000010ECd00008168sv*sd*bc*sc*i*\0firmware=rtl_nic/rtl8125b-2.fw\0';
  it.each([
    ['64', true],
    ['32', false],
  ])('reads the key=value entries of a %s-bit module in file order', (_bits, is64) => {
    expect(readModinfo(syntheticModule(is64, modinfo))).toEqual([
      ['license', 'GPL'],
      ['firmware', 'rtl_nic/rtl8168h-2.fw'],
      ['alias', 'pci:v000010ECd00008168sv*sd*bc*sc*i*'],
      ['firmware', 'rtl_nic/rtl8125b-2.fw'],
    ]);
  });

  it('gives nothing for a file without .modinfo or without section headers', () => {
    const withoutModinfo = syntheticModule(true, '');
    withoutModinfo.set(new TextEncoder().encode('.notinfo'), 0x100 + 17);
    expect(readModinfo(withoutModinfo)).toEqual([]);
    const noHeaders = syntheticModule(true, 'firmware=x.bin\0');
    new DataView(noHeaders.buffer).setBigUint64(0x28, 0n, true);
    expect(readModinfo(noHeaders)).toEqual([]);
  });

  it('rejects a .modinfo section that runs past the end of the file', () => {
    const truncated = syntheticModule(true, 'firmware=x.bin\0');
    new DataView(truncated.buffer).setBigUint64(0x300 + 3 * 64 + 0x20, 0x1000n, true);
    expect(() => readModinfo(truncated)).toThrow(B2cError);
  });
});
