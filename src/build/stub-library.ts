// Writes a stand-in for a shared library that a program links but b2c never reaches: same name, symbols and versions, no code behind them.

import { B2cError } from '../errors.ts';
import {
  DT_HASH, DT_NULL, DT_SONAME, DT_STRTAB, DT_SYMTAB, DT_VERDEF, DT_VERDEFNUM, DT_VERSYM,
  PT_DYNAMIC, PT_LOAD, STB_GLOBAL, STB_WEAK, STT_FUNC, STT_OBJECT, VER_FLG_BASE, type ElfExports,
} from './elf.ts';

export class StubLibraryError extends B2cError {}

/**
 * The two bodies a stubbed function can have. Most return 0 (or NULL): the
 * callers b2c does reach (curl's global init, its version queries) take that
 * as success or "not available". The few whose 0 means "here is your answer"
 * (say ldap_get_option, which would leave curl reading an unset struct) are
 * named in `failing` and return -1. Every other entry point sits behind a
 * protocol or feature that b2c turns off.
 */
const BODIES: Record<number, { name: string; returnZero: number[]; returnMinusOne: number[] }> = {
  // xor eax, eax; ret | or rax, -1; ret
  62: { name: 'x86-64', returnZero: [0x31, 0xc0, 0xc3], returnMinusOne: [0x48, 0x83, 0xc8, 0xff, 0xc3] },
  // mov x0, #0; ret | mov x0, #-1; ret
  183: { name: 'AArch64', returnZero: words([0xd2800000, 0xd65f03c0]), returnMinusOne: words([0x92800000, 0xd65f03c0]) },
  // li a0, 0; ret | li a0, -1; ret (no compressed instructions, so any RISC-V core takes them)
  243: { name: 'RISC-V', returnZero: words([0x00000513, 0x00008067]), returnMinusOne: words([0xfff00513, 0x00008067]) },
  // mov r0, #0; mov r1, #0 (64-bit results too); bx lr | the same with mvn: ARM state, since the symbols' addresses are even
  40: { name: 'ARM', returnZero: words([0xe3a00000, 0xe3a01000, 0xe12fff1e]), returnMinusOne: words([0xe3e00000, 0xe3e01000, 0xe12fff1e]) },
};

function words(values: number[]): number[] {
  return values.flatMap((value) => [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff]);
}

/** The machines a stub can be written for, by e_machine. */
export function stubMachines(): number[] {
  return Object.keys(BODIES).map(Number);
}

const PT_GNU_STACK = 0x6474e551;
const PF_X = 1;
const PF_W = 2;
const PF_R = 4;
const SEGMENT_ALIGN = 0x10000; // covers 4 KiB and 64 KiB pages
const DT_STRSZ = 10;
const DT_SYMENT = 11;
const SHT_PROGBITS = 1;
const SHT_STRTAB = 3;
const SHT_HASH = 5;
const SHT_DYNAMIC = 6;
const SHT_NOBITS = 8;
const SHT_DYNSYM = 11;
const SHT_GNU_VERDEF = 0x6ffffffd;
const SHT_GNU_VERSYM = 0x6fffffff;
const SHF_WRITE = 1;
const SHF_ALLOC = 2;
const SHF_EXECINSTR = 4;

/** The section indexes the symbols point into. */
const TEXT_SECTION = 6;
const BSS_SECTION = 8;
const SECTION_NAMES = ['', '.hash', '.dynsym', '.dynstr', '.gnu.version', '.gnu.version_d', '.text', '.dynamic', '.bss', '.shstrtab'];

/** The SysV ELF hash, which DT_HASH and version definitions use. */
export function elfHash(name: string): number {
  let hash = 0;
  for (const byte of new TextEncoder().encode(name)) {
    hash = ((hash << 4) + byte) >>> 0;
    const high = hash & 0xf0000000;
    if (high !== 0) hash ^= high >>> 24;
    hash = (hash & ~high) >>> 0;
  }
  return hash;
}

class StringTable {
  private readonly offsets = new Map<string, number>();
  private readonly parts: Uint8Array[] = [new Uint8Array(1)];
  size = 1;

  add(text: string): number {
    const known = this.offsets.get(text);
    if (known !== undefined) return known;
    const bytes = new TextEncoder().encode(`${text}\0`);
    const offset = this.size;
    this.offsets.set(text, offset);
    this.parts.push(bytes);
    this.size += bytes.length;
    return offset;
  }

  bytes(): Uint8Array {
    return Buffer.concat(this.parts);
  }
}

