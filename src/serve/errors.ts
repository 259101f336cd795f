// The error of `b2c serve`: something to fix before the gateway can serve, said as one message.

import { B2cError } from '../errors.ts';

export class ServeError extends B2cError {}
