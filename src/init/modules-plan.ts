// Matches the devices' modaliases against modules.alias, so the drivers for the machine's hardware load without being named.

import { indexLineWords } from '../module-index.ts';

export interface ModuleAlias {
  /** A glob as modules.alias writes it: `*`, `?` and `[...]` classes. */
  pattern: string;
  module: string;
}

/** Reads the `alias PATTERN MODULE` lines of modules.alias; anything else is skipped. */
export function parseModulesAlias(text: string): ModuleAlias[] {
  const aliases: ModuleAlias[] = [];
  for (const line of text.split('\n')) {
    const words = indexLineWords(line);
    if (words.length === 3 && words[0] === 'alias') aliases.push({ pattern: words[1] as string, module: words[2] as string });
  }
  return aliases;
}

/** fnmatch(3) without flags, as modprobe matches aliases: `*` and `?` cross every character, `[!...]` negates. */
export function globMatches(pattern: string, text: string): boolean {
  // Iterative with one backtrack point for the last `*`: alias patterns have many stars, and recursion would be exponential.
  let p = 0;
  let t = 0;
  let starPattern = -1;
  let starText = 0;
  while (t < text.length) {
    const step = p < pattern.length ? matchOne(pattern, p, text[t] as string) : undefined;
    if (p < pattern.length && pattern[p] === '*') {
      starPattern = p++;
      starText = t;
    } else if (step !== undefined && step.matched) {
      p = step.next;
      t++;
    } else if (starPattern !== -1) {
      p = starPattern + 1;
      t = ++starText;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

/** Whether the pattern element at `p` matches `char`, and where the next element starts. */
function matchOne(pattern: string, p: number, char: string): { matched: boolean; next: number } {
  const element = pattern[p];
  if (element === '?') return { matched: true, next: p + 1 };
  if (element === '[') {
    let index = p + 1;
    const negated = pattern[index] === '!' || pattern[index] === '^';
    if (negated) index++;
    let matched = false;
    let first = true;
    while (index < pattern.length && (pattern[index] !== ']' || first)) {
      first = false;
      const low = pattern[index] as string;
      if (pattern[index + 1] === '-' && index + 2 < pattern.length && pattern[index + 2] !== ']') {
        if (char >= low && char <= (pattern[index + 2] as string)) matched = true;
        index += 3;
      } else {
        if (char === low) matched = true;
        index++;
      }
    }
    // An unclosed bracket is an ordinary character, as fnmatch takes it.
    if (index >= pattern.length) return { matched: char === '[', next: p + 1 };
    return { matched: matched !== negated, next: index + 1 };
  }
  return { matched: element === char, next: p + 1 };
}

/** An alias with its pattern's literal start, found once for every pass of coldplug. */
export interface IndexedAlias extends ModuleAlias {
  prefix: string;
}

/**
 * The aliases ready for matching: a pattern's literal start rules out nearly
 * every pair before any glob runs. Coldplug matches on every pass and again
 * while it waits for a disk, under emulation too, so this is done once.
 */
export function indexAliases(aliases: readonly ModuleAlias[]): IndexedAlias[] {
  return aliases.map((alias) => ({ ...alias, prefix: alias.pattern.slice(0, alias.pattern.search(/[*?[]|$/)) }));
}

/** The modules whose aliases match any of the modaliases, each once, in the order they are first needed. */
export function modulesForDevices(aliases: readonly IndexedAlias[], modaliases: readonly string[]): string[] {
  const modules: string[] = [];
  for (const modalias of modaliases) {
    for (const alias of aliases) {
      if (modalias.startsWith(alias.prefix) && !modules.includes(alias.module) && globMatches(alias.pattern, modalias)) modules.push(alias.module);
    }
  }
  return modules;
}
