import { describe, expect, it } from 'vitest';
import { parseCmdline } from '../../src/cmdline/parse.ts';
import { ntpServer, NTP_BUDGET_SECONDS, setClock } from '../../src/init/clock.ts';
import { InitConsole } from '../../src/init/console.ts';
import { FakeSystem } from '../fake-system.ts';

const peer = parseCmdline('b2c.ntp_peer=ntp.farm').ntpPeer;

describe('clock', () => {
  it('asks the peer the command line names, pool.ntp.org for auto, nobody for none', () => {
    expect(ntpServer(peer)).toBe('ntp.farm');
    expect(ntpServer(parseCmdline('b2c.ntp_peer=auto').ntpPeer)).toBe('pool.ntp.org');
    expect(ntpServer(parseCmdline('').ntpPeer)).toBeUndefined();
  });

  it('sets the clock and says how far it moved, not counting the time the query took', async () => {
    const fake = new FakeSystem();
    const jump = 25 * 365 * 24 * 3600 * 1000;
    fake.on(
      (argv) => argv[0]?.endsWith('/rdate') === true,
      (_argv, system) => {
        system.wallClockOffset += jump;
        return { takes: 3000 };
      },
    );
    await setClock(fake, new InitConsole(fake), peer);
    expect(fake.logLines()).toEqual([
      'Asking ntp.farm for the time (attempt 1)',
      `The clock was set from ntp.farm: ${new Date(fake.now()).toISOString()} (moved by +${jump / 1000} s)`,
    ]);
  });

  it('gives up within its budget when the server never answers, and goes on', async () => {
    const fake = new FakeSystem();
    fake.on((argv) => argv[0]?.endsWith('/rdate') === true, { hangs: true });
    await setClock(fake, new InitConsole(fake), peer);
    expect(fake.elapsed).toBeLessThanOrEqual(NTP_BUDGET_SECONDS * 1000);
    expect(fake.ran('timeout').length).toBeGreaterThanOrEqual(2);
    expect(fake.logLines().at(-1)).toMatch(/^Could not set the clock from ntp.farm \(no answer\): going on with /);
  });

  it('asks a server that refuses again a second later rather than in a tight loop', async () => {
    const fake = new FakeSystem();
    fake.on((argv) => argv[0]?.endsWith('/rdate') === true, { status: 1, stderr: 'rdate: ntp.farm: Connection refused\n' });
    await setClock(fake, new InitConsole(fake), peer);
    const attempts = fake.ran('timeout');
    expect(attempts.length).toBeGreaterThanOrEqual(5);
    expect(attempts.length).toBeLessThanOrEqual(NTP_BUDGET_SECONDS);
    expect(fake.logLines().at(-1)).toMatch(/^Could not set the clock from ntp.farm \(rdate: ntp.farm: Connection refused\)/);
  });
});
