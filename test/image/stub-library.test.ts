import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readElfDynamicInfo, readElfExports, type ElfExports } from '../../src/image/elf.ts';
import { elfHash, stubMachines, writeStubLibrary } from '../../src/image/stub-library.ts';
import { B2cError } from '../../src/errors.ts';

const HOST_LIBRARIES = '/usr/lib/x86_64-linux-gnu';

/** The libraries of the host's curl that b2c stubs in the image (bookworm names some differently). */
const HOST_CURL_STUBS = ['librtmp.so.1', 'libssh2.so.1', 'libldap-2.5.so.0', 'liblber-2.5.so.0', 'libgssapi_krb5.so.2', 'libpsl.so.5', 'libidn2.so.0'];

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
    for (const [machine, is64, flags] of [[62, true, 0], [183, true, 0], [243, true, 5], [40, false, 0x05000400]] as const) {
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

  it('returns 0 from every function and -1 from those named failing, in each machine\'s code', () => {
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

describe('readElfExports', () => {
  it('reads what a real library of this host exports', () => {
    const exports = readElfExports(readFileSync(join(HOST_LIBRARIES, 'libgssapi_krb5.so.2')));
    expect(exports.soname).toBe('libgssapi_krb5.so.2');
    expect(exports.identity).toMatchObject({ is64: true, machine: 62 });
    expect(exports.versions).toContain('gssapi_krb5_2_MIT');
    expect(exports.symbols).toContainEqual(expect.objectContaining({ name: 'gss_init_sec_context', kind: 'function', version: 'gssapi_krb5_2_MIT' }));
    // Data that libcurl reads through the GOT: the stub must offer it at its size.
    expect(exports.symbols).toContainEqual(expect.objectContaining({ name: 'GSS_C_NT_HOSTBASED_SERVICE', kind: 'object', size: 8 }));
    expect(exports.symbols.some((symbol) => symbol.name === 'malloc')).toBe(false);
  });

  it('rejects a program without a dynamic segment', () => {
    expect(() => readElfExports(readFileSync('/bin/busybox'))).toThrow(B2cError);
  });
});

// The host's own loader is the real judge of a stub: curl and its libcurl bind every symbol at start here.
describe("stubs under this host's loader", () => {
  const folder = mkdtempSync(join(tmpdir(), 'b2c-stubs-'));
  afterAll(() => rmSync(folder, { recursive: true, force: true }));
  for (const soname of HOST_CURL_STUBS) {
    const exports = readElfExports(readFileSync(join(HOST_LIBRARIES, soname)));
    writeFileSync(join(folder, soname), writeStubLibrary(exports, soname.startsWith('libldap') ? ['ldap_get_option'] : []));
  }
  const env = { ...process.env, LD_LIBRARY_PATH: folder, LD_BIND_NOW: '1' };

  it('loads curl with the stubs in place of the real libraries and what they need', () => {
    const listing = spawnSync('/lib64/ld-linux-x86-64.so.2', ['--list', '/usr/bin/curl'], { env, encoding: 'utf8' });
    expect(listing.status).toBe(0);
    for (const soname of HOST_CURL_STUBS) expect(listing.stdout).toContain(`${soname} => ${folder}/${soname}`);
    // GnuTLS comes only through librtmp, Kerberos only through GSSAPI.
    expect(listing.stdout).not.toMatch(/libgnutls|libkrb5\.so|libsasl2|libunistring/);
  });

  it('runs curl: version, a real transfer, and clean errors for what the stubs stand in for', () => {
    const version = spawnSync('curl', ['--version'], { env, encoding: 'utf8' });
    expect(version.status).toBe(0);
    expect(version.stdout).toMatch(/OpenSSL/);
    const source = join(folder, 'payload.txt');
    writeFileSync(source, 'stubbed curl works\n');
    const transfer = spawnSync('curl', ['--silent', '--show-error', `file://${source}`], { env, encoding: 'utf8' });
    expect(transfer.stdout).toBe('stubbed curl works\n');
    // The stubs answer "failed", never crash: curl ends with an error status of its own.
    const rtmp = spawnSync('curl', ['--silent', 'rtmp://127.0.0.1/live'], { env });
    expect(rtmp.signal).toBeNull();
    expect(rtmp.status).not.toBe(0);
    const idn = spawnSync('curl', ['--silent', 'http://bücher.invalid/'], { env });
    expect(idn.signal).toBeNull();
    expect(idn.status).not.toBe(0);
  });

  it('is needed: the host curl has these libraries to stub', () => {
    for (const soname of HOST_CURL_STUBS) expect(existsSync(join(HOST_LIBRARIES, soname))).toBe(true);
  });
});
