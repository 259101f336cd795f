import { describe, expect, it } from 'vitest';
import { normalizeMac } from '../src/mac.ts';

describe('normalizeMac', () => {
  it('takes colons or dashes in any case, and nothing else', () => {
    expect(normalizeMac('52:54:00:AB:cd:01')).toBe('52:54:00:ab:cd:01');
    expect(normalizeMac('52-54-00-ab-cd-01')).toBe('52:54:00:ab:cd:01');
    for (const bad of ['52:54:00:ab:cd', '52:54-00:ab:cd:01', '52:54:00:ab:cd:0g', '525400abcd01', 'default']) expect(normalizeMac(bad)).toBeUndefined();
  });
});
