// Sets the clock by SNTP (rdate) before anything is pulled, since TLS certificates are checked against it; bounded, never fatal.

import { AUTO_NTP_PEER, type NtpPeer } from '../cmdline/config.ts';
import { withTimeout, type System } from '../system/system.ts';
import type { InitConsole } from './console.ts';

/** The whole clock step never takes much longer than this. */
export const NTP_BUDGET_SECONDS = 15;
/** One SNTP query's bound. */
export const NTP_ATTEMPT_SECONDS = 5;

export function ntpServer(peer: NtpPeer): string | undefined {
  if (peer.kind === 'none') return undefined;
  return peer.kind === 'auto' ? AUTO_NTP_PEER : peer.host;
}

/**
 * One bounded SNTP query that sets the clock: busybox's timeout kills rdate
 * if the server never answers. rdate goes by its full path, or busybox would
 * run its own rdate applet, which speaks only the old RFC 868 protocol.
 */
export function rdateArgs(server: string, seconds = NTP_ATTEMPT_SECONDS): string[] {
  return withTimeout(seconds, ['/usr/bin/rdate', '-n', '-s', server]);
}

export function clockMessage(server: string, before: number, after: number, elapsed: number): string {
  // The step is what the clock moved beyond the time the query itself took.
  const step = Math.round((after - before - elapsed) / 1000);
  return `The clock was set from ${server}: ${new Date(after).toISOString()} (moved by ${step >= 0 ? '+' : ''}${step} s)`;
}

export async function setClock(system: System, console: InitConsole, peer: NtpPeer): Promise<void> {
  const server = ntpServer(peer);
  if (server === undefined) return;
  // Uptime, not the wall clock: the wall clock is what jumps.
  const uptime = async (): Promise<number> => Number(await console.uptime()) * 1000;
  const started = await uptime();
  let lastError = '';
  for (let attempt = 1; (await uptime()) - started < (NTP_BUDGET_SECONDS - NTP_ATTEMPT_SECONDS) * 1000 || attempt === 1; attempt++) {
    await console.log(`Asking ${server} for the time (attempt ${attempt})`);
    const before = system.now();
    const beforeUptime = await uptime();
    const result = await system.run(rdateArgs(server), { captureStdout: true, captureStderr: true });
    if (result.status === 0) {
      await console.log(clockMessage(server, before, system.now(), (await uptime()) - beforeUptime));
      return;
    }
    lastError = result.status === 137 ? 'no answer' : result.stderr.trim().split('\n')[0] || `status ${result.status}`;
    // A refused or unresolvable server answers at once: do not spin on it.
    if ((await uptime()) - beforeUptime < 1000) await system.sleep(1000);
  }
  await console.log(`Could not set the clock from ${server} (${lastError}): going on with ${new Date(system.now()).toISOString()}`);
}
