import { describe, expect, it } from 'vitest';
import { bytesByMachine, netbootRow, parseEvents } from '../../src/bench-report/netboot.ts';
import type { ServeEvent } from '../../src/serve/events.ts';

const time = '2026-12-01T00:00:00.000Z';

describe('the netboot benchmark', () => {
  it('sums the bytes served to each machine, HTTP by count and TFTP by file size', () => {
    const events: ServeEvent[] = [
      { time, step: 'tftp', mac: 'a', file: '/t/ipxe.efi', message: '' },
      { time, step: 'tftp', mac: 'a', file: '/t/ipxe.efi', message: '' },
      { time, step: 'kernel', mac: 'a', bytes: 100, message: '' },
      { time, step: 'initrd', mac: 'a', bytes: 900, message: '' },
      { time, step: 'initrd', mac: 'b', bytes: 50, message: '' },
      { time, step: 'script', mac: 'b', message: '' },
      { time, step: 'kernel', bytes: 7, message: 'no MAC: not counted' },
    ];
    const totals = bytesByMachine(events, (path) => (path === '/t/ipxe.efi' ? 1000 : 0));
    expect(totals.get('a')).toEqual({ http: 1000, tftp: 2000 });
    expect(totals.get('b')).toEqual({ http: 50, tftp: 0 });
    expect(totals.size).toBe(2);
  });

  it('reads the JSON lines of b2c serve', () => {
    expect(parseEvents(`${JSON.stringify({ time, step: 'ready', message: 'x' })}\nnot json\n`)).toEqual([{ time, step: 'ready', message: 'x' }]);
  });

  it('gives the median and the slowest machine, and counts those that never got there', () => {
    const bytes = { http: 33_000_000, tftp: 1_100_000 };
    expect(netbootRow({ machines: 3, seconds: [30, 50, undefined], bytes: [bytes, bytes, bytes] })).toEqual([
      '3',
      '2 of 3',
      '30.0',
      '50.0',
      '33.0 MB',
      '1.1 MB',
    ]);
    expect(netbootRow({ machines: 1, seconds: [undefined], bytes: [{ http: 1e6, tftp: 0 }] })).toEqual(['1', '0 of 1', '–', '–', '1.0 MB', '0.0 MB']);
  });
});
