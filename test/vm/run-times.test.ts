// Where a b2c run's time went, read from a machine's console.

import { describe, expect, it } from 'vitest';
import { formatRunTimes, runTimes } from '../../src/vm/run-times.ts';

const CONSOLE = [
  '[    0.000000] Linux version 6.12.117+deb13-amd64',
  '[    4.312345] Run /init as init process',
  '[6.10]: Container 1: podman run docker://10.0.2.100:5375/localhost/mine:dev my-test',
  '[9.30]: Pulled docker://10.0.2.100:5375/localhost/mine:dev in 3.1 s',
  '[12.40]: Container 1 exited with status 0',
  '[12.50]: Post container 1: podman run docker://r/upload:1',
  '[13.00]: Pulled docker://r/upload:1 in 0.4 s',
  '[13.60]: Post container 1 exited with status 0',
  '[13.70]: Execution is over, pipeline status: 0',
].join('\r\n');

describe("b2c run's time summary", () => {
  it('gives boot to /init, the pulls, and the steps less their pulls, beside the preparation and the rest', () => {
    const times = runTimes(CONSOLE, 2.25, 16);
    expect(times.bootToInit).toBeCloseTo(4.312, 3);
    expect(times.pulls).toBeCloseTo(3.5, 5);
    // (12.4 − 6.1) + (13.6 − 12.5) − 3.5
    expect(times.steps).toBeCloseTo(3.9, 5);
    expect(formatRunTimes(times)).toBe("preparing 2.3 s, boot to /init 4.3 s, pulls 3.5 s, steps 3.9 s, the rest of the machine's 16.0 s: 4.3 s");
  });

  it('leaves out boot to /init when the kernel was quiet, and counts nothing for a step that never ended', () => {
    const times = runTimes('[5.00]: Container 1: podman run docker://r/a:1 sleep 1000\n', 0.5, 60);
    expect(times.bootToInit).toBeUndefined();
    expect(times.steps).toBe(0);
    expect(formatRunTimes(times)).not.toContain('/init');
  });
});
