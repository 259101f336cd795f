// Writes a stand-in for a shared library that a program links but b2c never reaches: same name, symbols and versions, no code behind them.

import { B2cError } from '../errors.ts';
import {
  DT_HASH,
  DT_NULL,
  DT_SONAME,
  DT_STRTAB,
  DT_SYMTAB,
  DT_VERDEF,
  DT_VERDEFNUM,
  DT_VERSYM,
  PT_DYNAMIC,
  PT_LOAD,
  STB_GLOBAL,
  STB_WEAK,
  STT_FUNC,
  STT_OBJECT,
  VER_FLG_BASE,
  type ElfExports,
} from './elf.ts';

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

/** A symbol as the stub exports it, with where its strings and version sit. */
interface StubSymbol {
  name: string;
  kind: 'function' | 'object';
  size: number;
  weak: boolean;
  nameOffset: number;
  versym: number;
  fails: boolean;
  /** Its address: the shared body of its kind of function, or its own zero-filled memory. */
  address: number;
}

interface StubSection {
  type: number;
  flags: number;
  address: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  align: number;
  entrySize: number;
}

interface StubSegment {
  type: number;
  flags: number;
  offset: number;
  address: number;
  fileSize: number;
  memorySize: number;
  align: number;
}

/** Where everything of a stub goes, decided before a byte is written. */
interface StubLayout {
  identity: ElfExports['identity'];
  body: { returnZero: number[]; returnMinusOne: number[] };
  sizes: { word: number; header: number; programHeader: number; symbol: number; dynamicEntry: number; sectionHeader: number };
  symbols: StubSymbol[];
  strings: Uint8Array;
  /** Names of the soname and each version, with their string offsets; the first is the base. */
  versions: Array<{ name: string; nameOffset: number }>;
  sectionNames: Uint8Array;
  sectionNameOffsets: number[];
  offsets: {
    hash: number;
    dynsym: number;
    dynstr: number;
    versym: number;
    verdef: number;
    text: number;
    minusOne: number;
    dynamic: number;
    shstrtab: number;
    sectionHeaders: number;
  };
  bucketCount: number;
  dynamicEntries: Array<[number, number]>;
  segments: StubSegment[];
  sections: StubSection[];
  fileSize: number;
}

const PROGRAM_HEADER_COUNT = 4;
const VERDEF_SIZE = 28;

/**
 * Lays out the stub of `exports`: one read-only, executable segment (headers,
 * hash, symbols, strings, versions, code) and one writable (the dynamic
 * section, then the objects as zero pages).
 */
