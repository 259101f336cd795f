// /init: PID 1 of the initramfs. Catches everything, reports a status, and always ends in a shutdown, never an exit.

import * as os from 'os';
import { quickjsSystem, reapChildren } from '../system/quickjs.ts';
import { Boot } from './boot.ts';

async function main(): Promise<never> {
  const boot = new Boot(quickjsSystem, B2C_VERSION);
  // Orphans re-parented to PID 1 are reaped as they end, their statuses kept for whoever waits.
  os.signal(os.SIGCHLD, reapChildren);
  try {
    await boot.run();
  } catch (error) {
    await boot.recover(error);
  }
  return boot.shutdown();
}

void main();
