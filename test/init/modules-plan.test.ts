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

describe('modulesForDevices against every pair matched one by one', () => {
  it('finds the same modules in the same order', () => {
    const pattern = fc.array(fc.constantFrom('p', 'c', 'i', ':', 'v', '1', '*', '?', '[0-1]'), { maxLength: 8 }).map((pieces) => pieces.join(''));
    const alias = fc.record({ pattern, module: fc.constantFrom('a', 'b', 'c', 'd') });
    fc.assert(
      fc.property(fc.array(alias, { maxLength: 8 }), fc.array(fc.stringMatching(/^[pci:v01]{0,10}$/), { maxLength: 5 }), (aliases, devices) => {
        const naive: string[] = [];
        for (const device of devices)
          for (const item of aliases) if (!naive.includes(item.module) && globMatches(item.pattern, device)) naive.push(item.module);
        expect(modulesForDevices(indexAliases(aliases), devices)).toEqual(naive);
      }),
      { numRuns: 2000 },
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
