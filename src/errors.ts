// The one error class of b2c: a message a user can act on, and the cause kept behind it.

export class B2cError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}
