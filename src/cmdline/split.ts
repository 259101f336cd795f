// The ways a b2c command line is cut into words: the kernel's (and the extra arguments' file, line by line), then a POSIX shell's without expansion.

export type SplitResult = { ok: true; words: string[] } | { ok: false; error: string };

const BLANKS = new Set([' ', '\t', '\n', '\r', '\v', '\f']);

/** The words of a command line, and the lines (from 1) where a double quote was left open: its value ran to the end of the line. */
export interface CmdlineWords {
  words: string[];
  openQuoteLines: number[];
}

/**
 * Splits a kernel command line on blanks outside double quotes and drops the
 * quotes, as the kernel does when it hands parameters to init. A quote left
 * open takes the rest of the line into its value, as the kernel's parser does.
 */
export function splitKernelCmdline(line: string): CmdlineWords {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quoted = false;
  for (const char of line) {
    if (char === '"') {
      quoted = !quoted;
      inWord = true;
    } else if (!quoted && BLANKS.has(char)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += char;
      inWord = true;
    }
  }
  if (inWord) words.push(quoted ? word.replace(/\s+$/, '') : word);
  return { words, openQuoteLines: quoted ? [1] : [] };
}

/**
 * Splits the text of b2c.extra_args_url line by line, as upstream reads it:
 * a line whose first word starts with `#` is a comment (ci-tron's files start
 * with `#!jinja2`), and a double quote ends with its line at the latest.
 */
export function splitArgumentsFile(text: string): CmdlineWords & { comments: number } {
  const words: string[] = [];
  const openQuoteLines: number[] = [];
  let comments = 0;
  text.split('\n').forEach((line, index) => {
    if (/^\s*#/.test(line)) {
      comments++;
      return;
    }
    const split = splitKernelCmdline(line);
    words.push(...split.words);
    if (split.openQuoteLines.length > 0) openQuoteLines.push(index + 1);
  });
  return { words, openQuoteLines, comments };
}

// Inside double quotes a backslash only escapes these, as in a POSIX shell.
const DOUBLE_QUOTE_ESCAPES = new Set(['$', '`', '"', '\\', '\n']);

/**
 * Splits container ARGS into an argv the way a POSIX shell splits words
 * (single quotes, double quotes, backslashes), with no expansion of any kind:
 * `$HOME`, `*` and `$(cmd)` stay as written.
 */
export function splitShellWords(text: string): SplitResult {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let state: 'plain' | 'single' | 'double' = 'plain';
  const chars = [...text];
  for (let i = 0; i < chars.length; i++) {
    const char = chars[i] as string;
    if (state === 'single') {
      if (char === "'") state = 'plain';
      else word += char;
    } else if (state === 'double') {
      if (char === '"') {
        state = 'plain';
      } else if (char === '\\' && i + 1 < chars.length && DOUBLE_QUOTE_ESCAPES.has(chars[i + 1] as string)) {
        i++;
        if (chars[i] !== '\n') word += chars[i];
      } else {
        word += char;
      }
    } else if (char === "'") {
      state = 'single';
      inWord = true;
    } else if (char === '"') {
      state = 'double';
      inWord = true;
    } else if (char === '\\') {
      if (i + 1 >= chars.length) return { ok: false, error: 'a backslash ends the text with nothing to escape' };
      i++;
      // A backslash-newline is a line continuation: it vanishes.
      if (chars[i] !== '\n') {
        word += chars[i];
        inWord = true;
      }
    } else if (BLANKS.has(char)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += char;
      inWord = true;
    }
  }
  if (state === 'single') return { ok: false, error: 'a single quote is not closed' };
  if (state === 'double') return { ok: false, error: 'a double quote is not closed' };
  if (inWord) words.push(word);
  return { ok: true, words };
}
