// The one error the init catches by type: a setup step that ends the boot before any container runs.

import { B2cError } from '../errors.ts';

/** The machine cannot be set up as the command line asks (no network, no extra arguments): no container runs, status 1. */
export class SetupError extends B2cError {}
