// `b2c serve` on a test LAN: VMs that boot through their firmware (SeaBIOS with iPXE, OVMF's own PXE) get their own kernel, archives and command
// line, several at once, by DHCP or by proxyDHCP next to another DHCP server, and pull through serve's registry cache, which fetches each layer
// once from an upstream on another host of the LAN; the machines file is read again when it changes.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { architecture } from '../../src/architectures.ts';
import { DebianTools } from '../../src/debian/tools.ts';
import { REGISTRY_PACKAGES } from '../../src/serve/registries.ts';
import { SERVE_PACKAGES } from '../../src/serve/server.ts';
import { busyboxImage, debianBusybox, incompressibleBytes } from '../../src/testbed/images.ts';
import type { OciImage } from '../../src/testbed/oci-image.ts';
import { LAN, TestNetwork } from '../../src/testbed/netns.ts';
import { prepareUefiFirmware } from '../../src/vm/firmware.ts';
import { RUN_EXIT } from '../../src/vm/outcome.ts';
import { bootB2c, expectCleanEnd, runB2c, step, type BootResult } from './boot.ts';

const image = `docker://${LAN.address}:5000/b2c-test/busybox:1`;
/** serve's cache of the upstream registry, on the gateway. */
const CACHE_PORT = 8002;
/** The image of a farm's size, from the upstream, through serve's cache. */
const bigImage = `docker://${LAN.address}:${CACHE_PORT}/mesa/test-gl:42`;

interface Machine {
  mac: string;
  firmware: 'bios' | 'uefi';
  tap: string;
  arch?: 'arm64';
}

const machineA: Machine = { mac: '52:54:00:b2:c0:01', firmware: 'bios', tap: 'b2ctap0' };
const machineB: Machine = { mac: '52:54:00:b2:c0:02', firmware: 'bios', tap: 'b2ctap1' };
const machineC: Machine = { mac: '52:54:00:b2:c0:03', firmware: 'uefi', tap: 'b2ctap2' };
const machineArm: Machine = { mac: '52:54:00:b2:c0:04', firmware: 'uefi', tap: 'b2ctap3', arch: 'arm64' };
/** Added to the machines file while b2c serve runs. */
const machineD: Machine = { mac: '52:54:00:b2:c0:05', firmware: 'bios', tap: 'b2ctap1' };
/** In no machines file. */
const stranger: Machine = { mac: '52:54:00:b2:c0:09', firmware: 'uefi', tap: 'b2ctap3' };

/** A command line whose container says which machine it ran on and ends with that machine's status. */
function cmdline(name: string, status: number, console = 'ttyS0', from = image): string {
  return `console=${console} panic=-1 ${step('b2c.container', `sh -c 'echo ran-on-${name}-$((6*7)); exit ${status}'`, from)}`;
}

function yamlEntry(machine: Machine, line: string): string {
  return `"${machine.mac}":\n${machine.arch === undefined ? '' : `  arch: ${machine.arch}\n`}  cmdline: '${line.replaceAll("'", "''")}'\n`;
}

// Four machines at once reach their status in about 2 minutes here; the bound stays under the test's own 600 s so that a machine
// whose firmware hangs fails with its console and the servers' logs, not as a test timeout that shows neither.
function netboot(lan: TestNetwork, machine: Machine, timeoutSeconds = 360): Promise<BootResult> {
  return bootB2c([], {
    namespace: lan.namespace,
    timeoutSeconds,
    runOptions: [
      '--arch',
      machine.arch ?? 'amd64',
      '--netboot',
      '--firmware',
      machine.firmware,
      '--mac',
      machine.mac,
      '--network',
      `tap=${machine.tap}`,
      '--memory',
      '1024',
      '--cpus',
      '1',
    ],
  });
}

