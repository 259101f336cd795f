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

export class ElfError extends B2cError {}

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT_NULL = 0;
const DT_NEEDED = 1;
const DT_STRTAB = 5;
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
    if (!isElf(bytes) || bytes.length < 52) throw new ElfError('not an ELF file');
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const elfClass = bytes[4];
    if (elfClass !== 1 && elfClass !== 2) throw new ElfError(`unknown ELF class ${elfClass}`);
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

  programHeaders(): Array<{ type: number; offset: number; vaddr: number; fileSize: number }> {
    const phoff = this.word(this.is64 ? 0x20 : 0x1c);
    const phentsize = this.u16(this.is64 ? 0x36 : 0x2a);
    const phnum = this.u16(this.is64 ? 0x38 : 0x2c);
    const headers = [];
    for (let i = 0; i < phnum; i++) {
      const base = phoff + i * phentsize;
      if (base + phentsize > this.bytes.length) throw new ElfError('program header table is truncated');
      headers.push(
        this.is64
          ? { type: this.u32(base), offset: this.word(base + 8), vaddr: this.word(base + 16), fileSize: this.word(base + 32) }
          : { type: this.u32(base), offset: this.u32(base + 4), vaddr: this.u32(base + 8), fileSize: this.u32(base + 16) },
      );
    }
    return headers;
  }

}

/** The loader, libraries and run paths an executable or shared library asks for. */
export function readElfDynamicInfo(bytes: Uint8Array): ElfDynamicInfo {
  const elf = new ElfReader(bytes);
  const headers = elf.programHeaders();
  const info: ElfDynamicInfo = { needed: [], runPaths: [] };

  const interp = headers.find((header) => header.type === PT_INTERP);
  if (interp) info.interpreter = elf.cString(interp.offset);

  const dynamic = headers.find((header) => header.type === PT_DYNAMIC);
  if (!dynamic) return info;

  // Dynamic entries point into memory; PT_LOAD segments map those addresses back to the file.
  const toFileOffset = (address: number): number => {
    for (const header of headers) {
      if (header.type === PT_LOAD && address >= header.vaddr && address < header.vaddr + header.fileSize) {
        return address - header.vaddr + header.offset;
      }
    }
    throw new ElfError(`address 0x${address.toString(16)} is in no loaded segment`);
  };

  const entrySize = elf.is64 ? 16 : 8;
  const entries: Array<{ tag: number; value: number }> = [];
  for (let offset = dynamic.offset; offset + entrySize <= dynamic.offset + dynamic.fileSize; offset += entrySize) {
    const tag = elf.is64 ? elf.word(offset) : elf.u32(offset);
    if (tag === DT_NULL) break;
    entries.push({ tag, value: elf.word(offset + entrySize / 2) });
  }
  const strtab = entries.find((entry) => entry.tag === DT_STRTAB);
  if (!strtab) throw new ElfError('dynamic section has no string table');
  const strings = toFileOffset(strtab.value);
  for (const entry of entries) {
    if (entry.tag === DT_NEEDED) info.needed.push(elf.cString(strings + entry.value));
    if (entry.tag === DT_RUNPATH || entry.tag === DT_RPATH) {
      info.runPaths.push(...elf.cString(strings + entry.value).split(':').filter((path) => path !== ''));
    }
  }
  return info;
}
