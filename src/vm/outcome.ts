// How a `b2c run` ends, and the exit status each ending gives.

import type { ConsoleVerdict } from './console-monitor.ts';

/**
 * Exit statuses for a machine that printed no usable pipeline status. They sit
 * above what a job normally returns; stderr always says which case it was.
 */
export const RUN_EXIT = {
  guestCrash: 251,
  timeout: 252,
  noStatus: 253,
  hostProblem: 254,
} as const;

export type RunOutcome =
  | { kind: 'status'; status: number }
  | { kind: 'guest-crash'; lines: string[]; status?: number }
  | { kind: 'timeout'; seconds: number; status?: number }
  | { kind: 'no-status'; qemuExit: number | null; kernelSilent?: boolean };

/** Decides the outcome from what the console showed and how QEMU ended; a crash outranks everything. */
export function decideOutcome(verdict: ConsoleVerdict, ending: { timedOut: boolean; timeoutSeconds: number; qemuExit: number | null }): RunOutcome {
  if (verdict.crash) return { kind: 'guest-crash', lines: verdict.crash, ...(verdict.status !== undefined ? { status: verdict.status } : {}) };
  if (ending.timedOut && verdict.status === undefined) return { kind: 'timeout', seconds: ending.timeoutSeconds };
  if (verdict.status !== undefined) return { kind: 'status', status: verdict.status };
  return { kind: 'no-status', qemuExit: ending.qemuExit, ...(verdict.kernelSpoke === false ? { kernelSilent: true } : {}) };
}

export function exitCodeOf(outcome: RunOutcome): number {
  switch (outcome.kind) {
    case 'status':
      return outcome.status;
    case 'guest-crash':
      return RUN_EXIT.guestCrash;
    case 'timeout':
      return RUN_EXIT.timeout;
    case 'no-status':
      return RUN_EXIT.noStatus;
  }
}

export function describeOutcome(outcome: RunOutcome): string {
  switch (outcome.kind) {
    case 'status':
      return `pipeline status ${outcome.status}`;
    case 'guest-crash': {
      const after = outcome.status !== undefined ? ` (after reporting pipeline status ${outcome.status})` : '';
      return `the guest kernel crashed${after}:\n${outcome.lines.join('\n')}`;
    }
    case 'timeout':
      return `no pipeline status within ${outcome.seconds} s: the machine was stopped`;
    case 'no-status':
      return (
        `the machine stopped without printing a pipeline status (QEMU exit status ${outcome.qemuExit})` +
        (outcome.kernelSilent === true
          ? ': the kernel printed nothing on this serial port; its command line may lack console= (console=ttyS0,115200, ttyAMA0 on ARM boards)'
          : '')
      );
  }
}
