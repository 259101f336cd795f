// The init's errors: an unexpected failure of the boot, and a setup step that ends the boot before any container runs.

import { B2cError } from '../errors.ts';

/** Something the init did not expect: reported, cleaned up after, and the machine still shuts down. */
export class BootError extends B2cError {}

/** The machine cannot be set up as the command line asks (no network, no extra arguments): no container runs, status 1. */
export class SetupError extends B2cError {}
