import { describe, expect, it } from 'vitest';
import { splitKernelCmdline, splitShellWords } from '../../src/cmdline/split.ts';

describe('splitKernelCmdline', () => {
  it('splits on blanks and keeps double-quoted blanks, dropping the quotes', () => {
    expect(splitKernelCmdline('console=ttyS0  b2c.container="-ti docker://r/i:1 sh -c true" quiet\n')).toEqual({
      ok: true,
      words: ['console=ttyS0', 'b2c.container=-ti docker://r/i:1 sh -c true', 'quiet'],
    });
  });

  it('keeps single quotes for the second split', () => {
    expect(splitKernelCmdline(`b2c.container="docker://img sh -c 'echo hi; exit 3'"`)).toEqual({
      ok: true,
      words: [`b2c.container=docker://img sh -c 'echo hi; exit 3'`],
    });
  });

  it('rejects an unclosed double quote', () => {
    expect(splitKernelCmdline('b2c.container="docker://img')).toEqual({ ok: false, error: 'a double quote is not closed' });
  });

  it('gives no words for a blank line', () => {
    expect(splitKernelCmdline(' \t\n')).toEqual({ ok: true, words: [] });
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