/** Waits until the server's log matches, after the part of it already there. */
async function serverSays(lan: TestNetwork, name: string, pattern: RegExp, from: number): Promise<void> {
  const started = Date.now();
  while (!pattern.test(lan.serverLog(name).slice(from))) {
    if (Date.now() - started > 20_000) throw new Error(`${name} never said ${pattern}:\n${lan.serverLog(name)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('b2c serve', () => {
  let lan: TestNetwork;
  let machinesFile: string;
  let upstreamImage: OciImage;

  function serveArgs(dhcp: string[]): string[] {
    return [
      process.execPath,
      'bin/b2c.js',
      'serve',
      '--interface',
      'b2cbr0',
      '--address',
      `${LAN.address}/${LAN.prefixLength}`,
      ...dhcp,
      '--machines',
      machinesFile,
    ];
  }

  beforeAll(async () => {
    // The arm64 machine boots the arm64 image, which the shared build does not make; architectures.test.ts builds it with the same options,
    // and whichever comes second keeps the first's.
    const arm64 = await runB2c(['build', '--arch', 'arm64', '--addons', 'dtbs', '--compress', 'none']);
    if (arm64.status !== 0) throw new Error(`b2c build --arch arm64 failed with status ${arm64.status}:\n${arm64.stderr}`);
    // b2c serve and b2c run --netboot run in the test LAN's namespace, which has no route to Debian's mirror:
    // their packages (dnsmasq, iPXE, OVMF, AAVMF) are fetched into the cache here.
    await DebianTools.prepare([...SERVE_PACKAGES, ...REGISTRY_PACKAGES]);
    for (const arch of ['amd64', 'arm64']) await (await prepareUefiFirmware(architecture(arch))).remove();
    lan = await TestNetwork.create(['lan', 'lan', 'lan', 'lan']);
    machinesFile = join(lan.workDir, 'machines.yaml');
    await lan.serveRegistry(inject('registryData'));
    // The upstream, on another host of the LAN: busybox and 64 MiB that do not compress, in one layer, as large as a farm's smaller images.
    upstreamImage = await busyboxImage(await debianBusybox('amd64'), 'amd64', [
      { path: 'payload', kind: 'file', mode: 0o644, data: incompressibleBytes(64 * 1024 * 1024) },
    ]);
    await lan.serveUpstreamRegistry('mesa/test-gl', '42', upstreamImage);
  }, 300_000);

  afterAll(async () => {
    await lan?.destroy();
  });

  it('boots four machines at once (BIOS and UEFI, amd64 and arm64), each with its own line and status; three pull a 67 MB layer fetched once', async () => {
    writeFileSync(
      machinesFile,
      [
        yamlEntry(machineA, cmdline('a', 3, 'ttyS0', bigImage)),
        yamlEntry(machineB, cmdline('b', 0, 'ttyS0', bigImage)),
        yamlEntry(machineC, cmdline('c', 5, 'ttyS0', bigImage)),
        yamlEntry(machineArm, cmdline('arm', 6, 'ttyAMA0')),
      ].join(''),
    );
    const cache = ['--registry-cache', `${CACHE_PORT}=http://${LAN.upstream}:5000`, '--registry-dir', join(lan.workDir, 'registries')];
    await lan.serve('serve-dhcp', serveArgs(['--dhcp-range', `${LAN.dhcpFirst},${LAN.dhcpLast}`, ...cache]), /ready .* serving 4 machines/, 300_000);
    const [a, b, c, arm] = await Promise.all([netboot(lan, machineA), netboot(lan, machineB), netboot(lan, machineC), netboot(lan, machineArm)]);
    expect(arm.output).toMatch(/Linux version .*aarch64|Machine model: linux,dummy-virt/);
    for (const [result, name, status] of [
      [a, 'a', 3],
      [b, 'b', 0],
      [c, 'c', 5],
      [arm, 'arm', 6],
    ] as const) {
      expectCleanEnd(result, status);
      expect(result.output).toContain(`ran-on-${name}-42`);
      expect(result.output.match(/ran-on-\w+-42/g)).toEqual([`ran-on-${name}-42`]);
    }
    const log = lan.serverLog('serve-dhcp');
    // Each step, with the MAC it was for: the UEFI machine's firmware fetched iPXE by TFTP first.
    for (const machine of [machineA, machineB, machineC, machineArm]) {
      const arch = machine.arch ?? 'amd64';
      expect(log).toMatch(new RegExp(`dhcp +${machine.mac} DHCPACK`));
      expect(log).toMatch(new RegExp(`script +${machine.mac} script served \\(its own entry\\)`));
      expect(log).toMatch(new RegExp(`kernel +${machine.mac} linux-${arch} served, \\d+ bytes`));
      expect(log).toMatch(new RegExp(`initrd +${machine.mac} initramfs.linux_${arch}.cpio.xz served, \\d+ bytes`));
    }
    expect(log).toMatch(new RegExp(`tftp +${machineC.mac} TFTP: ipxe.efi sent`));
    expect(log).toMatch(new RegExp(`tftp +${machineArm.mac} TFTP: ipxe-arm64.efi sent`));
    // Each blob of the image left the upstream once, by the upstream's own log, whatever the three machines asked at once.
    const upstreamLog = lan.serverLog('registry-5000');
    for (const blob of [...upstreamImage.layers, upstreamImage.config]) {
      const gets = upstreamLog
        .split('\n')
        .filter((line) => /msg="response completed"/.test(line) && line.includes(`GET`) && line.includes(`/blobs/${blob.digest}`));
      expect(gets, `${blob.digest} in the upstream's log:\n${upstreamLog}`).toHaveLength(1);
    }
    const layer = upstreamImage.layers[0]!;
    const digest = layer.digest.slice(0, 19);
    const fetched = log.match(new RegExp(`${CACHE_PORT}: blob ${digest} of mesa/test-gl fetched from the upstream: (\\d+\\.\\d) MB`, 'g')) ?? [];
    expect(fetched, log).toHaveLength(1);
    // And each machine got it whole from the gateway.
    const size = (layer.data.length / 1e6).toFixed(1).replace('.', '\\.');
    expect(log.match(new RegExp(`registry +192\\.168\\.77\\.\\d+ +${CACHE_PORT}: GET blob ${digest} of mesa/test-gl: ${size} MB`, 'g'))).toHaveLength(3);
  });

  it('reads the machines file again when it changes, keeps the last good one when a change is bad, and boots a machine added meanwhile', async () => {
    const from = lan.serverLog('serve-dhcp').length;
    writeFileSync(machinesFile, [yamlEntry(machineA, `${cmdline('a', 3)} b2c.cache_device=sideways`), yamlEntry(machineB, cmdline('b', 0))].join(''));
    await serverSays(
      lan,
      'serve-dhcp',
      /error .* has an error:\n\s+52:54:00:b2:c0:01: cmdline: [^\n]*cache_device[^\n]*\n\s+b2c serve goes on with the last good/,
      from,
    );
    writeFileSync(machinesFile, [yamlEntry(machineA, cmdline('a-again', 7)), yamlEntry(machineD, cmdline('d', 8))].join(''));
    await serverSays(lan, 'serve-dhcp', /reload .* machines file read again: 2 machines, no default/, from);
    const [again, added] = await Promise.all([netboot(lan, machineA), netboot(lan, machineD)]);
    expectCleanEnd(again, 7);
    expect(again.output).toContain('ran-on-a-again-42');
    expect(again.output).not.toContain('ran-on-a-42');
    expectCleanEnd(added, 8);
    expect(added.output).toContain('ran-on-d-42');
    expect(lan.serverLog('serve-dhcp').slice(from)).toMatch(new RegExp(`script +${machineD.mac} script served \\(its own entry\\)`));
  });

  it('offers only the boot next to another DHCP server (proxyDHCP), and nothing to a machine it does not know', async () => {
    await lan.stop('serve-dhcp');
    writeFileSync(machinesFile, yamlEntry(machineC, cmdline('c-proxy', 4)));
    const tools = await DebianTools.prepare(['dnsmasq-base']);
    // The network's own DHCP server, which knows nothing of booting.
    await lan.serve('plain-dhcp', tools.command('dnsmasq-base', 'usr/sbin/dnsmasq', lan.dhcpServerArgs('plain', ['--port=0'])), /started, version/);
    await lan.serve('serve-proxy', serveArgs(['--proxy-dhcp']), /ready .* serving 1 machine, no default on b2cbr0 \(proxyDHCP/);
    // The stranger's firmware asks within seconds of power-on; a minute shows it got nothing and booted nothing.
    const [c, unknown] = await Promise.all([netboot(lan, machineC), netboot(lan, stranger, 60)]);
    const seen = [
      `b2c serve's log:\n${lan.serverLog('serve-proxy')}`,
      `the other DHCP server's log:\n${lan.serverLog('plain-dhcp')}`,
      `machine C's console ended with:\n${c.console.split('\n').slice(-40).join('\n')}`,
    ].join('\n');
    expect(c.console, seen).toMatch(/Execution is over, pipeline status: 4/);
    expectCleanEnd(c, 4);
    expect(c.output).toContain('ran-on-c-proxy-42');
    // The address came from the other server; the boot from the proxy.
    expect(lan.serverLog('plain-dhcp')).toMatch(new RegExp(`DHCPACK\\(b2cbr0\\) [0-9.]+ ${machineC.mac}`));
    const log = lan.serverLog('serve-proxy');
    expect(log).toMatch(new RegExp(`dhcp +${machineC.mac} PXE`));
    expect(log).toMatch(new RegExp(`script +${machineC.mac} script served`));
    // The stranger's firmware got no offer and found nothing else to boot.
    expect(unknown.exitCode).toBe(RUN_EXIT.timeout);
    expect(unknown.console).not.toContain('Linux version');
    const strangerSteps = log.split('\n').filter((line) => line.includes(stranger.mac));
    expect(strangerSteps.length, `b2c serve never saw the stranger:\n${log}`).toBeGreaterThan(0);
    expect(strangerSteps.filter((line) => !/no boot offered/.test(line))).toEqual([]);
  });
});
