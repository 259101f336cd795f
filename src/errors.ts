// The error of b2c: a message a user can act on, with the cause kept behind it; anything else that is thrown is a bug.

export class B2cError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The message a user sees for an error: its own, then each cause's, so the root of the trouble shows. */
export function describeError(error: unknown): string {
  const lines: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 5; depth++) {
    lines.push(current instanceof Error ? current.message : typeof current === 'string' ? current : JSON.stringify(current));
    current = current instanceof Error ? current.cause : undefined;
  }
  return lines.join('\n  caused by: ');
}

/**
 * What the top of a program prints for an error it did not expect to end
 * there: a B2cError's messages, or, for anything else (a bug in b2c), the
 * stack too, so that the report says where it broke.
 */
export function describeFailure(error: unknown): string {
  if (error instanceof B2cError || !(error instanceof Error) || error.stack === undefined) return describeError(error);
  const stack = error.stack.includes(error.message) ? error.stack : `${error.name}: ${error.message}\n${error.stack}`;
  const cause = error.cause === undefined ? '' : `\n  caused by: ${describeError(error.cause)}`;
  return `unexpected error (a bug in b2c, please report it):\n${stack.trimEnd()}${cause}`;
}
