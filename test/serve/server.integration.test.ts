// The running server with a stand-in for dnsmasq (a shell script that logs as dnsmasq does and records how it was started):
// reloads of the machines file, one at a time, and a dnsmasq that stops by itself. Real dnsmasq serving real machines is in e2e.

import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServeEvent } from '../../src/serve/events.ts';
import { BootServer } from '../../src/serve/server.ts';
import { parseSubnet, type Subnet } from '../../src/serve/subnet.ts';

const dir = mkdtempSync(join(tmpdir(), 'b2c-server-'));
for (const file of ['linux-amd64', 'initramfs.linux_amd64.cpio.xz', 'undionly.kpxe', 'ipxe.efi', 'ipxe-arm64.efi']) writeFileSync(join(dir, file), file);
const starts = join(dir, 'starts');
// Each start appends its pid and arguments; SIGHUP is taken as dnsmasq takes it (read the hosts file again, noted with the hosts it read),
// SIGTERM ends it.
const fakeDnsmasq = join(dir, 'dnsmasq.sh');
const hangups = join(dir, 'hangups');
writeFileSync(
  fakeDnsmasq,
  [
    'echo "$$ $*" >> "$STARTS"',
    'hosts=$(echo "$*" | sed -n "s/.*--dhcp-hostsfile=\\([^ ]*\\).*/\\1/p")',
    'trap \'echo "$$ $(wc -l < "$hosts")" >> "$HANGUPS"; echo "dnsmasq[$$]: read hosts" >&2\' HUP',
    "trap 'exit 0' TERM",
    'echo "dnsmasq[$$]: started, version stand-in" >&2',
    'while :; do sleep 1 & wait $!; done',
    '',
  ].join('\n'),
);
process.env.STARTS = starts;
process.env.HANGUPS = hangups;

/** The SIGHUPs the stand-in got: its pid and how many machines the hosts file had when it read it again. */
async function hangupsAfter(count: number): Promise<string[]> {
  for (let tries = 0; tries < 50; tries++) {
    const lines = existsSync(hangups) ? readFileSync(hangups, 'utf8').trim().split('\n').filter(Boolean) : [];
    if (lines.length >= count) return lines;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return existsSync(hangups) ? readFileSync(hangups, 'utf8').trim().split('\n').filter(Boolean) : [];
}

const line = `console=ttyS0 b2c.container="docker://registry:5000/tests:42"`;
const entry = (key: string): string => `"${key}":\n  cmdline: '${line}'\n`;

function startLines(): Array<{ pid: number; args: string }> {
  if (!existsSync(starts)) return [];
  return readFileSync(starts, 'utf8')
    .trim()
    .split('\n')
    .map((text) => ({ pid: Number(text.split(' ')[0]), args: text.slice(text.indexOf(' ') + 1) }));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('the running b2c serve', () => {
  let server: BootServer | undefined;
  const events: ServeEvent[] = [];
  const machinesFile = join(dir, 'machines.yaml');

  async function start(): Promise<BootServer> {
    writeFileSync(starts, '');
    writeFileSync(hangups, '');
    writeFileSync(machinesFile, entry('52:54:00:00:00:01'));
    server = await BootServer.start({
      interface: 'lo',
      subnet: parseSubnet('127.0.0.1/8') as Subnet,
      dhcp: { kind: 'proxy' },
      machinesFile,
      outDir: dir,
      httpPort: 0,
      report: (event) => events.push(event),
      tools: { dnsmasq: ['sh', fakeDnsmasq], ipxeDir: dir },
    });
    return server;
  }

  afterEach(async () => {
    await server?.stop();
    server = undefined;
    events.length = 0;
  });

  it('gives dnsmasq the new machines on a change, and keeps the last good file when a change is bad', async () => {
    const running = await start();
    const hostsFile = /--dhcp-hostsfile=(\S+)/.exec(startLines()[0]?.args ?? '')?.[1] as string;
    expect(readFileSync(hostsFile, 'utf8')).toBe('52:54:00:00:00:01,set:b2c\n');
    writeFileSync(machinesFile, entry('52:54:00:00:00:01') + entry('52:54:00:00:00:02'));
    await running.reload();
    expect(readFileSync(hostsFile, 'utf8')).toBe('52:54:00:00:00:01,set:b2c\n52:54:00:00:00:02,set:b2c\n');
    expect(events.at(-1)).toMatchObject({ step: 'reload', message: 'machines file read again: 2 machines, no default' });
    writeFileSync(machinesFile, 'default: [');
    await running.reload();
    expect(events.at(-1)?.step).toBe('error');
    expect(events.at(-1)?.message).toMatch(/does not parse[\s\S]*goes on with the last good machines file/);
    expect(readFileSync(hostsFile, 'utf8')).toContain('52:54:00:00:00:02');
    // One dnsmasq all along: the machines it boots changed by one SIGHUP, after the hosts file had both; the bad file sent none.
    const [dnsmasq] = startLines();
    expect(startLines()).toHaveLength(1);
    expect(await hangupsAfter(1)).toEqual([`${dnsmasq?.pid} 2`]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await hangupsAfter(1)).toHaveLength(1);
  });

  it('restarts dnsmasq when a default entry comes, one reload at a time however fast the changes come', async () => {
    const running = await start();
    writeFileSync(machinesFile, `default:\n  cmdline: '${line}'\n`);
    // Three reloads asked before the first began: the file is read once, by one reload.
    await Promise.all([running.reload(), running.reload(), running.reload()]);
    expect(events.filter((event) => event.step === 'reload')).toHaveLength(1);
    // The default goes, then comes back: dnsmasq restarted each time, one of them running at the end.
    writeFileSync(machinesFile, entry('52:54:00:00:00:01'));
    await running.reload();
    writeFileSync(machinesFile, `default:\n  cmdline: '${line}'\n`);
    await running.reload();
    expect(events.filter((event) => event.step === 'reload')).toHaveLength(3);
    const started = startLines();
    expect(started).toHaveLength(4);
    expect(started.at(-1)?.args).toContain('--dhcp-mac=set:b2c,*:*:*:*:*:*');
    expect(started.filter((item) => alive(item.pid))).toHaveLength(1);
    expect(events.filter((event) => event.step === 'reload').at(-1)?.message).toBe('machines file read again: 0 machines and a default');
  });

  it('says when dnsmasq stops by itself, and leaves nothing behind when stopped', async () => {
    const running = await start();
    const [first] = startLines();
    process.kill(first?.pid as number, 'SIGKILL');
    expect(await running.ended).toMatch(/^dnsmasq stopped \(SIGKILL\)/);
    await running.stop();
    server = undefined;
    const tftpRoot = /--tftp-root=(\S+)/.exec(first?.args ?? '')?.[1] as string;
    expect(existsSync(tftpRoot)).toBe(false);
  });
});
