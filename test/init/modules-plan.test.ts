import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { globMatches, indexAliases, modulesForDevices, parseModulesAlias } from '../../src/init/modules-plan.ts';

const MODULES_ALIAS = `# Aliases extracted from modules themselves.
alias pci:v00008086d000015B7sv*sd*bc*sc*i* e1000e
alias pci:v000010ECd00008168sv*sd*bc*sc*i* r8169
alias pci:v*d*sv*sd*bc01sc08i02* nvme
alias virtio:d00000001v* virtio_net
alias usb:v0BDAp8153d*dc*dsc*dp*ic*isc*ip*in* r8152
alias fs-ext4 ext4
`;

describe('modules.alias', () => {
  it('reads the alias lines and skips comments', () => {
    const aliases = parseModulesAlias(MODULES_ALIAS);
    expect(aliases).toHaveLength(6);
    expect(aliases[1]).toEqual({ pattern: 'pci:v000010ECd00008168sv*sd*bc*sc*i*', module: 'r8169' });
    // Tabs and runs of spaces separate words as well, as in a file written by hand.
    expect(parseModulesAlias('alias\tvirtio:d00000004v*   virtio_rng\r\nalias too many words\n')).toEqual([
      { pattern: 'virtio:d00000004v*', module: 'virtio_rng' },
    ]);
  });

  it('picks the drivers of a machine with an Intel NIC and an NVMe disk, once each', () => {
    const aliases = parseModulesAlias(MODULES_ALIAS);
    const devices = [
      'pci:v00008086d000015B7sv00008086sd00000000bc02sc00i00',
      'pci:v0000144Dd0000A808sv0000144Dsd0000A801bc01sc08i02',
      'pci:v0000144Dd0000A808sv0000144Dsd0000A801bc01sc08i02',
      'acpi:PNP0A08:',
    ];
    expect(modulesForDevices(indexAliases(aliases), devices)).toEqual(['e1000e', 'nvme']);
    expect(modulesForDevices(indexAliases(aliases), ['pci:v00008086d000015B8sv00008086sd00000000bc02sc00i00'])).toEqual([]);
  });
});

describe('the alias index', () => {
  it('files a pattern under a literal run, never under a class', () => {
    // `]` is the class's first member here, so `*01ci:` is a text the pattern matches, though it has no `]01ci:`.
    const index = indexAliases([{ pattern: '[]*]01ci:', module: 'a' }]);
    expect(modulesForDevices(index, ['*01ci:'])).toEqual(['a']);
    expect(modulesForDevices(index, [']01ci:'])).toEqual(['a']);
    expect(modulesForDevices(index, ['x01ci:'])).toEqual([]);
  });

  it('finds device-tree drivers by the compatible strings after the first', () => {
    const index = indexAliases(
      parseModulesAlias('alias of:N*T*Csnps,dwmac-5.10a dwmac_generic\nalias of:N*T*Cnxp,imx8mp-dwmac-eqosC* dwmac_imx\nalias of:N*T*Cfsl,imx6sx-fec fec\n'),
    );
    expect(modulesForDevices(index, ['of:NethernetT(null)Cnxp,imx8mp-dwmac-eqosCsnps,dwmac-5.10a'])).toEqual(['dwmac_generic', 'dwmac_imx']);
    expect(modulesForDevices(index, ['of:NethernetT(null)Cfsl,imx8mp-fecCfsl,imx8mq-fecCfsl,imx6sx-fec'])).toEqual(['fec']);
  });
});

describe('modulesForDevices against every pair matched one by one', () => {
  it('finds the same modules in the same order', () => {
    // Literal runs long enough to be indexed, and classes that hide `*`, `?` and `]` inside them.
    const piece = fc.constantFrom('p', 'c', 'i', ':', 'v', '1', 'pci:v0', '01ci:p', '*', '?', '[0-1]', '[!1]', '[]*]', '[^?p]', '[');
    const pattern = fc.array(piece, { maxLength: 10 }).map((pieces) => pieces.join(''));
    const alias = fc.record({ pattern, module: fc.constantFrom('a', 'b', 'c', 'd') });
    // Texts that one of the pieces' patterns matches: random texts almost never contain a six-character run.
    const matchingText: Record<string, fc.Arbitrary<string>> = {
      '*': fc.constantFrom('', 'v0', 'pci:', 'i:p01'),
      '?': fc.constantFrom('c', '1'),
      '[0-1]': fc.constantFrom('0', '1'),
      '[!1]': fc.constantFrom('0', 'p'),
      '[]*]': fc.constantFrom(']', '*'),
      '[^?p]': fc.constantFrom('c', '?'),
    };
    const instance = fc
      .array(piece, { maxLength: 10 })
      .chain((pieces) => fc.tuple(...pieces.map((item) => matchingText[item] ?? fc.constant(item))).map((texts) => texts.join('')));
    const device = fc.oneof(fc.stringMatching(/^[pci:v01*?\][]{0,24}$/), instance);
    fc.assert(
      fc.property(fc.array(alias, { maxLength: 8 }), fc.array(device, { maxLength: 5 }), (aliases, devices) => {
        const naive: string[] = [];
        for (const device of devices)
          for (const item of aliases) if (!naive.includes(item.module) && globMatches(item.pattern, device)) naive.push(item.module);
        expect(modulesForDevices(indexAliases(aliases), devices)).toEqual(naive);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('globMatches', () => {
  it.each([
    ['abc', 'abc', true],
    ['a*c', 'abbbc', true],
    ['a*c', 'abbbd', false],
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['*', '', true],
    ['[ab]x', 'bx', true],
    ['[!ab]x', 'bx', false],
    ['[a-c]x', 'cx', true],
    ['[]]', ']', true],
    ['a[', 'a[', true],
    ['v*d*sv*sd*', 'v1d2sv3sd4', true],
  ])('%s against %s', (pattern, text, expected) => {
    expect(globMatches(pattern, text)).toBe(expected);
  });

  it('agrees with a regular expression on patterns of literals, ? and *', () => {
    const piece = fc.constantFrom('a', 'b', ':', '*', '?');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), fc.stringMatching(/^[ab:]{0,14}$/), (pieces, text) => {
        const pattern = pieces.join('');
        const regex = new RegExp(`^${pieces.map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char)).join('')}$`, 's');
        expect(globMatches(pattern, text)).toBe(regex.test(text));
      }),
      { numRuns: 3000 },
    );
  });
});
