import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { excludePattern, planMirror, type MirrorEntry } from '../../src/s3/mirror-plan.ts';

const entry = (path: string, size = 1, modified = 1000): MirrorEntry => ({ path, size, modified });
const options = { overwrite: false, remove: false, exclude: [] as string[] };

describe('planMirror', () => {
  it('copies what the target lacks, and leaves equal entries alone', () => {
    expect(planMirror([entry('a'), entry('dir/b')], [entry('a')], options)).toEqual({ copy: ['dir/b'], remove: [], kept: [] });
  });

  it('copies a differing entry only with overwrite, and says which it kept', () => {
    const source = [entry('size', 2), entry('newer', 1, 2000), entry('older', 1, 500)];
    const target = [entry('size', 1), entry('newer', 1, 1000), entry('older', 1, 1000)];
    expect(planMirror(source, target, options)).toEqual({ copy: [], remove: [], kept: ['newer', 'size'] });
    expect(planMirror(source, target, { ...options, overwrite: true }).copy).toEqual(['newer', 'size']);
  });

  it('compares times in whole seconds, as Last-Modified carries no milliseconds', () => {
    expect(planMirror([entry('a', 1, 5_900)], [entry('a', 1, 5_000)], { ...options, overwrite: true }).copy).toEqual([]);
    expect(planMirror([entry('a', 1, 6_000)], [entry('a', 1, 5_999)], { ...options, overwrite: true }).copy).toEqual(['a']);
  });

  it('deletes what the source lacks only with remove, and never what is excluded', () => {
    const target = [entry('stale'), entry('cache/keep.bin')];
    expect(planMirror([], target, options).remove).toEqual([]);
    expect(planMirror([], target, { ...options, remove: true, exclude: ['cache'] }).remove).toEqual(['stale']);
  });

  it('neither copies nor deletes excluded paths', () => {
    const plan = planMirror([entry('run.log'), entry('out/run.log'), entry('out/result.json')], [], { ...options, exclude: ['*.log'] });
    expect(plan.copy).toEqual(['out/result.json']);
  });

  it('after a plan with overwrite and remove, the target holds exactly the source, less the excluded', () => {
    const entries = fc.array(
      fc.record({
        path: fc.constantFrom('a', 'b', 'x/c', 'x/d.log', 'y/z/e'),
        size: fc.integer({ min: 0, max: 3 }),
        modified: fc.integer({ min: 0, max: 3 }).map((second) => second * 1000),
      }),
      { maxLength: 6 },
    );
    fc.assert(
      fc.property(entries, entries, (rawSource, rawTarget) => {
        const unique = (list: MirrorEntry[]): MirrorEntry[] => [...new Map(list.map((item) => [item.path, item])).values()];
        const source = unique(rawSource);
        const target = unique(rawTarget);
        const plan = planMirror(source, target, { overwrite: true, remove: true, exclude: ['*.log'] });
        const result = new Map(target.filter((item) => !plan.remove.includes(item.path)).map((item) => [item.path, item]));
        for (const path of plan.copy) result.set(path, source.find((item) => item.path === path) as MirrorEntry);
        const kept = [...result.values()].filter((item) => !item.path.endsWith('.log'));
        const wanted = source.filter((item) => !item.path.endsWith('.log'));
        expect(kept.map((item) => item.path).sort()).toEqual(wanted.map((item) => item.path).sort());
        for (const item of kept) expect(item.size).toBe(wanted.find((other) => other.path === item.path)?.size);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('excludePattern', () => {
  it.each([
    ['*.log', 'run.log', true],
    ['*.log', 'out/run.log', true],
    ['*.log', 'run.log.gz', false],
    ['cache', 'cache/x/y', true],
    ['cache', 'mycache/x', false],
    ['out/*.json', 'out/a.json', true],
    ['out/*.json', 'out/sub/a.json', false],
    ['out/**.json', 'out/sub/a.json', true],
    ['a?c', 'abc', true],
    ['a.c', 'abc', false],
  ])('%s against %s', (pattern, path, expected) => {
    expect(excludePattern(pattern).test(path)).toBe(expected);
  });
});
