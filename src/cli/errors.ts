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
