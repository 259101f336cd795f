import { describe, expect, it } from 'vitest';
import { parseCmdline } from '../../src/cmdline/parse.ts';
import { clockMessage, ntpServer, rdateArgs } from '../../src/init/clock.ts';

describe('clock', () => {
  it('asks the peer the command line names, pool.ntp.org for auto, nobody for none', () => {
    expect(ntpServer(parseCmdline('b2c.ntp_peer=ntp.farm').ntpPeer)).toBe('ntp.farm');
    expect(ntpServer(parseCmdline('b2c.ntp_peer=auto').ntpPeer)).toBe('pool.ntp.org');
    expect(ntpServer(parseCmdline('').ntpPeer)).toBeUndefined();
  });

  it('bounds every SNTP query with a kill', () => {
    expect(rdateArgs('10.0.0.1')).toEqual(['timeout', '-s', 'KILL', '5', '/usr/bin/rdate', '-n', '-s', '10.0.0.1']);
  });

  it('reports the new time and how far it moved, less the time the query took', () => {
    const before = Date.parse('2001-01-01T00:00:00Z');
    const after = Date.parse('2026-11-25T12:00:00Z');
    expect(clockMessage('ntp.farm', before, after, 400)).toBe(`The clock was set from ntp.farm: 2026-11-25T12:00:00.000Z (moved by +${Math.round((after - before - 400) / 1000)} s)`);
    expect(clockMessage('ntp.farm', after, after - 3000, 0)).toMatch(/moved by -3 s\)$/);
  });
});
