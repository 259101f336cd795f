// /init: PID 1 of the initramfs. Catches everything, reports a status, and always ends in a shutdown, never an exit.

import * as os from 'os';
import { onChildExit, quickjsSystem } from '../system/quickjs.ts';
import { runInit } from './boot.ts';

// Orphans re-parented to PID 1 are reaped as they end, their statuses kept for whoever waits; a wait for a program's end wakes.
os.signal(os.SIGCHLD, onChildExit);
void runInit(quickjsSystem, B2C_VERSION);
