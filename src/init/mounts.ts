// Reads /proc/mounts to unmount a tree of mounts (overlay layers below podman's storage) deepest first.

/** Unescapes the octal escapes /proc/mounts uses for blanks and backslashes in paths. */
function unescapeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** Mount points at or below any of `roots`, in the order to unmount them: the last mounted and deepest first. */
export function unmountOrder(procMounts: string, roots: readonly string[]): string[] {
  const targets: string[] = [];
  for (const line of procMounts.split('\n')) {
    const target = line.split(' ')[1];
    if (target === undefined) continue;
    const path = unescapeMountPath(target);
    if (roots.some((root) => path === root || path.startsWith(`${root}/`))) targets.push(path);
  }
  // Later mounts can stack on earlier ones: reverse mount order, then deeper paths first.
  return targets
    .map((path, index) => ({ path, index }))
    .sort((a, b) => b.path.split('/').length - a.path.split('/').length || b.index - a.index)
    .map((entry) => entry.path);
}
