import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readElfExports } from '../../src/image/elf.ts';
import { writeStubLibrary } from '../../src/image/stub-library.ts';
import { B2cError } from '../../src/errors.ts';

const HOST_LIBRARIES = '/usr/lib/x86_64-linux-gnu';

/** The libraries of the host's curl that b2c stubs in the image (bookworm names some differently). */
const HOST_CURL_STUBS = ['librtmp.so.1', 'libssh2.so.1', 'libldap-2.5.so.0', 'liblber-2.5.so.0', 'libgssapi_krb5.so.2', 'libpsl.so.5', 'libidn2.so.0'];

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
