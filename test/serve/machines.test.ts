import { describe, expect, it } from 'vitest';
import { bootFor, filesOf, ipxeProblem, readMachines } from '../../src/serve/machines.ts';

const context = { fileDir: '/farm', outDir: '/farm/out' };
const good = 'b2c.container="docker://registry:5000/tests:42"';

describe('readMachines', () => {
  it("reads a default and machines by MAC address, with the output folder's files unless an entry names its own", () => {
    const reading = readMachines(
      [
        `default:\n  cmdline: ${good}`,
        `"52:54:00:12:34:56":\n  arch: arm64\n  cmdline: console=ttyAMA0 ${good}\n  initrd: [out/initramfs.linux_arm64.cpio.xz, /srv/modules.cpio.xz]`,
        `52-54-00-12-34-57:\n  cmdline: ${good}\n  kernel: kernels/bzImage`,
      ].join('\n'),
      context,
    );
    expect(reading.errors).toEqual([]);
    expect(reading.table.default).toMatchObject({ key: 'default', kernel: '/farm/out/linux-amd64', initrds: ['/farm/out/initramfs.linux_amd64.cpio.xz'] });
    const arm = reading.table.machines.get('52:54:00:12:34:56');
    expect(arm?.arch.debian).toBe('arm64');
    expect(arm?.kernel).toBe('/farm/out/linux-arm64');
    expect(arm?.initrds).toEqual(['/farm/out/initramfs.linux_arm64.cpio.xz', '/srv/modules.cpio.xz']);
    expect(reading.table.machines.get('52:54:00:12:34:57')?.kernel).toBe('/farm/kernels/bzImage');
    expect(bootFor(reading.table, '52-54-00-12-34-56')?.key).toBe('52:54:00:12:34:56');
    expect(bootFor(reading.table, '52:54:00:99:99:99')?.key).toBe('default');
    expect([...(filesOf(reading.table).get('/farm/out/linux-amd64') ?? [])].sort()).toEqual(['default']);
  });

  it("warns of a line without console=, and of an image fetched past the gateway's cache of its registry", () => {
    const reading = readMachines(
      [
        `"52:54:00:12:34:56":\n  cmdline: b2c.container="docker://registry.freedesktop.org/mesa/mesa/test-gl:42 true"`,
        `"52:54:00:12:34:57":\n  cmdline: console=ttyS0,115200 b2c.container="docker://10.77.0.1:8002/mesa/mesa/test-gl:42 true"`,
      ].join('\n'),
      { ...context, registryCaches: { gateway: '10.77.0.1', caches: [{ port: 8002, upstream: 'https://registry.freedesktop.org' }] } },
    );
    expect(reading.errors).toEqual([]);
    expect(reading.warnings).toEqual([
      '52:54:00:12:34:56: cmdline: b2c.container pulls docker://registry.freedesktop.org/mesa/mesa/test-gl:42 from registry.freedesktop.org directly, ' +
        "past the gateway's cache of it: name docker://10.77.0.1:8002/mesa/mesa/test-gl:42",
      "52:54:00:12:34:56: cmdline: no console=: the machine's output goes to its screen only; add console=ttyS0,115200 (ttyAMA0 on ARM boards)",
    ]);
  });

  it('reads JSON, which is YAML too', () => {
    const reading = readMachines(JSON.stringify({ '52:54:00:12:34:56': { cmdline: good } }), context);
    expect(reading.errors).toEqual([]);
    expect(reading.table.default).toBeUndefined();
    expect(bootFor(reading.table, '52:54:00:00:00:01')).toBeUndefined();
  });

  it('refuses command lines with errors, naming the machine, and passes their warnings on', () => {
    const reading = readMachines(`"52:54:00:12:34:56":\n  cmdline: b2c.container="docker://r/i:1" b2c.cache_device=sideways b2c.swap=1G\n`, context);
    expect(reading.errors.some((error) => error.startsWith('52:54:00:12:34:56: cmdline: ') && error.includes('cache_device'))).toBe(true);
    const warned = readMachines(`default:\n  cmdline: ${good} b2c.contianer=x\n`, context);
    expect(warned.errors).toEqual([]);
    expect(warned.warnings.some((warning) => warning.startsWith('default: cmdline: ') && warning.includes('did you mean b2c.container?'))).toBe(true);
  });

  it('refuses words iPXE would take for its own: a lone &&, || or ;, and a word starting with #', () => {
    for (const word of ['&&', '||', ';', '#note']) {
      const reading = readMachines(JSON.stringify({ default: { cmdline: `b2c.container="docker://r/i:1 sh -c 'make ${word} true'"` } }), context);
      expect(reading.errors, word).toEqual([
        expect.stringMatching(new RegExp(`^default: cmdline: iPXE would read '${word.replace(/[|]/g, '\\$&')}' as`)) as unknown,
      ]);
    }
    expect(ipxeProblem(`b2c.container="docker://r/i:1 sh -c 'make&&make test; true'"`)).toBeUndefined();
  });

  it('reads YAML aliases, and takes no architecture from an object’s own properties', () => {
    const reading = readMachines(`default:\n  cmdline: &line ${good}\n"52:54:00:12:34:56":\n  cmdline: *line\n`, context);
    expect(reading.errors).toEqual([]);
    expect(reading.table.machines.get('52:54:00:12:34:56')?.cmdline).toBe(good);
    expect(readMachines(`default:\n  arch: constructor\n  cmdline: ${good}\n`, context).errors).toEqual([
      'default: arch constructor is not one of amd64, arm64, riscv64, armhf',
    ]);
  });

  it('names every wrong entry: key, field, arch, missing or multi-line cmdline, a machine twice', () => {
    const reading = readMachines(
      [
        `not-a-mac:\n  cmdline: ${good}`,
        `"52:54:00:12:34:56":\n  cmdline: ${good}\n  cmdlne: typo`,
        `"52:54:00:12:34:57":\n  arch: sparc\n  cmdline: ${good}`,
        `"52:54:00:12:34:58":\n  arch: amd64`,
        `"52:54:00:12:34:59":\n  cmdline: "a\\nb"`,
        `"52:54:00:12:34:5A":\n  cmdline: ${good}`,
        `52-54-00-12-34-5a:\n  cmdline: ${good}`,
        `"52:54:00:12:34:5b": just text`,
        `"52:54:00:12:34:5c":\n  cmdline: ${good}\n  initrd: []`,
      ].join('\n'),
      context,
    );
    expect(reading.errors).toEqual([
      'not-a-mac: neither default nor a MAC address such as 52:54:00:12:34:56',
      "52:54:00:12:34:56: unknown field 'cmdlne': the fields are cmdline, arch, kernel, initrd",
      '52:54:00:12:34:57: arch sparc is not one of amd64, arm64, riscv64, armhf',
      '52:54:00:12:34:58: no cmdline: give the kernel command line this machine boots with',
      '52:54:00:12:34:59: cmdline must be one line',
      '52-54-00-12-34-5a: the same machine as 52:54:00:12:34:5A, named twice',
      '52:54:00:12:34:5b: give a mapping with cmdline (and arch, kernel, initrd if needed)',
      "52:54:00:12:34:5c: initrd must be a file's path or a list of them",
    ]);
  });

  it('says when the file does not parse or names nothing', () => {
    expect(readMachines('default: [unclosed', context).errors[0]).toMatch(/^the file does not parse: /);
    expect(readMachines('a: 1\na: 2', context).errors[0]).toMatch(/^the file does not parse: /);
    expect(readMachines('', context).errors).toEqual(['the file names no machine: give a default entry or a MAC address']);
    expect(readMachines('- a list', context).errors).toEqual(['the file must be a mapping from MAC addresses (or default) to machine entries']);
  });
});
