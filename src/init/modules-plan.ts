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
    // depmod writes single spaces: one native split, where indexLineWords (for any other spacing) costs four passes.
    const plain = line.split(' ');
    const words = plain.length === 3 && plain[1] !== '' && plain[2] !== '' && !line.includes('\t') && !line.endsWith('\r') ? plain : indexLineWords(line);
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

/** How many characters of a pattern's literal run file it in the index: long enough that few patterns share a bucket. */
const ANCHOR_LENGTH = 6;

/** An alias with its place in modules.alias, which decides the order modules load in. */
export interface IndexedAlias extends ModuleAlias {
  order: number;
}

/**
 * The aliases ready for matching, built once for every pass of coldplug (it
 * runs again while waiting for a disk or a network card). Any text a pattern
 * matches contains each of the pattern's literal runs, so a pattern is filed
 * under ANCHOR_LENGTH characters of one of them, and a modalias is compared
 * only with the patterns filed under one of its substrings. Device-tree
 * patterns (`of:N*T*Cfsl,imx8mp-fec`) share their literal start, so an index
 * by prefix would not narrow them: a board has hundreds of nodes, and the
 * image and its add-ons together thousands of such patterns.
 */
export interface AliasIndex {
  byAnchor: Map<string, IndexedAlias[]>;
  /** Patterns with no literal run that long, compared with every modalias. */
  unanchored: IndexedAlias[];
}

export function indexAliases(aliases: readonly ModuleAlias[]): AliasIndex {
  const index: AliasIndex = { byAnchor: new Map(), unanchored: [] };
  // A plain loop and object literal: under QuickJS, entries() and a spread made this the costliest step of coldplug.
  for (let order = 0; order < aliases.length; order++) {
    const { pattern, module } = aliases[order] as ModuleAlias;
    const run = longestLiteralRun(pattern);
    const entry: IndexedAlias = { pattern, module, order };
    if (run.length < ANCHOR_LENGTH) {
      index.unanchored.push(entry);
      continue;
    }
    // A run's end tells patterns apart better than its start: `pci:v0000` starts every PCI pattern, `8168sv` ends one.
    const anchor = run.slice(-ANCHOR_LENGTH);
    const bucket = index.byAnchor.get(anchor);
    if (bucket === undefined) index.byAnchor.set(anchor, [entry]);
    else bucket.push(entry);
  }
  return index;
}

/** The longest stretch of a pattern that has no `*`, `?` or `[...]`, which every text it matches contains as it is. */
function longestLiteralRun(pattern: string): string {
  // Most patterns have stars and no classes: splitting is native, where a loop over characters is interpreted.
  if (!pattern.includes('[')) {
    let longest = '';
    for (const piece of pattern.split('*')) {
      if (piece.length <= longest.length) continue;
      for (const run of piece.includes('?') ? piece.split('?') : [piece]) if (run.length > longest.length) longest = run;
    }
    return longest;
  }
  let longest = '';
  let start = 0;
  let index = 0;
  while (index <= pattern.length) {
    const char = pattern[index];
    if (char === undefined || char === '*' || char === '?' || char === '[') {
      if (index - start > longest.length) longest = pattern.slice(start, index);
      // As globMatches reads a class: `!` or `^` negates, the first member may be `]`. What follows an unclosed `[` is left unindexed.
      if (char === '[') {
        const first = pattern[index + 1] === '!' || pattern[index + 1] === '^' ? index + 2 : index + 1;
        const close = pattern.indexOf(']', first + 1);
        index = close === -1 ? pattern.length : close;
      }
      start = index + 1;
    }
    index++;
  }
  return longest;
}

/** The modules whose aliases match any of the modaliases, each once, in the order they are first needed. */
export function modulesForDevices(index: AliasIndex, modaliases: readonly string[]): string[] {
  const modules: string[] = [];
  for (const modalias of modaliases) {
    const candidates = [...index.unanchored];
    const anchors = new Set<string>();
    for (let start = 0; start + ANCHOR_LENGTH <= modalias.length; start++) anchors.add(modalias.slice(start, start + ANCHOR_LENGTH));
    for (const anchor of anchors) candidates.push(...(index.byAnchor.get(anchor) ?? []));
    candidates.sort((a, b) => a.order - b.order);
    for (const alias of candidates) if (!modules.includes(alias.module) && globMatches(alias.pattern, modalias)) modules.push(alias.module);
  }
  return modules;
}
