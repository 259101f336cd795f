// Option readers several b2c commands share.

/** Collects a repeatable option's values as given, in order. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
