// `npm run bench:netboot`: 1, 3 and 6 machines netbooting at once from one `b2c serve` (UEFI, on a test LAN), timed and counted in bytes.

import { existsSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { architecture } from '../src/architectures.ts';
import { bytesByMachine, NETBOOT_HEADER, netbootRow, parseEvents, type NetbootRound } from '../src/bench-report/netboot.ts';
import { markdownTable } from '../src/bench-report/timeline.ts';
import { DebianTools } from '../src/debian/tools.ts';
import { outputNames } from '../src/image/output-names.ts';
import { busyboxImage } from '../src/testbed/images.ts';
import { LAN, TestNetwork } from '../src/testbed/netns.ts';
import { LocalRegistry } from '../src/testbed/registry.ts';
import { macOf, netbootOnce } from './netboot-machine.ts';
import { writeResultsSection } from './results-file.ts';

const ROUNDS = [1, 3, 6];
const MACHINES = Math.max(...ROUNDS);
const names = outputNames(architecture('amd64').debian);
async function main(): Promise<void> {
  for (const file of [names.kernel, names.initramfs.xz]) {
    if (!existsSync(join('out', file))) throw new Error(`out/${file} is missing: run 'npx b2c build' first`);
  }
  // b2c serve runs in the test LAN's namespace, which has no route to Debian's mirror: its packages are fetched into the cache here.
  await DebianTools.prepare(['dnsmasq-base', 'ipxe']);
  const registry = await LocalRegistry.start();
  await registry.push('b2c-test/busybox', '1', await busyboxImage('/bin/busybox', 'amd64'));
  const lan = await TestNetwork.create(Array.from({ length: MACHINES }, () => 'lan' as const));
  try {
    await lan.serveRegistry(registry.dataDirectory);
    const machinesFile = join(lan.workDir, 'machines.yaml');
    const line = `console=ttyS0 panic=-1 b2c.container="--tls-verify=false docker://${LAN.address}:5000/b2c-test/busybox:1 true"`;
    writeFileSync(machinesFile, `default:\n  cmdline: '${line}'\n`);
    const serve = [process.execPath, resolve('bin/b2c.js'), 'serve', '--json', '--interface', 'b2cbr0', '--address', `${LAN.address}/${LAN.prefixLength}`];
    const dhcp = ['--dhcp-range', `${LAN.dhcpFirst},${LAN.dhcpLast}`, '--machines', machinesFile];
    await lan.serve('serve', [...serve, ...dhcp], /serving 0 machines and a default/, 300_000);
    const rounds: NetbootRound[] = [];
    for (const machines of ROUNDS) {
      const logStart = lan.serverLog('serve').length;
      process.stderr.write(`bench: ${machines} ${machines === 1 ? 'machine' : 'machines'} netbooting at once\n`);
      const seconds = await Promise.all(Array.from({ length: machines }, (_, index) => netbootOnce(lan, index, `netboot-${machines}`)));
      const totals = bytesByMachine(parseEvents(lan.serverLog('serve').slice(logStart)), (path) => (existsSync(path) ? statSync(path).size : 0));
      const bytes = Array.from({ length: machines }, (_, index) => totals.get(macOf(index)) ?? { http: 0, tftp: 0 });
      rounds.push({ machines, seconds, bytes });
    }
    const table = markdownTable(NETBOOT_HEADER, rounds.map(netbootRow));
    const section = [
      '## Netboot',
      '',
      `Run on ${new Date().toISOString().slice(0, 10)}: machines powered on at once on a test LAN, one \`b2c serve\` (DHCP, TFTP, HTTP) for all,`,
      'each booting through OVMF (UEFI PXE, then iPXE by TFTP, then the kernel and the xz initramfs by HTTP), 1 vCPU and 1 GiB each, under TCG',
      `on this host's ${cpus().length} cores, so several machines share them: the time grows with the count here, not on a farm's real machines.`,
      'Seconds run from QEMU start to the status line, with a container that pulls busybox from a registry on the LAN and exits.',
      'TFTP counts each transfer dnsmasq logs as sent: OVMF fetches iPXE twice (once for its size), 1.0 MB each. A machine that never',
      'reached its status line is counted at 0 bytes and stopped at its timeout; its console is in out/bench/netboot-ROUND-MAC.console.',
      '',
      table,
      '',
    ].join('\n');
    await writeResultsSection(section);
  } finally {
    await lan.destroy();
    await registry.stop();
  }
}

await main();
