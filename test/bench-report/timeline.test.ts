import { describe, expect, it } from 'vitest';
import { componentOf, sizeByComponent } from '../../src/bench-report/size.ts';
import { bootTimeline, markdownTable, summarize, volumeSyncSeconds, type ConsoleArrival } from '../../src/bench-report/timeline.ts';

/** A console and its arrival times, one line per arrival. */
function consoleOf(lines: Array<[number, string]>): { text: string; arrivals: ConsoleArrival[] } {
  let text = '';
  const arrivals: ConsoleArrival[] = [];
  for (const [seconds, line] of lines) {
    text += `${line}\r\n`;
    arrivals.push({ seconds, length: text.length });
  }
  return { text, arrivals };
}

describe('bootTimeline', () => {
  it('places kernel start, /init, the first output and the init work on QEMU time', () => {
    const { text, arrivals } = consoleOf([
      [2.5, '[    0.000000] Linux version 6.12'],
      [2.6, '[    0.050000] Command line: console=ttyS0'],
      [13.6, '[   11.000000] Run /init as init process'],
      [13.7, '\x1b[0Ksection_start:11:b2c_modules[collapsed=true]\r\x1b[0KLoading kernel modules'],
      [13.9, '\x1b[0Ksection_end:11:b2c_modules\r\x1b[0K'],
      [14.0, '[11.40]: Asking for a DHCP lease on eth0'],
      [14.6, '[12.00]: Got the address 10.0.2.15/24 on eth0'],
      [14.8, '[12.20]: Memory in use before the first container: 201 MiB of 1989 MiB'],
      [14.9, '[12.30]: Container 1: podman run docker://r/i sh'],
      [20.0, 'out-42'],
      [20.1, '[17.40]: Container 1 exited with status 0'],
    ]);
    const timeline = bootTimeline(text, arrivals, 24, 'out-42');
    expect(timeline.kernelStart).toBeCloseTo(2.5);
    expect(timeline.initStart).toBeCloseTo(13.5);
    expect(timeline.firstOutput).toBe(20);
    expect(timeline.exit).toBe(24);
    expect(timeline.dhcpWait).toBeCloseTo(0.6);
    expect(timeline.initWork).toBeCloseTo(12.3 - 11 - 0.6);
    expect(timeline.memoryInUse).toBe(201);
    expect(timeline.firstStep).toBeCloseTo(17.4 - 12.3);
    expect(timeline.modulesStep).toBeCloseTo(0.2);
  });

  it('gives no module step when the console ended inside it', () => {
    const { text, arrivals } = consoleOf([
      [13.6, '[   11.000000] Run /init as init process'],
      [13.7, '\x1b[0Ksection_start:11:b2c_modules[collapsed=true]\r\x1b[0KLoading kernel modules'],
    ]);
    expect(bootTimeline(text, arrivals, 20).modulesStep).toBeUndefined();
  });

  it('leaves out what the console never showed', () => {
    const { text, arrivals } = consoleOf([[1, 'no kernel here']]);
    expect(bootTimeline(text, arrivals, 3, 'never')).toEqual({ exit: 3 });
  });
});

describe('summaries and tables', () => {
  it('gives median, min and max', () => {
    expect(summarize([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3, runs: 3 });
    expect(summarize([4, 1, 2, 3])).toMatchObject({ median: 2.5 });
    expect(summarize([])).toBeUndefined();
  });

  it('writes markdown tables', () => {
    expect(markdownTable(['a', 'b'], [['1', '2']])).toBe('| a | b |\n| --- | --- |\n| 1 | 2 |');
  });

  it('splits the image by component', () => {
    expect(componentOf({ path: '/init', size: 1, origin: 'b2c' })).toBe('init bundle');
    expect(componentOf({ path: '/etc/passwd', size: 1, origin: 'b2c' })).toBe('config');
    expect(componentOf({ path: '/usr/lib/x86_64-linux-gnu/libc.so.6', size: 1, origin: 'libc6' })).toBe('libraries');
    expect(
      sizeByComponent([
        { path: '/usr/bin/podman', size: 40, origin: 'podman' },
        { path: '/usr/lib/modules/x/kernel/a.ko', size: 5, origin: 'linux-image-6.12-amd64' },
        { path: '/usr/lib/modules/x/kernel/b.ko', size: 6, origin: 'linux-image-6.12-amd64' },
      ]),
    ).toEqual([
      { component: 'podman', bytes: 40 },
      { component: 'kernel modules', bytes: 11 },
    ]);
  });
});

describe('volumeSyncSeconds', () => {
  it('reads the time of a sync that copied something, and nothing else', () => {
    const text = [
      '[30.1]: Pulled the volume data from bench/bench/volume in 4.25 s: 1 file copied (50.3 MB)',
      '[40.2]: Pushed the volume data to bench/bench/volume in 0.31 s: 0 files copied',
      '[41.0]: Pushed the volume other to bench/x in 9.50 s: 1 file copied (50.3 MB)',
    ].join('\n');
    expect(volumeSyncSeconds(text, 'pull', 'data')).toBe(4.25);
    expect(volumeSyncSeconds(text, 'push', 'data')).toBeUndefined();
    expect(volumeSyncSeconds(text, 'push', 'other')).toBe(9.5);
  });
});
