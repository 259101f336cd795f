import { describe, expect, it } from 'vitest';
import { fileTimesTable } from './file-times.ts';
import { longestFirst } from './sequencer.ts';

describe('fileTimesTable', () => {
  it('lists the files slowest first, marks those that did not pass, and ends with the setup and the total', () => {
    const table = fileTimesTable(
      [
        { file: 'test/a.test.ts', project: 'unit', seconds: 1.25, state: 'passed' },
        { file: 'test/e2e/b.test.ts', project: 'e2e', seconds: 300, state: 'failed' },
        { file: 'test/c.test.ts', project: 'integration', seconds: 12, state: 'passed' },
      ],
      600.04,
      150,
    ).split('\n');
    expect(table[2]).toMatch(/^ +300\.0 +e2e +test\/e2e\/b\.test\.ts +failed$/);
    expect(table[3]).toMatch(/^ +12\.0 +integration +test\/c\.test\.ts$/);
    expect(table[4]).toMatch(/^ +1\.3 +unit +test\/a\.test\.ts$/);
    expect(table[5]).toMatch(/^ +150\.0 +global setup/);
    expect(table.at(-1)).toMatch(/^ +600\.0 +total$/);
  });
});

describe('longestFirst', () => {
  it('puts the files with no recorded time first, then the others longest first', () => {
    const seconds = { 'test/e2e/a.test.ts': 100, 'test/e2e/b.test.ts': 300, 'test/c.test.ts': 1 };
    expect(longestFirst(['test/c.test.ts', 'test/e2e/a.test.ts', 'test/e2e/new.test.ts', 'test/e2e/b.test.ts'], (name) => name, seconds)).toEqual([
      'test/e2e/new.test.ts',
      'test/e2e/b.test.ts',
      'test/e2e/a.test.ts',
      'test/c.test.ts',
    ]);
  });
});
