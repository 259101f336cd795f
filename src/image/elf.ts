// Reads what the image builder needs from an ELF file without running it: interpreter, DT_NEEDED, run paths, sections.

import { B2cError } from '../errors.ts';

export interface ElfDynamicInfo {
  /** PT_INTERP: the dynamic loader the kernel starts, absent for static executables. */
  interpreter?: string;
  /** DT_NEEDED entries, in order. */
  needed: string[];
  /** DT_RUNPATH and DT_RPATH entries, split on ':'. */
  runPaths: string[];
}

export const PT_LOAD = 1;
export const PT_DYNAMIC = 2;
const PT_INTERP = 3;
export const DT_NULL = 0;
const DT_NEEDED = 1;
export const DT_STRTAB = 5;
const DT_RPATH = 15;
const DT_RUNPATH = 29;

export function isElf(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
}

/** Field readers for one ELF file's class (32/64-bit) and byte order. */
class ElfReader {
  readonly view: DataView;
  readonly is64: boolean;
  readonly little: boolean;

  constructor(readonly bytes: Uint8Array) {
    if (!isElf(bytes) || bytes.length < 52) throw new B2cError('not an ELF file');
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const elfClass = bytes[4];
    if (elfClass !== 1 && elfClass !== 2) throw new B2cError(`unknown ELF class ${elfClass}`);
    this.is64 = elfClass === 2;
    this.little = bytes[5] === 1;
  }

  u16(offset: number): number {
    return this.view.getUint16(offset, this.little);
  }
  u32(offset: number): number {
    return this.view.getUint32(offset, this.little);
  }
  /** An address or offset: 64-bit values here always fit a double's integer range in practice. */
  word(offset: number): number {
    return this.is64 ? Number(this.view.getBigUint64(offset, this.little)) : this.u32(offset);
  }

  cString(offset: number): string {
    let end = offset;
    while (end < this.bytes.length && this.bytes[end] !== 0) end++;
    return new TextDecoder().decode(this.bytes.subarray(offset, end));
  }

  /** The bytes of the section of that name, from the section headers a linker or a kernel module keeps. */
  section(name: string): Uint8Array | undefined {
    const shoff = this.word(this.is64 ? 0x28 : 0x20);
    const shentsize = this.u16(this.is64 ? 0x3a : 0x2e);
    const shnum = this.u16(this.is64 ? 0x3c : 0x30);
    const shstrndx = this.u16(this.is64 ? 0x3e : 0x32);
    if (shoff === 0 || shstrndx >= shnum || shoff + shnum * shentsize > this.bytes.length) return undefined;
    const header = (index: number): { name: number; offset: number; size: number } => {
      const base = shoff + index * shentsize;
      return this.is64
        ? { name: this.u32(base), offset: this.word(base + 0x18), size: this.word(base + 0x20) }
        : { name: this.u32(base), offset: this.u32(base + 0x10), size: this.u32(base + 0x14) };
    };
    const names = header(shstrndx).offset;
    for (let index = 0; index < shnum; index++) {
      const candidate = header(index);
      if (this.cString(names + candidate.name) !== name) continue;
      if (candidate.offset + candidate.size > this.bytes.length) throw new B2cError(`section ${name} is truncated`);
      return this.bytes.subarray(candidate.offset, candidate.offset + candidate.size);
    }
    return undefined;
  }

  programHeaders(): Array<{ type: number; offset: number; vaddr: number; fileSize: number }> {
    const phoff = this.word(this.is64 ? 0x20 : 0x1c);
    const phentsize = this.u16(this.is64 ? 0x36 : 0x2a);
    const phnum = this.u16(this.is64 ? 0x38 : 0x2c);
    const headers = [];
    for (let i = 0; i < phnum; i++) {
      const base = phoff + i * phentsize;
      if (base + phentsize > this.bytes.length) throw new B2cError('program header table is truncated');
      headers.push(
        this.is64
          ? { type: this.u32(base), offset: this.word(base + 8), vaddr: this.word(base + 16), fileSize: this.word(base + 32) }
          : { type: this.u32(base), offset: this.u32(base + 4), vaddr: this.u32(base + 8), fileSize: this.u32(base + 16) },
      );
    }
    return headers;
  }
}

/** A loaded file's dynamic entries, with the map from memory addresses back to file offsets. */
interface DynamicSegment {
  entries: Array<{ tag: number; value: number }>;
  toFileOffset(address: number): number;
}