function planStubLayout(exports: ElfExports, failing: readonly string[]): StubLayout {
  const { is64, machine } = exports.identity;
  const body = BODIES[machine];
  if (body === undefined)
    throw new B2cError(
      `cannot write a stub of ${exports.soname} for ELF machine ${machine}: only ${Object.values(BODIES)
        .map((entry) => entry.name)
        .join(', ')}`,
    );
  const unknown = failing.filter((name) => !exports.symbols.some((symbol) => symbol.name === name && symbol.kind === 'function'));
  if (unknown.length > 0) throw new B2cError(`${exports.soname} has no function ${unknown.join(', ')} to make fail`);
  const sizes = {
    word: is64 ? 8 : 4,
    header: is64 ? 64 : 52,
    programHeader: is64 ? 56 : 32,
    symbol: is64 ? 24 : 16,
    dynamicEntry: is64 ? 16 : 8,
    sectionHeader: is64 ? 64 : 40,
  };

  // Version indexes: 1 is the base (the soname), then the library's own in order.
  const strings = new StringTable();
  const sonameName = strings.add(exports.soname);
  const versionIndex = new Map<string, number>();
  exports.versions.forEach((name, index) => versionIndex.set(name, index + 2));
  const named = exports.symbols.map((symbol) => {
    const index = symbol.version === undefined ? 1 : versionIndex.get(symbol.version);
    if (index === undefined) throw new B2cError(`${symbol.name} of ${exports.soname} names version ${symbol.version}, which is not among its definitions`);
    return { ...symbol, nameOffset: strings.add(symbol.name), versym: index | (symbol.hidden ? 0x8000 : 0), fails: failing.includes(symbol.name) };
  });
  const versions = [exports.soname, ...exports.versions].map((name) => ({ name, nameOffset: strings.add(name) }));
  const stringBytes = strings.bytes();

  const symbolCount = named.length + 1;
  const bucketCount = Math.max(1, Math.ceil(named.length / 2));
  const hash = sizes.header + PROGRAM_HEADER_COUNT * sizes.programHeader;
  const hashSize = (2 + bucketCount + symbolCount) * 4;
  const dynsym = align(hash + hashSize, sizes.word);
  const dynstr = dynsym + symbolCount * sizes.symbol;
  const versym = align(dynstr + stringBytes.length, 2);
  const verdef = align(versym + symbolCount * 2, 4);
  const verdefSize = versions.length * VERDEF_SIZE;
  const text = align(verdef + verdefSize, 16);
  const minusOne = text + align(body.returnZero.length, 16);
  const textSize = minusOne - text + body.returnMinusOne.length;
  const readOnlyEnd = text + textSize;

  const dynamic = align(readOnlyEnd, 16);
  const writableBase = dynamic + SEGMENT_ALIGN;
  const dynamicEntries: Array<[number, number]> = [
    [DT_SONAME, sonameName],
    [DT_HASH, hash],
    [DT_STRTAB, dynstr],
    [DT_SYMTAB, dynsym],
    [DT_STRSZ, stringBytes.length],
    [DT_SYMENT, sizes.symbol],
    [DT_VERSYM, versym],
    [DT_VERDEF, verdef],
    [DT_VERDEFNUM, versions.length],
    [DT_NULL, 0],
  ];
  const dynamicSize = dynamicEntries.length * sizes.dynamicEntry;
  const bssAddress = align(writableBase + dynamicSize, 16);
  let bssSize = 0;
  const symbols = named.map((symbol): StubSymbol => {
    let address: number;
    if (symbol.kind === 'function') {
      address = symbol.fails ? minusOne : text;
    } else {
      address = bssAddress + bssSize;
      bssSize += align(Math.max(symbol.size, 1), 16);
    }
    return {
      name: symbol.name,
      kind: symbol.kind,
      size: symbol.size,
      weak: symbol.weak,
      nameOffset: symbol.nameOffset,
      versym: symbol.versym,
      fails: symbol.fails,
      address,
    };
  });

  const sectionNameTable = new StringTable();
  const sectionNameOffsets = SECTION_NAMES.map((name) => (name === '' ? 0 : sectionNameTable.add(name)));
  const sectionNames = sectionNameTable.bytes();
  const shstrtab = dynamic + dynamicSize;
  const sectionHeaders = align(shstrtab + sectionNames.length, sizes.word);

  const segments: StubSegment[] = [
    { type: PT_LOAD, flags: PF_R | PF_X, offset: 0, address: 0, fileSize: readOnlyEnd, memorySize: readOnlyEnd, align: SEGMENT_ALIGN },
    {
      type: PT_LOAD,
      flags: PF_R | PF_W,
      offset: dynamic,
      address: writableBase,
      fileSize: dynamicSize,
      memorySize: bssAddress - writableBase + bssSize,
      align: SEGMENT_ALIGN,
    },
    { type: PT_DYNAMIC, flags: PF_R | PF_W, offset: dynamic, address: writableBase, fileSize: dynamicSize, memorySize: dynamicSize, align: sizes.word },
    // Without PT_GNU_STACK the loader assumes an executable stack, which current glibc refuses.
    { type: PT_GNU_STACK, flags: PF_R | PF_W, offset: 0, address: 0, fileSize: 0, memorySize: 0, align: 16 },
  ];
  // Section headers: not needed to load, but they let binutils read the stub like any library.
  const sections: StubSection[] = [
    { type: 0, flags: 0, address: 0, offset: 0, size: 0, link: 0, info: 0, align: 0, entrySize: 0 },
    { type: SHT_HASH, flags: SHF_ALLOC, address: hash, offset: hash, size: hashSize, link: 2, info: 0, align: 4, entrySize: 4 },
    {
      type: SHT_DYNSYM,
      flags: SHF_ALLOC,
      address: dynsym,
      offset: dynsym,
      size: symbolCount * sizes.symbol,
      link: 3,
      info: 1,
      align: sizes.word,
      entrySize: sizes.symbol,
    },
    { type: SHT_STRTAB, flags: SHF_ALLOC, address: dynstr, offset: dynstr, size: stringBytes.length, link: 0, info: 0, align: 1, entrySize: 0 },
    { type: SHT_GNU_VERSYM, flags: SHF_ALLOC, address: versym, offset: versym, size: symbolCount * 2, link: 2, info: 0, align: 2, entrySize: 2 },
    { type: SHT_GNU_VERDEF, flags: SHF_ALLOC, address: verdef, offset: verdef, size: verdefSize, link: 3, info: versions.length, align: 4, entrySize: 0 },
    { type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_EXECINSTR, address: text, offset: text, size: textSize, link: 0, info: 0, align: 16, entrySize: 0 },
    {
      type: SHT_DYNAMIC,
      flags: SHF_ALLOC | SHF_WRITE,
      address: writableBase,
      offset: dynamic,
      size: dynamicSize,
      link: 3,
      info: 0,
      align: sizes.word,
      entrySize: sizes.dynamicEntry,
    },
    {
      type: SHT_NOBITS,
      flags: SHF_ALLOC | SHF_WRITE,
      address: bssAddress,
      offset: dynamic + dynamicSize,
      size: bssSize,
      link: 0,
      info: 0,
      align: 16,
      entrySize: 0,
    },
    { type: SHT_STRTAB, flags: 0, address: 0, offset: shstrtab, size: sectionNames.length, link: 0, info: 0, align: 1, entrySize: 0 },
  ];
  return {
    identity: exports.identity,
    body,
    sizes,
    symbols,
    strings: stringBytes,
    versions,
    sectionNames,
    sectionNameOffsets,
    offsets: { hash, dynsym, dynstr, versym, verdef, text, minusOne, dynamic, shstrtab, sectionHeaders },
    bucketCount,
    dynamicEntries,
    segments,
    sections,
    fileSize: sectionHeaders + SECTION_NAMES.length * sizes.sectionHeader,
  };
}

