import { describe, expect, it } from 'vitest';
import { replaceSection } from '../../src/bench-report/report.ts';

const report = '# b2c benchmark results\n\nRun on a day.\n\n## Size\n\nold size\n\n## Netboot\n\nold netboot\n';

describe('replaceSection', () => {
  it('replaces the section of the same heading and keeps the others where they were', () => {
    expect(replaceSection(report, '## Size\n\nnew size\n')).toBe(
      '# b2c benchmark results\n\nRun on a day.\n\n## Size\n\nnew size\n\n## Netboot\n\nold netboot\n',
    );
    expect(replaceSection(report, '## Netboot\n\nnew netboot')).toBe(
      '# b2c benchmark results\n\nRun on a day.\n\n## Size\n\nold size\n\n## Netboot\n\nnew netboot\n',
    );
  });

  it('adds a new section at the end, or first when it is the headline', () => {
    expect(replaceSection(report, '## Cuts\n\ncuts\n')).toBe(`${report}\n## Cuts\n\ncuts\n`);
    expect(replaceSection(report, '## Instructions\n\ncounts\n', true)).toBe(
      '# b2c benchmark results\n\nRun on a day.\n\n## Instructions\n\ncounts\n\n## Size\n\nold size\n\n## Netboot\n\nold netboot\n',
    );
  });

  it('does not take a heading that only starts like the section for it', () => {
    const withLonger = '# r\n\n## Sizes of add-ons\n\nkept\n';
    expect(replaceSection(withLonger, '## Size\n\nnew\n')).toBe('# r\n\n## Sizes of add-ons\n\nkept\n\n## Size\n\nnew\n');
  });
});
