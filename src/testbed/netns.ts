// A test LAN inside a network namespace of its own: a bridge, tap devices for guests, and servers on it; no route leads out.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { B2cError } from '../errors.ts';
import type { DebianTools } from '../debian/tools.ts';
import type { OciImage } from './oci-image.ts';
import { LocalRegistry, registryConfig } from './registry.ts';
import { joinSockets } from './sockets.ts';

/** The namespace's side of the LAN: its own address, and the range its DHCP server hands out. */
export const LAN = {
  address: '192.168.77.1',
  prefixLength: 24,
  dhcpFirst: '192.168.77.100',
  dhcpLast: '192.168.77.150',
  /** Another host of the LAN, standing in for the internet's registries: see addAddress. */
  upstream: '192.168.77.2',
};

function ip(args: string[]): void {
  const result = spawnSync('ip', args, { encoding: 'utf8' });
  if (result.status !== 0) throw new B2cError(`ip ${args.join(' ')} failed: ${(result.stderr || result.error?.message || '').trim()}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

const RELAY_MAIN = fileURLToPath(new URL('./relay.ts', import.meta.url));

export class TestNetwork {
  private readonly servers: Array<{ name: string; child: ChildProcess; log: string }> = [];
  /** The host's ends of the ports exposed on the LAN. */
  private readonly bridges: Server[] = [];

  private constructor(
    /** The namespace's name, for `ip netns exec`. */
    readonly namespace: string,
    readonly workDir: string,
  ) {}

  /**
   * A namespace with a bridge at LAN.address and one tap device per item
   * (b2ctap0, b2ctap1, ...): on the bridge for 'lan', on nothing at all for
   * 'nowhere' (a cable to a dead switch port). Needs root, as the netns and
   * the taps do.
   */
  static async create(taps: ReadonlyArray<'lan' | 'nowhere'>): Promise<TestNetwork> {
    const namespace = `b2c-test-${process.pid}-${Date.now() % 100000}`;
    ip(['netns', 'add', namespace]);
    const network = new TestNetwork(namespace, await mkdtemp(join(tmpdir(), 'b2c-lan-')));
    try {
      ip(['-n', namespace, 'link', 'set', 'lo', 'up']);
      ip(['-n', namespace, 'link', 'add', 'b2cbr0', 'type', 'bridge']);
      ip(['-n', namespace, 'addr', 'add', `${LAN.address}/${LAN.prefixLength}`, 'dev', 'b2cbr0']);
      ip(['-n', namespace, 'link', 'set', 'b2cbr0', 'up']);
      for (const [index, where] of taps.entries()) {
        const tap = `b2ctap${index}`;
        ip(['-n', namespace, 'tuntap', 'add', 'dev', tap, 'mode', 'tap']);
        if (where === 'lan') ip(['-n', namespace, 'link', 'set', tap, 'master', 'b2cbr0']);
        ip(['-n', namespace, 'link', 'set', tap, 'up']);
      }
    } catch (error) {
      await network.destroy();
      throw error;
    }
    return network;
  }

  /** The argv that runs a command inside the namespace. */
  inside(argv: readonly string[]): string[] {
    return ['ip', 'netns', 'exec', this.namespace, ...argv];
  }

  /** Starts a server inside the namespace; resolves once `ready` shows in its output. */
  async serve(name: string, argv: readonly string[], ready: RegExp, timeoutMs = 20_000): Promise<void> {
    const log = join(this.workDir, `${name}.log`);
    const fd = openSync(log, 'a');
    const [program, ...args] = this.inside(argv);
    const child = spawn(program as string, args, { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    this.servers.push({ name, child, log });
    const started = Date.now();
    for (;;) {
      const text = readFileSync(log, 'utf8');
      if (ready.test(text)) return;
      if (child.exitCode !== null) throw new B2cError(`${name} exited with status ${child.exitCode}:\n${text}`);
      if (Date.now() - started > timeoutMs) throw new B2cError(`${name} did not become ready in ${timeoutMs / 1000} s:\n${text}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Gives the bridge another address, for a server that stands for another host of the LAN. */
  addAddress(address: string): void {
    ip(['-n', this.namespace, 'addr', 'add', `${address}/${LAN.prefixLength}`, 'dev', 'b2cbr0']);
  }

  /**
   * The registry a gateway caches, on another host of the LAN
   * (LAN.upstream:5000, log `registry-5000`), holding `image` as
   * `repository:tag`: it stands for the internet's registries.
   */
  async serveUpstreamRegistry(repository: string, tag: string, image: OciImage): Promise<void> {
    const data = join(this.workDir, 'upstream');
    mkdirSync(data);
    const filler = await LocalRegistry.start({ dataDirectory: data });
    await filler.push(repository, tag, image);
    await filler.stop();
    this.addAddress(LAN.upstream);
    await this.serveRegistry(data, 5000, LAN.upstream);
  }

  /** A registry at ADDRESS:PORT (LAN.address unless given) serving the images another registry stored in `dataDirectory`, its log under `registry-PORT`. */
  async serveRegistry(dataDirectory: string, port = 5000, address = LAN.address): Promise<void> {
    const config = join(this.workDir, `registry-${port}.yml`);
    writeFileSync(config, registryConfig(`${address}:${port}`, dataDirectory));
    await this.serve(`registry-${port}`, ['docker-registry', 'serve', config], /listening on/);
  }

  /**
   * Makes a server of the test on 127.0.0.1:hostPort answer on the LAN at
   * LAN.address:lanPort, as a gateway's service does: a relay in the
   * namespace carries each connection over a Unix socket, which crosses the
   * namespaces, to the host's end here. Nothing else of the host is reached.
   */
  async expose(lanPort: number, hostPort: number): Promise<void> {
    const socket = join(this.workDir, `port-${lanPort}.sock`);
    const bridge = createServer((lan) => joinSockets(lan, connect(hostPort, '127.0.0.1')));
    await new Promise<void>((resolve, reject) => bridge.once('error', reject).listen(socket, resolve));
    this.bridges.push(bridge);
    await this.serve(`relay-${lanPort}`, [process.execPath, '--import', 'tsx', RELAY_MAIN, `${LAN.address}:${lanPort}`, socket], /^relaying/m);
  }

  /**
   * A gateway's own services on the LAN: an NTP server (chrony, serving the
   * host's time without touching the host's clock) and a DHCP server whose
   * DNS answers each of `names` with the LAN's address and nothing else
   * (no upstream). The tools come from Debian (chrony, dnsmasq-base).
   */
  async serveGatewayBasics(tools: DebianTools, names: readonly string[]): Promise<void> {
    const chronyConf = join(this.workDir, 'chrony.conf');
    const chrony = [
      'local stratum 8',
      `allow ${LAN.address}/${LAN.prefixLength}`,
      `bindaddress ${LAN.address}`,
      'cmdport 0',
      `pidfile ${this.workDir}/chronyd.pid`,
    ];
    writeFileSync(chronyConf, `${chrony.join('\n')}\n`);
    await this.serve('chronyd', tools.command('chrony', 'usr/sbin/chronyd', ['-d', '-x', '-u', 'root', '-f', chronyConf]), /chronyd version/);
    const dnsmasqArgs = this.dhcpServerArgs('dnsmasq', [
      '--log-dhcp',
      '--no-resolv',
      '--no-hosts',
      `--dhcp-option=option:router,${LAN.address}`,
      ...names.map((name) => `--address=/${name}/${LAN.address}`),
    ]);
    await this.serve('dnsmasq', tools.command('dnsmasq-base', 'usr/sbin/dnsmasq', dnsmasqArgs), /started, version/);
  }

  /** dnsmasq's arguments for a DHCP server on the LAN handing out its range, logged to stdout; more of them after. */
  dhcpServerArgs(name: string, more: readonly string[] = []): string[] {
    return [
      '--keep-in-foreground',
      '--log-facility=-',
      '--conf-file=/dev/null',
      '--user=root',
      '--pid-file',
      '--interface=b2cbr0',
      '--bind-interfaces',
      `--dhcp-leasefile=${join(this.workDir, `${name}.leases`)}`,
      `--dhcp-range=${LAN.dhcpFirst},${LAN.dhcpLast},255.255.255.0,1h`,
      ...more,
    ];
  }

  /** What a server has written so far. */
  serverLog(name: string): string {
    const server = this.servers.find((item) => item.name === name);
    return server ? readFileSync(server.log, 'utf8') : '';
  }

  /** Stops one server (SIGTERM) and waits for it to exit; its log stays. */
  async stop(name: string): Promise<void> {
    for (const server of this.servers) if (server.name === name) await stopChild(server.child);
  }

  async destroy(): Promise<void> {
    for (const server of this.servers) await stopChild(server.child);
    for (const bridge of this.bridges) {
      bridge.close();
    }
    spawnSync('ip', ['netns', 'del', this.namespace]);
    await rm(this.workDir, { recursive: true, force: true });
  }
}