/** Little-endian fields of an ELF file, words 32 or 64 bits wide. */
class ElfWriter {
  readonly bytes: Uint8Array;
  private readonly view: DataView;

  constructor(
    size: number,
    readonly is64: boolean,
  ) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }

  u16(offset: number, value: number): void {
    this.view.setUint16(offset, value, true);
  }

  u32(offset: number, value: number): void {
    this.view.setUint32(offset, value >>> 0, true);
  }

  readU32(offset: number): number {
    return this.view.getUint32(offset, true);
  }

  word(offset: number, value: number): void {
    if (this.is64) this.view.setBigUint64(offset, BigInt(value), true);
    else this.view.setUint32(offset, value, true);
  }
}

/** The ELF header: a shared object with the original's class, ABI, machine and flags (hard-float and the like). */
function writeElfHeader(out: ElfWriter, layout: StubLayout): void {
  const { is64, machine, flags, osAbi } = layout.identity;
  const { sizes } = layout;
  out.bytes.set([0x7f, 0x45, 0x4c, 0x46, is64 ? 2 : 1, 1, 1, osAbi]);
  out.u16(16, 3); // ET_DYN
  out.u16(18, machine);
  out.u32(20, 1);
  out.word(24, 0); // e_entry
  out.word(is64 ? 32 : 28, sizes.header);
  out.word(is64 ? 40 : 32, layout.offsets.sectionHeaders);
  out.u32(is64 ? 48 : 36, flags);
  out.u16(is64 ? 52 : 40, sizes.header);
  out.u16(is64 ? 54 : 42, sizes.programHeader);
  out.u16(is64 ? 56 : 44, layout.segments.length);
  out.u16(is64 ? 58 : 46, sizes.sectionHeader);
  out.u16(is64 ? 60 : 48, SECTION_NAMES.length);
  out.u16(is64 ? 62 : 50, SECTION_NAMES.length - 1);
}

function writeProgramHeaders(out: ElfWriter, layout: StubLayout): void {
  layout.segments.forEach((segment, index) => {
    const base = layout.sizes.header + index * layout.sizes.programHeader;
    out.u32(base, segment.type);
    if (out.is64) {
      out.u32(base + 4, segment.flags);
      out.word(base + 8, segment.offset);
      out.word(base + 16, segment.address);
      out.word(base + 24, segment.address);
      out.word(base + 32, segment.fileSize);
      out.word(base + 40, segment.memorySize);
      out.word(base + 48, segment.align);
    } else {
      out.u32(base + 4, segment.offset);
      out.u32(base + 8, segment.address);
      out.u32(base + 12, segment.address);
      out.u32(base + 16, segment.fileSize);
      out.u32(base + 20, segment.memorySize);
      out.u32(base + 24, segment.flags);
      out.u32(base + 28, segment.align);
    }
  });
}

/** DT_HASH: buckets of symbol indexes chained by ELF hash. */
function writeHashTable(out: ElfWriter, layout: StubLayout): void {
  const { hash } = layout.offsets;
  out.u32(hash, layout.bucketCount);
  out.u32(hash + 4, layout.symbols.length + 1);
  const buckets = hash + 8;
  const chains = buckets + layout.bucketCount * 4;
  layout.symbols.forEach((symbol, position) => {
    const index = position + 1;
    const bucket = buckets + (elfHash(symbol.name) % layout.bucketCount) * 4;
    out.u32(chains + index * 4, out.readU32(bucket));
    out.u32(bucket, index);
  });
}

