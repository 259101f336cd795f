// /init: PID 1 of the initramfs. Catches everything, reports a status, and always ends in a shutdown, never an exit.

import { quickjsSystem, reapChildren } from '../system/quickjs.ts';
import { Boot, type BootOutcome } from './boot.ts';
import * as os from 'os';

async function main(): Promise<never> {
  const boot = new Boot(quickjsSystem, B2C_VERSION);
  // Orphans re-parented to PID 1 are reaped as they end, their statuses kept for whoever waits.
  os.signal(os.SIGCHLD, reapChildren);
  let outcome: BootOutcome = { status: 1, shutdownMode: 'poweroff', shutdownCommand: ['poweroff', '-f'], poweroffDelay: 0 };
  try {
    outcome = await boot.run();
  } catch (error) {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    quickjsSystem.write(`b2c: unexpected error: ${message}\n`);
    if (outcome.status === 0) outcome.status = 1;
    try {
      await boot.reportStatus(outcome.status);
    } catch {
      quickjsSystem.write(`Execution is over, pipeline status: ${outcome.status}\n`);
    }
  }
  return boot.shutdown(outcome);
}

void main();