function align(value: number, to: number): number {
  return Math.ceil(value / to) * to;
}

/**
 * A shared library with the soname, version definitions and exported symbols
 * of `exports`, for the same machine: every function returns 0, or -1 for
 * those named in `failing`; every object is zero-filled memory of its size.
 * It needs no other library.
 */
export function writeStubLibrary(exports: ElfExports, failing: readonly string[] = []): Uint8Array {
  const { is64, machine, flags, osAbi } = exports.identity;
  const body = BODIES[machine];
  if (body === undefined) throw new StubLibraryError(`cannot write a stub of ${exports.soname} for ELF machine ${machine}: only ${Object.values(BODIES).map((entry) => entry.name).join(', ')}`);
  const unknown = failing.filter((name) => !exports.symbols.some((symbol) => symbol.name === name && symbol.kind === 'function'));
  if (unknown.length > 0) throw new StubLibraryError(`${exports.soname} has no function ${unknown.join(', ')} to make fail`);

  const wordSize = is64 ? 8 : 4;
  const headerSize = is64 ? 64 : 52;
  const programHeaderSize = is64 ? 56 : 32;
  const programHeaderCount = 4;
  const symbolSize = is64 ? 24 : 16;
  const dynamicEntrySize = is64 ? 16 : 8;
  const sectionHeaderSize = is64 ? 64 : 40;

  // Version indexes: 1 is the base (the soname), then the library's own in order.
  const strings = new StringTable();
  const sonameName = strings.add(exports.soname);
  const versionIndex = new Map<string, number>();
  exports.versions.forEach((name, index) => versionIndex.set(name, index + 2));
  const symbols = exports.symbols.map((symbol) => {
    const index = symbol.version === undefined ? 1 : versionIndex.get(symbol.version);
    if (index === undefined) throw new StubLibraryError(`${symbol.name} of ${exports.soname} names version ${symbol.version}, which is not among its definitions`);
    return { ...symbol, nameOffset: strings.add(symbol.name), versym: index | (symbol.hidden ? 0x8000 : 0), fails: failing.includes(symbol.name) };
  });
  const versionList = [exports.soname, ...exports.versions];
  const versionNames = versionList.map((name) => strings.add(name));

  // The read-only, executable segment: headers, hash, symbols, strings, versions, code.
  const symbolCount = symbols.length + 1;
  const bucketCount = Math.max(1, Math.ceil(symbols.length / 2));
  const hashOffset = headerSize + programHeaderCount * programHeaderSize;
  const hashSize = (2 + bucketCount + symbolCount) * 4;
  const dynsymOffset = align(hashOffset + hashSize, wordSize);
  const dynstrOffset = dynsymOffset + symbolCount * symbolSize;
  const stringBytes = strings.bytes();
  const versymOffset = align(dynstrOffset + stringBytes.length, 2);
  const verdefOffset = align(versymOffset + symbolCount * 2, 4);
  const verdefSize = versionNames.length * 28;
  const textOffset = align(verdefOffset + verdefSize, 16);
  const minusOneOffset = textOffset + align(body.returnZero.length, 16);
  const textSize = minusOneOffset - textOffset + body.returnMinusOne.length;
  const readOnlyEnd = textOffset + textSize;

  // The writable segment: the dynamic section in the file, the objects as zero pages after it.
  const dynamicOffset = align(readOnlyEnd, 16);
  const writableBase = dynamicOffset + SEGMENT_ALIGN;
  const dynamicEntries: Array<[number, number]> = [
    [DT_SONAME, sonameName],
    [DT_HASH, hashOffset],
    [DT_STRTAB, dynstrOffset],
    [DT_SYMTAB, dynsymOffset],
    [DT_STRSZ, stringBytes.length],
    [DT_SYMENT, symbolSize],
    [DT_VERSYM, versymOffset],
    [DT_VERDEF, verdefOffset],
    [DT_VERDEFNUM, versionNames.length],
    [DT_NULL, 0],
  ];
  const dynamicSize = dynamicEntries.length * dynamicEntrySize;
  const bssAddress = align(writableBase + dynamicSize, 16);
  let bssSize = 0;
  const objectAddresses = symbols.map((symbol) => {
    if (symbol.kind === 'function') return symbol.fails ? minusOneOffset : textOffset;
    const address = bssAddress + bssSize;
    bssSize += align(Math.max(symbol.size, 1), 16);
    return address;
  });

  const sectionNames = new StringTable();
  const sectionNameOffsets = SECTION_NAMES.map((name) => (name === '' ? 0 : sectionNames.add(name)));
  const sectionNameBytes = sectionNames.bytes();
  const shstrtabOffset = dynamicOffset + dynamicSize;
  const sectionHeadersOffset = align(shstrtabOffset + sectionNameBytes.length, wordSize);
  const fileSize = sectionHeadersOffset + SECTION_NAMES.length * sectionHeaderSize;

  const bytes = new Uint8Array(fileSize);
  const view = new DataView(bytes.buffer);
  const u16 = (offset: number, value: number): void => view.setUint16(offset, value, true);
  const u32 = (offset: number, value: number): void => view.setUint32(offset, value >>> 0, true);
  const word = (offset: number, value: number): void => (is64 ? view.setBigUint64(offset, BigInt(value), true) : view.setUint32(offset, value, true));

  // ELF header: a shared object with the original's class, ABI, machine and flags (hard-float and the like).
  bytes.set([0x7f, 0x45, 0x4c, 0x46, is64 ? 2 : 1, 1, 1, osAbi]);
  u16(16, 3); // ET_DYN
  u16(18, machine);
  u32(20, 1);
  word(24, 0); // e_entry
  word(is64 ? 32 : 28, headerSize);
  word(is64 ? 40 : 32, sectionHeadersOffset);
  u32(is64 ? 48 : 36, flags);
  u16(is64 ? 52 : 40, headerSize);
  u16(is64 ? 54 : 42, programHeaderSize);
  u16(is64 ? 56 : 44, programHeaderCount);
  u16(is64 ? 58 : 46, sectionHeaderSize);
  u16(is64 ? 60 : 48, SECTION_NAMES.length);
  u16(is64 ? 62 : 50, SECTION_NAMES.length - 1);

  const programHeader = (index: number, segment: { type: number; flags: number; offset: number; address: number; fileSize: number; memorySize: number; align: number }): void => {
    const base = headerSize + index * programHeaderSize;
    u32(base, segment.type);
    if (is64) {
      u32(base + 4, segment.flags);
      word(base + 8, segment.offset);
      word(base + 16, segment.address);
      word(base + 24, segment.address);
      word(base + 32, segment.fileSize);
      word(base + 40, segment.memorySize);
      word(base + 48, segment.align);
    } else {
      u32(base + 4, segment.offset);
      u32(base + 8, segment.address);
      u32(base + 12, segment.address);
      u32(base + 16, segment.fileSize);
      u32(base + 20, segment.memorySize);
      u32(base + 24, segment.flags);
      u32(base + 28, segment.align);
    }
  };
  programHeader(0, { type: PT_LOAD, flags: PF_R | PF_X, offset: 0, address: 0, fileSize: readOnlyEnd, memorySize: readOnlyEnd, align: SEGMENT_ALIGN });
  programHeader(1, { type: PT_LOAD, flags: PF_R | PF_W, offset: dynamicOffset, address: writableBase, fileSize: dynamicSize, memorySize: bssAddress - writableBase + bssSize, align: SEGMENT_ALIGN });
  programHeader(2, { type: PT_DYNAMIC, flags: PF_R | PF_W, offset: dynamicOffset, address: writableBase, fileSize: dynamicSize, memorySize: dynamicSize, align: wordSize });
  // Without PT_GNU_STACK the loader assumes an executable stack, which current glibc refuses.
  programHeader(3, { type: PT_GNU_STACK, flags: PF_R | PF_W, offset: 0, address: 0, fileSize: 0, memorySize: 0, align: 16 });

  // DT_HASH: buckets of symbol indexes chained by ELF hash.
  u32(hashOffset, bucketCount);
  u32(hashOffset + 4, symbolCount);
  const buckets = hashOffset + 8;
  const chains = buckets + bucketCount * 4;
  symbols.forEach((symbol, position) => {
    const index = position + 1;
    const bucket = buckets + (elfHash(symbol.name) % bucketCount) * 4;
    u32(chains + index * 4, view.getUint32(bucket, true));
    u32(bucket, index);
  });

  symbols.forEach((symbol, position) => {
    const base = dynsymOffset + (position + 1) * symbolSize;
    const binding = symbol.weak ? STB_WEAK : STB_GLOBAL;
    const type = symbol.kind === 'function' ? STT_FUNC : STT_OBJECT;
    const section = symbol.kind === 'function' ? TEXT_SECTION : BSS_SECTION;
    const size = symbol.kind !== 'function' ? symbol.size : symbol.fails ? body.returnMinusOne.length : body.returnZero.length;
    u32(base, symbol.nameOffset);
    if (is64) {
      bytes[base + 4] = (binding << 4) | type;
      u16(base + 6, section);
      word(base + 8, objectAddresses[position] as number);
      word(base + 16, size);
    } else {
      u32(base + 4, objectAddresses[position] as number);
      u32(base + 8, size);
      bytes[base + 12] = (binding << 4) | type;
      u16(base + 14, section);
    }
    u16(versymOffset + (position + 1) * 2, symbol.versym);
  });
  bytes.set(stringBytes, dynstrOffset);

  // One Verdef with one Verdaux per version; the first is the base.
  versionNames.forEach((nameOffset, position) => {
    const base = verdefOffset + position * 28;
    u16(base, 1); // VER_DEF_CURRENT
    u16(base + 2, position === 0 ? VER_FLG_BASE : 0);
    u16(base + 4, position + 1);
    u16(base + 6, 1);
    u32(base + 8, elfHash(versionList[position] as string));
    u32(base + 12, 20);
    u32(base + 16, position === versionNames.length - 1 ? 0 : 28);
    u32(base + 20, nameOffset);
  });
  bytes.set(body.returnZero, textOffset);
  bytes.set(body.returnMinusOne, minusOneOffset);

  dynamicEntries.forEach(([tag, value], index) => {
    word(dynamicOffset + index * dynamicEntrySize, tag);
    word(dynamicOffset + index * dynamicEntrySize + wordSize, value);
  });
  bytes.set(sectionNameBytes, shstrtabOffset);

  // Section headers: not needed to load, but they let binutils read the stub like any library.
  const sections: Array<{ type: number; flags: number; address: number; offset: number; size: number; link: number; info: number; align: number; entrySize: number }> = [
    { type: 0, flags: 0, address: 0, offset: 0, size: 0, link: 0, info: 0, align: 0, entrySize: 0 },
    { type: SHT_HASH, flags: SHF_ALLOC, address: hashOffset, offset: hashOffset, size: hashSize, link: 2, info: 0, align: 4, entrySize: 4 },
    { type: SHT_DYNSYM, flags: SHF_ALLOC, address: dynsymOffset, offset: dynsymOffset, size: symbolCount * symbolSize, link: 3, info: 1, align: wordSize, entrySize: symbolSize },
    { type: SHT_STRTAB, flags: SHF_ALLOC, address: dynstrOffset, offset: dynstrOffset, size: stringBytes.length, link: 0, info: 0, align: 1, entrySize: 0 },
    { type: SHT_GNU_VERSYM, flags: SHF_ALLOC, address: versymOffset, offset: versymOffset, size: symbolCount * 2, link: 2, info: 0, align: 2, entrySize: 2 },
    { type: SHT_GNU_VERDEF, flags: SHF_ALLOC, address: verdefOffset, offset: verdefOffset, size: verdefSize, link: 3, info: versionNames.length, align: 4, entrySize: 0 },
    { type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_EXECINSTR, address: textOffset, offset: textOffset, size: textSize, link: 0, info: 0, align: 16, entrySize: 0 },
    { type: SHT_DYNAMIC, flags: SHF_ALLOC | SHF_WRITE, address: writableBase, offset: dynamicOffset, size: dynamicSize, link: 3, info: 0, align: wordSize, entrySize: dynamicEntrySize },
    { type: SHT_NOBITS, flags: SHF_ALLOC | SHF_WRITE, address: bssAddress, offset: dynamicOffset + dynamicSize, size: bssSize, link: 0, info: 0, align: 16, entrySize: 0 },
    { type: SHT_STRTAB, flags: 0, address: 0, offset: shstrtabOffset, size: sectionNameBytes.length, link: 0, info: 0, align: 1, entrySize: 0 },
  ];
  sections.forEach((section, index) => {
    const base = sectionHeadersOffset + index * sectionHeaderSize;
    u32(base, sectionNameOffsets[index] as number);
    u32(base + 4, section.type);
    if (is64) {
      word(base + 8, section.flags);
      word(base + 16, section.address);
      word(base + 24, section.offset);
      word(base + 32, section.size);
      u32(base + 40, section.link);
      u32(base + 44, section.info);
      word(base + 48, section.align);
      word(base + 56, section.entrySize);
    } else {
      u32(base + 8, section.flags);
      u32(base + 12, section.address);
      u32(base + 16, section.offset);
      u32(base + 20, section.size);
      u32(base + 24, section.link);
      u32(base + 28, section.info);
      u32(base + 32, section.align);
      u32(base + 36, section.entrySize);
    }
  });
  return bytes;
}
