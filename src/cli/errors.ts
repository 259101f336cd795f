// How a b2c command ends: an ExitError carries the exit status; anything else is a failure with a message.

import { B2cError } from '../errors.ts';

export class ExitError extends B2cError {
  constructor(
    readonly code: number,
    message = `exit status ${code}`,
  ) {
    super(message);
  }
}

/** The message a user sees for an error: its own, then each cause's, so the root of the trouble shows. */
export function describeError(error: unknown): string {
  const lines: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 5; depth++) {
    lines.push(current instanceof Error ? current.message : String(current));
    current = current instanceof Error ? current.cause : undefined;
  }
  return lines.join('\n  caused by: ');
}