function readDynamicSegment(elf: ElfReader, headers: ReturnType<ElfReader['programHeaders']>): DynamicSegment | undefined {
  const dynamic = headers.find((header) => header.type === PT_DYNAMIC);
  if (!dynamic) return undefined;

  // Dynamic entries point into memory; PT_LOAD segments map those addresses back to the file.
  const toFileOffset = (address: number): number => {
    for (const header of headers) {
      if (header.type === PT_LOAD && address >= header.vaddr && address < header.vaddr + header.fileSize) {
        return address - header.vaddr + header.offset;
      }
    }
    throw new B2cError(`address 0x${address.toString(16)} is in no loaded segment`);
  };

  const entrySize = elf.is64 ? 16 : 8;
  const entries: Array<{ tag: number; value: number }> = [];
  for (let offset = dynamic.offset; offset + entrySize <= dynamic.offset + dynamic.fileSize; offset += entrySize) {
    const tag = elf.is64 ? elf.word(offset) : elf.u32(offset);
    if (tag === DT_NULL) break;
    entries.push({ tag, value: elf.word(offset + entrySize / 2) });
  }
  return { entries, toFileOffset };
}

/** The loader, libraries and run paths an executable or shared library asks for. */
export function readElfDynamicInfo(bytes: Uint8Array): ElfDynamicInfo {
  const elf = new ElfReader(bytes);
  const headers = elf.programHeaders();
  const info: ElfDynamicInfo = { needed: [], runPaths: [] };

  const interp = headers.find((header) => header.type === PT_INTERP);
  if (interp) info.interpreter = elf.cString(interp.offset);

  const dynamic = readDynamicSegment(elf, headers);
  if (!dynamic) return info;
  const strtab = dynamic.entries.find((entry) => entry.tag === DT_STRTAB);
  if (!strtab) throw new B2cError('dynamic section has no string table');
  const strings = dynamic.toFileOffset(strtab.value);
  for (const entry of dynamic.entries) {
    if (entry.tag === DT_NEEDED) info.needed.push(elf.cString(strings + entry.value));
    if (entry.tag === DT_RUNPATH || entry.tag === DT_RPATH) {
      info.runPaths.push(
        ...elf
          .cString(strings + entry.value)
          .split(':')
          .filter((path) => path !== ''),
      );
    }
  }
  return info;
}

/** What a shared library offers the loader: enough to write a stand-in with the same interface. */
export interface ElfExports {
  /** The ELF identity a loader checks before it maps the file. */
  identity: { is64: boolean; machine: number; flags: number; osAbi: number };
  soname: string;
  /** Version definitions after the base one (which is the soname), in the file's order. */
  versions: string[];
  symbols: ElfExportedSymbol[];
}

export interface ElfExportedSymbol {
  name: string;
  kind: 'function' | 'object';
  /** Bytes an object takes; a copy relocation in a program copies that many. */
  size: number;
  weak: boolean;
  /** The version it is defined in, absent for an unversioned symbol. */
  version?: string;
  /** `name@VERSION` kept for old binaries, as opposed to the default `name@@VERSION`. */
  hidden: boolean;
}

export const DT_HASH = 4;
export const DT_SYMTAB = 6;
export const DT_SONAME = 14;
const DT_GNU_HASH = 0x6ffffef5;
export const DT_VERSYM = 0x6ffffff0;
export const DT_VERDEF = 0x6ffffffc;
export const DT_VERDEFNUM = 0x6ffffffd;
const SHN_UNDEF = 0;
const SHN_ABS = 0xfff1;
const STT_NOTYPE = 0;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
const STT_TLS = 6;
const STT_GNU_IFUNC = 10;
export const STB_GLOBAL = 1;
export const STB_WEAK = 2;
export const VER_FLG_BASE = 1;

