// Plans one mirror of a volume: what to copy and what to delete so that the target matches the source, as b2c.volume's options ask.

export interface MirrorEntry {
  /** Relative path with `/` separators, no leading slash. */
  path: string;
  size: number;
  /** Milliseconds since the epoch. */
  modified: number;
}

export interface MirrorOptions {
  /** Copy over a target entry that differs from the source; without it, a differing entry is kept. */
  overwrite: boolean;
  /** Delete target entries the source does not have. */
  remove: boolean;
  /** Glob patterns on relative paths (`*` within a segment, `**` across, `?`): matching entries are neither copied nor deleted. */
  exclude: readonly string[];
}

export interface MirrorPlan {
  copy: string[];
  remove: string[];
  /** Entries that differ but stay, since overwrite is off. */
  kept: string[];
}

/** An exclude pattern as a regular expression over the whole relative path. */
export function excludePattern(pattern: string): RegExp {
  let source = '';
  for (let index = 0; index < pattern.length; index++) {
    const char = pattern[index] as string;
    if (char === '*' && pattern[index + 1] === '*') {
      source += '.*';
      index++;
    } else if (char === '*') {
      source += '[^/]*';
    } else if (char === '?') {
      source += '[^/]';
    } else {
      source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
  }
  // A pattern without a slash names a file or folder anywhere, as .gitignore does.
  return pattern.includes('/') ? new RegExp(`^${source}(/.*)?$`) : new RegExp(`(^|/)${source}(/.*)?$`);
}

/**
 * Two entries are the same when their sizes match and the target is not
 * older than the source: S3 keeps no local mtime, and an ETag is not always
 * an MD5, so size and time are what both sides can compare. Times count in
 * whole seconds: a download takes its time from Last-Modified, which has no
 * milliseconds, while the listing's LastModified may have them.
 */
function differs(source: MirrorEntry, target: MirrorEntry): boolean {
  return source.size !== target.size || Math.floor(source.modified / 1000) > Math.floor(target.modified / 1000);
}

export function planMirror(source: readonly MirrorEntry[], target: readonly MirrorEntry[], options: MirrorOptions): MirrorPlan {
  const excludes = options.exclude.map(excludePattern);
  const excluded = (path: string): boolean => excludes.some((pattern) => pattern.test(path));
  const targetByPath = new Map(target.map((entry) => [entry.path, entry]));
  const sourcePaths = new Set(source.map((entry) => entry.path));
  const plan: MirrorPlan = { copy: [], remove: [], kept: [] };
  for (const entry of [...source].sort((a, b) => (a.path < b.path ? -1 : 1))) {
    if (excluded(entry.path)) continue;
    const existing = targetByPath.get(entry.path);
    if (existing === undefined) plan.copy.push(entry.path);
    else if (differs(entry, existing)) (options.overwrite ? plan.copy : plan.kept).push(entry.path);
  }
  if (options.remove) {
    for (const entry of [...target].sort((a, b) => (a.path < b.path ? -1 : 1))) {
      if (!sourcePaths.has(entry.path) && !excluded(entry.path)) plan.remove.push(entry.path);
    }
  }
  return plan;
}
