// The network, the clock and the extra arguments: on a test LAN in a namespace of its own (DHCP, DNS and NTP by dnsmasq and chrony), and through the
// user-mode forwards (HTTP and HTTPS).

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cpioChunks, S_IFDIR, S_IFREG } from '../../src/image/cpio.ts';
import { CA_BUNDLE } from '../../src/image-layout.ts';
import { FORWARD_ADDRESS } from '../../src/vm/qemu.ts';
import { QmpClient } from '../../src/vm/qmp.ts';
import { DebianTools } from '../../src/debian/tools.ts';
import { makeCertificates, type TestCertificates } from '../../src/testbed/certificates.ts';
import { TestNetwork } from '../../src/testbed/netns.ts';
import { bootB2c, builtArchive, expectCleanEnd, step } from './boot.ts';

const REGISTRY_NAME = 'registry.b2c.test';
const NTP_NAME = 'ntp.b2c.test';
const lanImage = `docker://${REGISTRY_NAME}:5000/b2c-test/busybox:1`;

describe('on a LAN with DHCP, DNS and NTP servers', () => {
  let lan: TestNetwork;

  beforeAll(async () => {
    const tools = await DebianTools.prepare(['chrony', 'dnsmasq-base']);
    // b2ctap1 leads nowhere: a machine with a dead port first.
    lan = await TestNetwork.create(['lan', 'nowhere', 'lan']);
    await lan.serveGatewayBasics(tools, [REGISTRY_NAME, NTP_NAME]);
    await lan.serveRegistry(inject('registryData'));
  }, 300_000);

  afterAll(async () => {
    await lan?.destroy();
  });

  it('takes the first lease among the interfaces, DNS from it, and the clock from NTP before the pull', async () => {
    const hostYear = new Date().getUTCFullYear();
    const result = await bootB2c(
      [
        `b2c.ntp_peer=${NTP_NAME}`,
        step(
          'b2c.container',
          `sh -c 'echo year=$(date -u +%Y) marker=$((6*7)); grep nameserver /etc/resolv.conf; ip -4 -o addr show dev eth1; ` +
            `echo eth0-$(ip -4 -o addr show dev eth0 | wc -l)-addresses'`,
          lanImage,
        ),
      ],
      { namespace: lan.namespace, runOptions: ['--network', 'tap=b2ctap1,tap=b2ctap0', '--rtc-base', '2001-01-01'] },
    );
    expectCleanEnd(result, 0);
    expect(result.output).toMatch(/Asking for a DHCP lease on eth0/);
    expect(result.output).toMatch(/Got the address 192\.168\.77\.1\d\d\/24 on eth1, gateway 192\.168\.77\.1/);
    expect(result.output).toMatch(/The clock was set from ntp\.b2c\.test: \d{4}-/);
    expect(result.output).toMatch(new RegExp(`year=${hostYear} marker=42`));
    expect(result.output).toMatch(/nameserver 192\.168\.77\.1/);
    expect(result.output).toMatch(/eth1\s+inet 192\.168\.77\.1\d\d\/24/);
    expect(result.output).toMatch(/eth0-0-addresses/);
    expect(lan.serverLog('dnsmasq')).toMatch(/DHCPACK\(b2cbr0\)/);
  });

  it('configures several interfaces from b2c.iface, loads named modules, sets host name and keymap, and goes on when NTP never answers', async () => {
    const result = await bootB2c(
      [
        'b2c.iface=eth0,address=192.168.77.20/24,gateway=192.168.77.1,nameserver=192.168.77.1,route=10.99.0.0/16:192.168.77.1,forward,mtu=1400',
        'b2c.iface=eth1,dhcp',
        // uas needs usb_storage, scsi_mod and usbcore: loaded with it.
        'b2c.modules=uas',
        'b2c.hostname=dut-7',
        'b2c.keymap=de',
        // Nobody answers NTP there: the boot must go on after a bounded wait.
        'b2c.ntp_peer=192.168.77.2',
        step(
          'b2c.container',
          `sh -c 'echo host=$(hostname) marker=$((6*7)); ip -4 -o addr show; ip route; ip -o link show dev eth0; ` +
            `echo forwarding=$(cat /proc/sys/net/ipv4/conf/eth0/forwarding); grep nameserver /etc/resolv.conf; ` +
            `echo modules=$(grep -c -e ^uas -e ^usb_storage /proc/modules)'`,
          lanImage,
        ),
        // A registry name the LAN's DNS does not know: tried five times, then named.
        step('b2c.post_container', 'echo never-$((6*7))', 'docker://nowhere.b2c.test:5000/b2c-test/busybox:1'),
      ],
      { namespace: lan.namespace, runOptions: ['--network', 'tap=b2ctap0,tap=b2ctap2'] },
    );
    // A post container's failure is said, and leaves the pipeline's status alone.
    expectCleanEnd(result, 0);
    expect(result.output).toContain('Post container 1 exited with status 125');
    expect(result.output).toMatch(/Could not pull docker:\/\/nowhere\.b2c\.test:5000\/b2c-test\/busybox:1 \(5 tries\): .*nowhere\.b2c\.test/);
    expect(result.output).not.toMatch(/never-42/);
    expect(result.output).not.toMatch(/Asking for a DHCP lease on eth0/);
    expect(result.output).toMatch(/Got the address 192\.168\.77\.1\d\d\/24 on eth1/);
    expect(result.output).toMatch(/eth1\s+inet 192\.168\.77\.1\d\d\/24/);
    expect(result.output).toMatch(/modules=2/);
    expect(result.output).toMatch(/Loaded the keymap de/);
    expect(result.output).toMatch(/host=dut-7 marker=42/);
    expect(result.output).toMatch(/eth0\s+inet 192\.168\.77\.20\/24/);
    // The lease on eth1 brings a default route too; either way it goes to the LAN's router.
    expect(result.output).toMatch(/default via 192\.168\.77\.1 dev eth[01]/);
    expect(result.output).toMatch(/10\.99\.0\.0\/16 via 192\.168\.77\.1 dev eth0/);
    expect(result.output).toMatch(/forwarding=1/);
    expect(result.output).toMatch(/^\d+: eth0: .* mtu 1400 /m);
    expect(result.output).toMatch(/nameserver 192\.168\.77\.1/);
    expect(result.output).toMatch(/Could not set the clock from 192\.168\.77\.2 \(no answer\): going on with/);
  });

  it('a port no DHCP server answers and a card whose link never comes up: each named, a failure within the bounds, and a power-off', async () => {
    const qmp = join(lan.workDir, 'qmp.sock');
    let unplugged: Promise<unknown> | undefined;
    const result = await bootB2c([step('b2c.container', 'echo never-$((6*7))', lanImage)], {
      namespace: lan.namespace,
      qmp,
      // eth0 on the tap that leads nowhere; eth1 on the LAN, its cable pulled (QMP set_link) as soon as the kernel starts.
      runOptions: ['--network', 'tap=b2ctap1,tap=b2ctap0'],
      onConsole: () => {
        unplugged ??= QmpClient.connect(qmp).then((client) => client.execute('set_link', { name: 'net1', up: false }));
      },
    });
    await unplugged;
    expectCleanEnd(result, 1);
    expect(result.output).toMatch(/^\[[\d.]+\]: No DHCP lease on eth0\r?$/m);
    expect(result.output).toContain('No DHCP lease on eth1: it has no link (no cable, or the switch port is down)');
    expect(result.output).toContain('Error: no DHCP server answered on eth0, eth1 within about 10 s');
    expect(result.output).not.toMatch(/never-42/);
    // In the machine's own time: the bound is the init's.
    const seconds = result.uptimeAt('Execution is over') ?? Infinity;
    const asked = result.uptimeAt('Asking for a DHCP lease on eth0') ?? 0;
    console.log(`DHCP wait: ${(seconds - asked).toFixed(1)} s from the first request to the status line`);
    expect(seconds - asked).toBeLessThan(30);
  });
});

