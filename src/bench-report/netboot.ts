// The netboot benchmark's arithmetic: what `b2c serve --json` reported, summed per machine, and the table rows of a round.

import type { ServeEvent } from '../serve/events.ts';

export interface ServedBytes {
  http: number;
  tftp: number;
}

/**
 * Bytes served to each MAC address: HTTP from the events' own counts, TFTP
 * from the size of each file sent (dnsmasq logs the file, not its size), by
 * the MAC the event names.
 */
export function bytesByMachine(events: readonly ServeEvent[], fileSize: (path: string) => number): Map<string, ServedBytes> {
  const totals = new Map<string, ServedBytes>();
  for (const event of events) {
    if (event.mac === undefined) continue;
    const total = totals.get(event.mac) ?? { http: 0, tftp: 0 };
    if ((event.step === 'kernel' || event.step === 'initrd') && event.bytes !== undefined) total.http += event.bytes;
    else if (event.step === 'tftp' && event.file !== undefined) total.tftp += fileSize(event.file);
    else continue;
    totals.set(event.mac, total);
  }
  return totals;
}

/** The events of a `--json` log, skipping lines that are not events (none should be). */
export function parseEvents(log: string): ServeEvent[] {
  return log
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as ServeEvent);
}

export interface NetbootRound {
  machines: number;
  /** Seconds from each machine's power-on to its status line; undefined for one that never printed it. */
  seconds: Array<number | undefined>;
  bytes: ServedBytes[];
}

const megabytes = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

/**
 * The cells of machines booted at once: how many reached their status line,
 * the median and the slowest of those (the lower median of an even count).
 */
export function statusLineCells(seconds: ReadonlyArray<number | undefined>): [string, string, string] {
  const done = seconds.filter((value): value is number => value !== undefined).sort((a, b) => a - b);
  const median = done.length === 0 ? undefined : done[Math.floor((done.length - 1) / 2)];
  const slowest = done.at(-1);
  return [`${done.length} of ${seconds.length}`, median === undefined ? '–' : median.toFixed(1), slowest === undefined ? '–' : slowest.toFixed(1)];
}

/** One row per round: the slowest and the median machine, and bytes per boot. */
export function netbootRow(round: NetbootRound): string[] {
  const perBoot = (pick: (bytes: ServedBytes) => number): string => {
    const values = [...new Set(round.bytes.map(pick))];
    return values.length === 1 ? megabytes(values[0] as number) : values.map(megabytes).join(' – ');
  };
  return [String(round.machines), ...statusLineCells(round.seconds), perBoot((bytes) => bytes.http), perBoot((bytes) => bytes.tftp)];
}

export const NETBOOT_HEADER = ['machines at once', 'reached the status line', 'median s to status', 'slowest s to status', 'HTTP per boot', 'TFTP per boot'];
