import { describe, expect, it } from 'vitest';
import { debFileName, parseAptSimulation, privateAptConfig } from '../../src/debian/apt.ts';

describe('private apt', () => {
  it('keeps every apt folder inside its own root', () => {
    const config = privateAptConfig('/cache/apt/trixie-amd64', 'amd64');
    for (const key of [
      'Dir::State',
      'Dir::State::status',
      'Dir::Cache',
      'Dir::Etc',
      'Dir::Etc::SourceList',
      'Dir::Etc::SourceParts',
      'Dir::Etc::Parts',
      'Dir::Log',
    ]) {
      expect(config).toMatch(new RegExp(`^${key} "/cache/apt/trixie-amd64/`, 'm'));
    }
    expect(config).toContain('Dir::Etc::main "/dev/null";');
    expect(config).toContain('APT::Architecture "amd64";');
  });

  it('reads apt simulation lines, with or without an installed version', () => {
    const output = [
      'NOTE: This is only a simulation!',
      'Inst libc6 (2.41-12+deb13u5 Debian:13.8/stable [amd64])',
      'Inst busybox-static (1:1.37.0-6+b9 Debian:13.8/stable [amd64])',
      'Inst ca-certificates [20230311] (20250419+deb13u1 Debian:13.8/stable [all])',
      'Conf libc6 (2.41-12+deb13u5 Debian:13.8/stable [amd64])',
    ].join('\n');
    expect(parseAptSimulation(output)).toEqual([
      { name: 'libc6', version: '2.41-12+deb13u5', arch: 'amd64' },
      { name: 'busybox-static', version: '1:1.37.0-6+b9', arch: 'amd64' },
      { name: 'ca-certificates', version: '20250419+deb13u1', arch: 'all' },
    ]);
  });

  it('names downloads as apt does, with the epoch colon escaped', () => {
    expect(debFileName({ name: 'busybox-static', version: '1:1.37.0-6+b9', arch: 'amd64' })).toBe('busybox-static_1%3a1.37.0-6+b9_amd64.deb');
  });
});