describe('without a network card', () => {
  it('says so, runs nothing and powers off with a failure', async () => {
    const result = await bootB2c([step('b2c.container', 'echo never-$((6*7))')], { runOptions: ['--network', 'none'] });
    expectCleanEnd(result, 1);
    expect(result.output).toMatch(/Error: no network interface \(eth\*, en\* or usb\*\) appeared within 10 s/);
    expect(result.output).not.toMatch(/never-42/);
  });
});

describe('a kernel whose modules the image does not ship', () => {
  it('says so once, goes on with what is built in, and fails clearly when that has no network driver', async () => {
    const tools = await DebianTools.prepare(['linux-image-cloud-amd64']);
    const kernelPackage = tools.packages.find((name) => /^linux-image-\d.*-cloud-amd64$/.test(name));
    if (kernelPackage === undefined) throw new Error(`no cloud kernel among ${tools.packages.join(', ')}`);
    const release = kernelPackage.slice('linux-image-'.length);
    const kernel = join(tools.root(kernelPackage), 'boot', `vmlinuz-${release}`);
    // The cloud flavour has virtio_net and overlay as modules: without them there is no network card.
    const result = await bootB2c(['b2c.keymap=nope', 'b2c.modules=virtio_net', step('b2c.container', 'echo never-$((6*7))')], {
      runOptions: ['--kernel', kernel],
    });
    expectCleanEnd(result, 1);
    expect(result.output.split(`This image has no modules for the running kernel ${release}: going on with the drivers built into it`)).toHaveLength(2);
    expect(result.output).toMatch(/b2c.modules \(virtio_net\) cannot be loaded: the image has no modules for this kernel/);
    expect(result.output).toMatch(/b2c.keymap=nope: this image has no such keymap \(it has: de, es, fr, it, uk, us\)/);
    expect(result.output).toMatch(/Error: no network interface/);
    // The card its kernel has a module for, which this image does not ship, is named.
    expect(result.output).toMatch(
      /virtio type 1 \(network card\) at virtio\d+, modalias virtio:d00000001v00001AF4: no module of this image or its add-ons matches it/,
    );
  });
});

