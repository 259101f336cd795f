import { describe, expect, it } from 'vitest';
import { splitArgumentsFile, splitKernelCmdline, splitShellWords } from '../../src/cmdline/split.ts';

describe('splitKernelCmdline', () => {
  it('splits on blanks and keeps double-quoted blanks, dropping the quotes', () => {
    expect(splitKernelCmdline('console=ttyS0  b2c.container="-ti docker://r/i:1 sh -c true" quiet\n')).toEqual({
      words: ['console=ttyS0', 'b2c.container=-ti docker://r/i:1 sh -c true', 'quiet'],
      openQuoteLines: [],
    });
  });

  it('keeps single quotes for the second split', () => {
    expect(splitKernelCmdline(`b2c.container="docker://img sh -c 'echo hi; exit 3'"`)).toEqual({
      words: [`b2c.container=docker://img sh -c 'echo hi; exit 3'`],
      openQuoteLines: [],
    });
  });

  it('gives a double quote left open the rest of the line, and says so', () => {
    expect(splitKernelCmdline('quiet b2c.container="docker://img sh -c true\n')).toEqual({
      words: ['quiet', 'b2c.container=docker://img sh -c true'],
      openQuoteLines: [1],
    });
  });

  it('gives no words for a blank line', () => {
    expect(splitKernelCmdline(' \t\n')).toEqual({ words: [], openQuoteLines: [] });
  });
});

describe('splitArgumentsFile', () => {
  it('reads line by line: comments are skipped, and a quote left open ends with its line', () => {
    const text = [
      '#!jinja2',
      '  # a comment, indented',
      'b2c.volume="job,mirror=job/jobs/42,exclude=" b2c.hostname=dut',
      'b2c.container="-ti docker://r/i:1 sh -c true',
      'b2c.pipefail',
      '',
    ].join('\n');
    expect(splitArgumentsFile(text)).toEqual({
      words: ['b2c.volume=job,mirror=job/jobs/42,exclude=', 'b2c.hostname=dut', 'b2c.container=-ti docker://r/i:1 sh -c true', 'b2c.pipefail'],
      openQuoteLines: [4],
      comments: 2,
    });
  });

  it('keeps a # inside a line: only a line that starts with one is a comment', () => {
    expect(splitArgumentsFile('b2c.container="docker://r/i:1 sh -c \'echo #1\'"').words).toEqual([`b2c.container=docker://r/i:1 sh -c 'echo #1'`]);
  });
});

describe('splitShellWords', () => {
  const cases: Array<[string, string[]]> = [
    [`sh -c 'echo hi; exit 3'`, ['sh', '-c', 'echo hi; exit 3']],
    [`echo "a  b" c`, ['echo', 'a  b', 'c']],
    [`echo a\\ b`, ['echo', 'a b']],
    [`echo 'it'\\''s'`, ['echo', "it's"]],
    [`echo "say \\"hi\\" \\n"`, ['echo', 'say "hi" \\n']],
    [`echo $HOME * $(reboot) \`id\``, ['echo', '$HOME', '*', '$(reboot)', '`id`']],
    [`echo '' ""`, ['echo', '', '']],
    [`a'b'"c"d`, ['abcd']],
  ];
  it.each(cases)('splits %s', (text, words) => {
    expect(splitShellWords(text)).toEqual({ ok: true, words });
  });

  it('rejects unclosed quotes and a trailing backslash', () => {
    expect(splitShellWords(`sh -c 'echo`)).toEqual({ ok: false, error: 'a single quote is not closed' });
    expect(splitShellWords(`sh -c "echo`)).toEqual({ ok: false, error: 'a double quote is not closed' });
    expect(splitShellWords('echo \\')).toMatchObject({ ok: false });
  });
});
