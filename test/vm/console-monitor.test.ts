import { describe, expect, it } from 'vitest';
import { ConsoleMonitor } from '../../src/vm/console-monitor.ts';
import { decideOutcome, describeOutcome, exitCodeOf, RUN_EXIT } from '../../src/vm/outcome.ts';

// Lines as a guest kernel prints them when a podman thread hits a TCG bug.
const OOPS = [
  '[   23.104416] Oops: int3: 0000 [#1] PREEMPT SMP NOPTI',
  '[   23.105069] CPU: 1 UID: 0 PID: 301 Comm: podman Not tainted 6.12.117+deb13-amd64 #1',
  '[   23.106012] RIP: 0010:__schedule+0x3a1/0xb80',
  '[   23.112871] Kernel panic - not syncing: Fatal exception',
];

describe('ConsoleMonitor', () => {
  it('finds the status line even when it arrives in pieces, with the serial \\r', () => {
    const monitor = new ConsoleMonitor();
    monitor.feed('[12.3]: Execution is over, pipe');
    monitor.feed("line status: 42\r\nIt's now safe to turn off your computer\r\n");
    expect(monitor.end()).toEqual({ status: 42, safeToTurnOff: true, kernelSpoke: true });
  });

  it('reports a guest kernel crash with its lines, even after a status', () => {
    const monitor = new ConsoleMonitor();
    monitor.feed('[12.3]: Execution is over, pipeline status: 0\r\n');
    monitor.feed(`${OOPS.join('\r\n')}\r\n`);
    const verdict = monitor.end();
    expect(verdict.crash).toEqual(OOPS);
    const outcome = decideOutcome(verdict, { timedOut: false, timeoutSeconds: 60, qemuExit: 0 });
    expect(outcome).toMatchObject({ kind: 'guest-crash', status: 0 });
    expect(exitCodeOf(outcome)).toBe(RUN_EXIT.guestCrash);
  });

  it.each([
    ['a soft lockup', '[  48.2] watchdog: BUG: soft lockup - CPU#0 stuck for 26s! [podman:301]'],
    ['a hung task', '[ 243.7] INFO: task kworker/u4:2:57 blocked for more than 120 seconds.'],
  ])('takes %s for a crash', (_, line) => {
    const monitor = new ConsoleMonitor();
    monitor.feed(`${line}\r\n`);
    expect(monitor.crashed).toBe(true);
    expect(monitor.end().crash).toEqual([line]);
  });

  it("does not take the OOM killer's report, register dump included, for a crash", () => {
    const monitor = new ConsoleMonitor();
    monitor.feed(
      [
        '[   41.202311] dd invoked oom-killer: gfp_mask=0x140dca(GFP_HIGHUSER_MOVABLE|__GFP_COMP|__GFP_ZERO), order=0, oom_score_adj=0',
        '[   41.205012] Call Trace:',
        '[   41.205400]  <TASK>',
        '[   41.209815] RIP: 0033:0x7f3a1c2e1d21',
        '[   41.231550] Out of memory: Killed process 412 (dd) total-vm:463164kB, anon-rss:301204kB',
        '',
      ].join('\r\n'),
    );
    expect(monitor.crashed).toBe(false);
  });

  it('does not take a container that prints the word "oops" in lower case for a crash', () => {
    const monitor = new ConsoleMonitor();
    monitor.feed('oops, test 3 failed\n');
    expect(monitor.end().crash).toBeUndefined();
  });
});

describe('decideOutcome', () => {
  it('says a line may lack console= when the machine stopped and its kernel printed nothing on the port', () => {
    const silent = new ConsoleMonitor();
    silent.feed('iPXE 1.21.1+ -- Open Source Network Boot Firmware\r\nhttp://10.77.0.1:8080/linux-amd64... ok\r\n');
    expect(describeOutcome(decideOutcome(silent.end(), { timedOut: false, timeoutSeconds: 60, qemuExit: 0 }))).toMatch(/may lack console=/);
    const spoke = new ConsoleMonitor();
    spoke.feed('[    0.000000] Linux version 6.12.57+deb13-amd64\n[    1.234567] Run /init as init process\n');
    expect(describeOutcome(decideOutcome(spoke.end(), { timedOut: false, timeoutSeconds: 60, qemuExit: 0 }))).not.toMatch(/console=/);
    // Under quiet, the init's own lines show the console works.
    const quiet = new ConsoleMonitor();
    quiet.feed('[3.21]: Error: no network interface came up\n');
    expect(describeOutcome(decideOutcome(quiet.end(), { timedOut: false, timeoutSeconds: 60, qemuExit: 0 }))).not.toMatch(/console=/);
  });

  it('tells a timeout and a silent stop from a status', () => {
    expect(exitCodeOf(decideOutcome({ safeToTurnOff: false }, { timedOut: true, timeoutSeconds: 5, qemuExit: null }))).toBe(RUN_EXIT.timeout);
    expect(exitCodeOf(decideOutcome({ safeToTurnOff: false }, { timedOut: false, timeoutSeconds: 5, qemuExit: 0 }))).toBe(RUN_EXIT.noStatus);
    expect(exitCodeOf(decideOutcome({ status: 3, safeToTurnOff: true }, { timedOut: false, timeoutSeconds: 5, qemuExit: 0 }))).toBe(3);
  });
});