/**
 * The image with its CA bundle replaced by `bundle`: a cpio appended to the
 * archive, which the kernel unpacks over the first (the way a farm adds its
 * own CA without rebuilding).
 */
function imageTrusting(bundle: string, directory: string, name: string): string {
  const entries = [
    { path: 'etc', mode: S_IFDIR | 0o755, data: new Uint8Array() },
    { path: 'etc/ssl', mode: S_IFDIR | 0o755, data: new Uint8Array() },
    { path: 'etc/ssl/certs', mode: S_IFDIR | 0o755, data: new Uint8Array() },
    { path: CA_BUNDLE.slice(1), mode: S_IFREG | 0o644, data: new TextEncoder().encode(bundle) },
  ];
  const overlay = Buffer.concat([...cpioChunks(entries, 0)]);
  const path = join(directory, name);
  writeFileSync(path, Buffer.concat([readFileSync(builtArchive()), overlay]));
  return path;
}

describe('b2c.extra_args_url', () => {
  const SECRET = 'extra-secret-4242';
  let directory: string;
  let https: Server;
  let http: Server;
  let certificates: TestCertificates;
  const requests: string[] = [];
  const port = (server: Server): number => (server.address() as AddressInfo).port;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'b2c-extra-args-'));
    certificates = makeCertificates(directory, `IP:${FORWARD_ADDRESS}`);
    const extraArgs = [
      step('b2c.container', "sh -c 'echo from-extra host=$(hostname) marker=$((6*7))'"),
      'b2c.hostname=dut-from-extra',
      // Too late to act on: the network is what fetched this file.
      'b2c.iface=eth0,dhcp',
      `b2c.minio="jobs,http://${FORWARD_ADDRESS}:1,ACCESS,${SECRET}"`,
    ].join('\n');
    const handler = (request: { url?: string }, response: { writeHead(status: number): void; write(body: string): void; end(body?: string): void }): void => {
      requests.push(request.url ?? '');
      if (request.url === '/dut-7') {
        response.writeHead(200);
        response.end(`${extraArgs}\n`);
      } else if (request.url === '/huge') {
        // Sent without a length, as a generated file is: curl can only count as it arrives.
        response.writeHead(200);
        response.write('b2c.hostname=huge ');
        response.end(`${'x'.repeat(2 * 1024 * 1024)}\n`);
      } else {
        response.writeHead(404);
        response.end('not here');
      }
    };
    https = createHttpsServer({ key: certificates.key, cert: certificates.cert }, handler);
    http = createHttpServer(handler);
    await Promise.all([https, http].map((server) => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))));
  });

  afterAll(async () => {
    await Promise.all([https, http].map((server) => new Promise((resolve) => server?.close(resolve))));
  });

  it('over HTTPS with a trusted certificate: merged after the kernel line, never shown', async () => {
    const initrd = imageTrusting(certificates.ca, directory, 'trusting.cpio');
    const result = await bootB2c(
      [`b2c.extra_args_url=https://${FORWARD_ADDRESS}:${port(https)}/dut-7`, step('b2c.container', "sh -c 'echo from-kernel-$((6*7))'")],
      {
        runOptions: ['--forward', String(port(https)), '--initrd', initrd],
      },
    );
    expectCleanEnd(result, 0);
    expect(result.output).toMatch(/Got 4 extra arguments \(\d+ bytes, not shown: they may hold secrets\)/);
    expect(result.output).toMatch(/Warning: b2c.iface in the extra arguments comes too late/);
    expect(result.output.indexOf('from-kernel-42')).toBeLessThan(result.output.indexOf('from-extra host=dut-from-extra marker=42'));
    expect(result.output.indexOf('from-kernel-42')).toBeGreaterThan(-1);
    // The console holds the whole boot, the kernel's echo of its own line included.
    expect(result.console).not.toContain(SECRET);
    expect(requests).toContain('/dut-7');
  });

  it('over HTTPS with a certificate from an unknown CA: an error, and nothing runs', async () => {
    const initrd = imageTrusting(certificates.strangerCa, directory, 'stranger.cpio');
    const result = await bootB2c([`b2c.extra_args_url=https://${FORWARD_ADDRESS}:${port(https)}/dut-7`, step('b2c.container', 'echo from-kernel-$((6*7))')], {
      runOptions: ['--forward', String(port(https)), '--initrd', initrd],
    });
    expectCleanEnd(result, 1);
    expect(result.output).toMatch(/Error: could not download the extra arguments from https:.* \(curl status 60\)/);
    expect(result.output).not.toMatch(/from-kernel-42|from-extra/);
    expect(result.console).not.toContain(SECRET);
  });

  it('over HTTP, a file larger than any command line: refused as it arrives, and nothing runs', async () => {
    const result = await bootB2c([`b2c.extra_args_url=http://${FORWARD_ADDRESS}:${port(http)}/huge`, step('b2c.container', 'echo from-kernel-$((6*7))')], {
      runOptions: ['--forward', String(port(http))],
    });
    expectCleanEnd(result, 1);
    expect(result.output).toMatch(/Error: the extra arguments at http:\S+\/huge are larger than 1 MiB: is it the right file\?/);
    expect(result.output).not.toMatch(/from-kernel-42/);
  });

  it('over HTTP, a missing file (with an ip= the kernel ignores): an error, and nothing runs', async () => {
    // ip= as well: Debian's kernel ignores it, so b2c must still bring the network up for the download.
    const result = await bootB2c(
      ['ip=dhcp', `b2c.extra_args_url=http://${FORWARD_ADDRESS}:${port(http)}/nobody`, step('b2c.container', 'echo from-kernel-$((6*7))')],
      {
        runOptions: ['--forward', String(port(http))],
      },
    );
    expectCleanEnd(result, 1);
    expect(result.output).toMatch(/Warning: this kernel ignores ip=dhcp \(it has no CONFIG_IP_PNP\): b2c configures the network itself/);
    expect(requests).toContain('/nobody');
    expect(result.output).toMatch(/Error: could not download the extra arguments from http:.* \(curl status 22\): .*404/);
    expect(result.output).not.toMatch(/from-kernel-42/);
  });
});
