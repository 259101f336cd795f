import { describe, expect, it } from 'vitest';
import { readElfDynamicInfo, readElfExports, type ElfExports } from '../../src/image/elf.ts';
import { elfHash, stubMachines, writeStubLibrary } from '../../src/image/stub-library.ts';
import { B2cError } from '../../src/errors.ts';

function synthetic(machine: number, is64: boolean, flags = 0): ElfExports {
  return {
    identity: { is64, machine, flags, osAbi: 0 },
    soname: 'libdemo.so.3',
    versions: ['DEMO_1.0', 'DEMO_2.0'],
    symbols: [
      { name: 'demo_open', kind: 'function', size: 120, weak: false, version: 'DEMO_1.0', hidden: true },
      { name: 'demo_open', kind: 'function', size: 130, weak: false, version: 'DEMO_2.0', hidden: false },
      { name: 'demo_fail', kind: 'function', size: 10, weak: true, version: 'DEMO_2.0', hidden: false },
      { name: 'demo_table', kind: 'object', size: 48, weak: false, version: 'DEMO_1.0', hidden: false },
      { name: 'demo_plain', kind: 'function', size: 4, weak: false, hidden: false },
    ],
  };
}

/** The bytes at a function symbol's address, which in a stub is also its file offset. */
function functionBody(stub: Uint8Array, exports: ElfExports, name: string, length: number): number[] {
  const view = new DataView(stub.buffer, stub.byteOffset);
  const is64 = exports.identity.is64;
  const sectionHeaders = Number(is64 ? view.getBigUint64(40, true) : view.getUint32(32, true));
  const entrySize = is64 ? 64 : 40;
  const dynsym = sectionHeaders + 2 * entrySize;
  const symtab = Number(is64 ? view.getBigUint64(dynsym + 24, true) : view.getUint32(dynsym + 16, true));
  const strtabHeader = sectionHeaders + 3 * entrySize;
  const strtab = Number(is64 ? view.getBigUint64(strtabHeader + 24, true) : view.getUint32(strtabHeader + 16, true));
  const symbolSize = is64 ? 24 : 16;
  for (let index = 1; ; index++) {
    const base = symtab + index * symbolSize;
    let end = strtab + view.getUint32(base, true);
    const start = end;
    while (stub[end] !== 0) end++;
    if (new TextDecoder().decode(stub.subarray(start, end)) !== name) continue;
    const address = Number(is64 ? view.getBigUint64(base + 8, true) : view.getUint32(base + 4, true));
    return [...stub.subarray(address, address + length)];
  }
}

describe('writeStubLibrary', () => {
  it('keeps the soname, versions and symbols, and needs no other library', () => {
    for (const [machine, is64, flags] of [
      [62, true, 0],
      [183, true, 0],
      [243, true, 5],
      [40, false, 0x05000400],
    ] as const) {
      const exports = synthetic(machine, is64, flags);
      const stub = writeStubLibrary(exports, ['demo_fail']);
      const again = readElfExports(stub);
      expect(again.identity).toEqual(exports.identity);
      expect(again.soname).toBe('libdemo.so.3');
      expect(again.versions).toEqual(['DEMO_1.0', 'DEMO_2.0']);
      // Functions all share one body, so their size is the body's; objects keep theirs.
      expect(again.symbols.map(({ name, kind, weak, version, hidden }) => ({ name, kind, weak, version, hidden }))).toEqual(
        exports.symbols.map(({ name, kind, weak, version, hidden }) => ({ name, kind, weak, version, hidden })),
      );
      expect(again.symbols.find((symbol) => symbol.name === 'demo_table')?.size).toBe(48);
      expect(readElfDynamicInfo(stub)).toEqual({ needed: [], runPaths: [] });
    }
  });

  it("returns 0 from every function and -1 from those named failing, in each machine's code", () => {
    const x86 = synthetic(62, true);
    const x86Stub = writeStubLibrary(x86, ['demo_fail']);
    expect(functionBody(x86Stub, x86, 'demo_open', 3)).toEqual([0x31, 0xc0, 0xc3]);
    expect(functionBody(x86Stub, x86, 'demo_fail', 5)).toEqual([0x48, 0x83, 0xc8, 0xff, 0xc3]);
    const arm64 = synthetic(183, true);
    expect(functionBody(writeStubLibrary(arm64), arm64, 'demo_plain', 8)).toEqual([0x00, 0x00, 0x80, 0xd2, 0xc0, 0x03, 0x5f, 0xd6]);
    const riscv = synthetic(243, true, 5);
    expect(functionBody(writeStubLibrary(riscv, ['demo_fail']), riscv, 'demo_fail', 4)).toEqual([0x13, 0x05, 0xf0, 0xff]);
    const arm = synthetic(40, false, 0x05000400);
    expect(functionBody(writeStubLibrary(arm), arm, 'demo_open', 12)).toEqual([0x00, 0x00, 0xa0, 0xe3, 0x00, 0x10, 0xa0, 0xe3, 0x1e, 0xff, 0x2f, 0xe1]);
  });

  it('refuses a machine it has no code for, and a failing name that is no function', () => {
    expect(stubMachines().sort((a, b) => a - b)).toEqual([40, 62, 183, 243]);
    expect(() => writeStubLibrary(synthetic(3, false))).toThrow(B2cError);
    expect(() => writeStubLibrary(synthetic(62, true), ['demo_table'])).toThrow(/no function demo_table/);
    expect(() => writeStubLibrary(synthetic(62, true), ['nothing'])).toThrow(/no function nothing/);
  });

  it('hashes names as the System V ABI does', () => {
    expect(elfHash('')).toBe(0);
    expect(elfHash('printf')).toBe(0x077905a6);
    // Long names fold their high nibble back in.
    expect(elfHash('a_rather_long_symbol_name_for_hashing')).toBeLessThan(2 ** 28);
  });
});
