// The kernel's modules.softdep, as the builder (to ship a module's soft dependencies) and /init (to load them first) read it.

export interface SoftDependencies {
  /** Modules to load before the module. */
  pre: string[];
  /** Modules to load after it. */
  post: string[];
}

/**
 * The words of one line of an index file. Split on spaces rather than
 * /\s+/: QuickJS runs the regular expression ten times slower, and
 * modules.alias has a line per alias.
 */
export function indexLineWords(line: string): string[] {
  return line
    .trim()
    .replaceAll('\t', ' ')
    .split(' ')
    .filter((word) => word !== '');
}

/** The canonical form modprobe compares names in: dashes as underscores. */
export function canonicalModuleName(name: string): string {
  return name.replace(/-/g, '_');
}

/**
 * Reads `softdep MODULE pre: A B post: C` lines. As kmod does, names before
 * any `pre:` or `post:` are ignored; names that are aliases (`crypto-crc32c`)
 * stay as written, for modprobe to resolve.
 */
export function parseSoftDependencies(text: string): Map<string, SoftDependencies> {
  const softdeps = new Map<string, SoftDependencies>();
  for (const line of text.split('\n')) {
    const words = indexLineWords(line);
    if (words[0] !== 'softdep' || words[1] === undefined) continue;
    const module = canonicalModuleName(words[1]);
    const entry = softdeps.get(module) ?? { pre: [], post: [] };
    let list: string[] | undefined;
    for (const word of words.slice(2)) {
      if (word === 'pre:') list = entry.pre;
      else if (word === 'post:') list = entry.post;
      else list?.push(word);
    }
    softdeps.set(module, entry);
  }
  return softdeps;
}
