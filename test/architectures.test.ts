import { describe, expect, it } from 'vitest';
import { parseArchitectureList } from '../src/architectures.ts';

describe('architectures', () => {
  it('reads a list, all, and each name once in the order given', () => {
    expect(parseArchitectureList('amd64').map((arch) => arch.debian)).toEqual(['amd64']);
    expect(parseArchitectureList('riscv64,arm64,riscv64').map((arch) => arch.debian)).toEqual(['riscv64', 'arm64']);
    expect(parseArchitectureList('all').map((arch) => arch.debian)).toEqual(['amd64', 'arm64', 'riscv64', 'armhf']);
  });

  it('names the architectures it builds when given one it does not', () => {
    expect(() => parseArchitectureList('amd64,mips')).toThrow('unknown architecture mips: this b2c builds amd64, arm64, riscv64, armhf');
  });
});