/** The dynamic symbols, their names and their version indexes. */
function writeSymbols(out: ElfWriter, layout: StubLayout): void {
  const { body, sizes, offsets } = layout;
  layout.symbols.forEach((symbol, position) => {
    const base = offsets.dynsym + (position + 1) * sizes.symbol;
    const info = ((symbol.weak ? STB_WEAK : STB_GLOBAL) << 4) | (symbol.kind === 'function' ? STT_FUNC : STT_OBJECT);
    const section = symbol.kind === 'function' ? TEXT_SECTION : BSS_SECTION;
    const size = symbol.kind !== 'function' ? symbol.size : symbol.fails ? body.returnMinusOne.length : body.returnZero.length;
    out.u32(base, symbol.nameOffset);
    if (out.is64) {
      out.bytes[base + 4] = info;
      out.u16(base + 6, section);
      out.word(base + 8, symbol.address);
      out.word(base + 16, size);
    } else {
      out.u32(base + 4, symbol.address);
      out.u32(base + 8, size);
      out.bytes[base + 12] = info;
      out.u16(base + 14, section);
    }
    out.u16(offsets.versym + (position + 1) * 2, symbol.versym);
  });
  out.bytes.set(layout.strings, offsets.dynstr);
}

/** One Verdef with one Verdaux per version; the first is the base. */
function writeVersionDefinitions(out: ElfWriter, layout: StubLayout): void {
  layout.versions.forEach((version, position) => {
    const base = layout.offsets.verdef + position * VERDEF_SIZE;
    out.u16(base, 1); // VER_DEF_CURRENT
    out.u16(base + 2, position === 0 ? VER_FLG_BASE : 0);
    out.u16(base + 4, position + 1);
    out.u16(base + 6, 1);
    out.u32(base + 8, elfHash(version.name));
    out.u32(base + 12, 20);
    out.u32(base + 16, position === layout.versions.length - 1 ? 0 : VERDEF_SIZE);
    out.u32(base + 20, version.nameOffset);
  });
}

function writeCode(out: ElfWriter, layout: StubLayout): void {
  out.bytes.set(layout.body.returnZero, layout.offsets.text);
  out.bytes.set(layout.body.returnMinusOne, layout.offsets.minusOne);
}

function writeDynamicSection(out: ElfWriter, layout: StubLayout): void {
  layout.dynamicEntries.forEach(([tag, value], index) => {
    out.word(layout.offsets.dynamic + index * layout.sizes.dynamicEntry, tag);
    out.word(layout.offsets.dynamic + index * layout.sizes.dynamicEntry + layout.sizes.word, value);
  });
}

function writeSectionHeaders(out: ElfWriter, layout: StubLayout): void {
  out.bytes.set(layout.sectionNames, layout.offsets.shstrtab);
  layout.sections.forEach((section, index) => {
    const base = layout.offsets.sectionHeaders + index * layout.sizes.sectionHeader;
    out.u32(base, layout.sectionNameOffsets[index] as number);
    out.u32(base + 4, section.type);
    if (out.is64) {
      out.word(base + 8, section.flags);
      out.word(base + 16, section.address);
      out.word(base + 24, section.offset);
      out.word(base + 32, section.size);
      out.u32(base + 40, section.link);
      out.u32(base + 44, section.info);
      out.word(base + 48, section.align);
      out.word(base + 56, section.entrySize);
    } else {
      out.u32(base + 8, section.flags);
      out.u32(base + 12, section.address);
      out.u32(base + 16, section.offset);
      out.u32(base + 20, section.size);
      out.u32(base + 24, section.link);
      out.u32(base + 28, section.info);
      out.u32(base + 32, section.align);
      out.u32(base + 36, section.entrySize);
    }
  });
}

/**
 * A shared library with the soname, version definitions and exported symbols
 * of `exports`, for the same machine: every function returns 0, or -1 for
 * those named in `failing`; every object is zero-filled memory of its size.
 * It needs no other library.
 */
export function writeStubLibrary(exports: ElfExports, failing: readonly string[] = []): Uint8Array {
  const layout = planStubLayout(exports, failing);
  const out = new ElfWriter(layout.fileSize, layout.identity.is64);
  writeElfHeader(out, layout);
  writeProgramHeaders(out, layout);
  writeHashTable(out, layout);
  writeSymbols(out, layout);
  writeVersionDefinitions(out, layout);
  writeCode(out, layout);
  writeDynamicSection(out, layout);
  writeSectionHeaders(out, layout);
  return out.bytes;
}
