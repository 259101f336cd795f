// The two ways a b2c command line is cut into words: the kernel's, then a POSIX shell's without expansion.

export type SplitResult = { ok: true; words: string[] } | { ok: false; error: string };

const BLANKS = new Set([' ', '\t', '\n', '\r', '\v', '\f']);

/**
 * Splits a kernel command line on blanks outside double quotes and drops the
 * quotes, as the kernel does when it hands parameters to init.
 */
export function splitKernelCmdline(line: string): SplitResult {
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
  if (quoted) return { ok: false, error: 'a double quote is not closed' };
  if (inWord) words.push(word);
  return { ok: true, words };
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
