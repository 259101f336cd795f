import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { waitBounds, waitBoundsTable } from '../../src/init/waits.ts';

describe('the table of waits', () => {
  it('is in docs/faults.md as the constants the init runs with make it', () => {
    // When a bound changes, paste the table the test prints into docs/faults.md.
    expect(readFileSync('docs/faults.md', 'utf8'), `docs/faults.md should hold:\n${waitBoundsTable()}`).toContain(waitBoundsTable());
  });

  it('names each wait once, with a bound in seconds', () => {
    const waits = waitBounds().map(([wait]) => wait);
    expect(new Set(waits).size).toBe(waits.length);
    for (const [wait, bound] of waitBounds()) expect(bound, wait).toMatch(/\d+ s/);
  });
});