/** The symbols, versions and identity a shared library exports through its dynamic segment. */
export function readElfExports(bytes: Uint8Array): ElfExports {
  const elf = new ElfReader(bytes);
  const dynamic = readDynamicSegment(elf, elf.programHeaders());
  if (!dynamic) throw new B2cError('not a shared library: no dynamic segment');
  const tag = (wanted: number): number | undefined => dynamic.entries.find((entry) => entry.tag === wanted)?.value;
  const fileOffset = (wanted: number): number | undefined => {
    const address = tag(wanted);
    return address === undefined ? undefined : dynamic.toFileOffset(address);
  };

  const strings = fileOffset(DT_STRTAB);
  const symtab = fileOffset(DT_SYMTAB);
  if (strings === undefined || symtab === undefined) throw new B2cError('dynamic section has no symbol or string table');
  const sonameOffset = tag(DT_SONAME);
  if (sonameOffset === undefined) throw new B2cError('shared library has no DT_SONAME');

  const versionNames = new Map<number, string>();
  let baseVersion: number | undefined;
  const verdef = fileOffset(DT_VERDEF);
  const verdefCount = tag(DT_VERDEFNUM) ?? 0;
  const versionOrder: number[] = [];
  for (let i = 0, offset = verdef ?? 0; verdef !== undefined && i < verdefCount; i++) {
    const flags = elf.u16(offset + 2);
    const index = elf.u16(offset + 4);
    const aux = offset + elf.u32(offset + 12);
    versionNames.set(index, elf.cString(strings + elf.u32(aux)));
    if ((flags & VER_FLG_BASE) !== 0) baseVersion = index;
    else versionOrder.push(index);
    offset += elf.u32(offset + 16);
  }

  const versym = fileOffset(DT_VERSYM);
  const symbolSize = elf.is64 ? 24 : 16;
  const count = dynamicSymbolCount(elf, dynamic, tag(DT_HASH), tag(DT_GNU_HASH));
  const symbols: ElfExportedSymbol[] = [];
  for (let i = 1; i < count; i++) {
    const base = symtab + i * symbolSize;
    const name = elf.cString(strings + elf.u32(base));
    const info = elf.bytes[base + (elf.is64 ? 4 : 12)] as number;
    const other = elf.bytes[base + (elf.is64 ? 5 : 13)] as number;
    const sectionIndex = elf.u16(base + (elf.is64 ? 6 : 14));
    const size = elf.is64 ? elf.word(base + 16) : elf.u32(base + 8);
    const binding = info >> 4;
    const type = info & 0xf;
    const visibility = other & 3;
    // Undefined imports, local and hidden symbols, and the absolute version-name markers are not the interface.
    if (sectionIndex === SHN_UNDEF || sectionIndex === SHN_ABS) continue;
    if (binding !== STB_GLOBAL && binding !== STB_WEAK) continue;
    if (visibility === 1 || visibility === 2) continue;
    if (type === STT_TLS) throw new B2cError(`${name} is a thread-local symbol, which a stand-in library cannot offer`);
    if (type !== STT_FUNC && type !== STT_GNU_IFUNC && type !== STT_OBJECT && type !== STT_NOTYPE) continue;
    const symbol: ElfExportedSymbol = {
      name,
      kind: type === STT_FUNC || type === STT_GNU_IFUNC ? 'function' : 'object',
      size,
      weak: binding === STB_WEAK,
      hidden: false,
    };
    if (versym !== undefined) {
      const entry = elf.u16(versym + i * 2);
      const index = entry & 0x7fff;
      if (index > 1 && index !== baseVersion) {
        const version = versionNames.get(index);
        if (version === undefined) throw new B2cError(`${name} names version index ${index}, which the library does not define`);
        symbol.version = version;
        symbol.hidden = (entry & 0x8000) !== 0;
      }
    }
    symbols.push(symbol);
  }

  return {
    identity: { is64: elf.is64, machine: elf.u16(0x12), flags: elf.u32(elf.is64 ? 0x30 : 0x24), osAbi: elf.bytes[7] as number },
    soname: elf.cString(strings + sonameOffset),
    versions: versionOrder.map((index) => versionNames.get(index) as string),
    symbols,
  };
}

/** How many entries .dynsym has: the section size is not in the dynamic segment, the hash tables tell. */
function dynamicSymbolCount(elf: ElfReader, dynamic: DynamicSegment, hash: number | undefined, gnuHash: number | undefined): number {
  if (hash !== undefined) return elf.u32(dynamic.toFileOffset(hash) + 4);
  if (gnuHash === undefined) throw new B2cError('shared library has neither DT_HASH nor DT_GNU_HASH');
  const table = dynamic.toFileOffset(gnuHash);
  const bucketCount = elf.u32(table);
  const symbolOffset = elf.u32(table + 4);
  const bloomWords = elf.u32(table + 8);
  const buckets = table + 16 + bloomWords * (elf.is64 ? 8 : 4);
  const chains = buckets + bucketCount * 4;
  let last = 0;
  for (let i = 0; i < bucketCount; i++) last = Math.max(last, elf.u32(buckets + i * 4));
  if (last < symbolOffset) return symbolOffset;
  // The last bucket's chain ends at the entry whose low bit is set.
  while ((elf.u32(chains + (last - symbolOffset) * 4) & 1) === 0) last++;
  return last + 1;
}

/** A kernel module's `.modinfo` entries (`firmware=rtl_nic/rtl8168h-2.fw`, `alias=pci:…`), in file order. */
export function readModinfo(bytes: Uint8Array): Array<[key: string, value: string]> {
  const section = new ElfReader(bytes).section('.modinfo');
  if (section === undefined) return [];
  const entries: Array<[string, string]> = [];
  for (const text of new TextDecoder().decode(section).split('\0')) {
    const equals = text.indexOf('=');
    if (equals > 0) entries.push([text.slice(0, equals), text.slice(equals + 1)]);
  }
  return entries;
}
