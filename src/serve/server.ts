// `b2c serve` at work: checks everything first, runs dnsmasq (DHCP or proxyDHCP, TFTP) and the HTTP server, re-reads the machines file on change.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, watch, type FSWatcher } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { describeError } from '../errors.ts';
import { dnsmasqArgs, hostsFileText, IPXE_PROGRAMS, parseDnsmasqLine, tftpNames, type DhcpMode, type DnsmasqPlan } from './dnsmasq.ts';
import { ServeError } from './errors.ts';
import type { ServeEvent } from './events.ts';
import { BootHttpServer, MacBook } from './http.ts';
import { filesOf, readMachines, type MachinesTable } from './machines.ts';
import { GatewayRegistries, REGISTRY_PACKAGES, type GatewayRegistriesOptions } from './registries.ts';
import { interfaceSubnets, type Subnet } from './subnet.ts';

export interface ServeOptions {
  interface: string;
  subnet: Subnet;
  /** A DHCP range to hand out, or proxyDHCP next to the network's own DHCP server. */
  dhcp: { kind: 'dhcp'; first: string; last: string } | { kind: 'proxy' };
  machinesFile: string;
  /** `b2c build`'s output folder: the files of an entry that names none. */
  outDir: string;
  httpPort: number;
  report: (event: ServeEvent) => void;
  /** The dnsmasq command and iPXE's folder; Debian trixie's, from the host cache, unless given (a test's stand-in). */
  tools?: { dnsmasq: string[]; ipxeDir: string };
  /** The gateway's registry caches and plain registries, if any: they answer on the server's address. */
  registries?: Omit<GatewayRegistriesOptions, 'gateway' | 'report'>;
}

/** The Debian packages `b2c serve` runs: dnsmasq, and the iPXE programs it hands out. */
export const SERVE_PACKAGES = ['dnsmasq-base', 'ipxe'] as const;

async function debianServeTools(): Promise<{ dnsmasq: string[]; ipxeDir: string }> {
  // Loaded here: the apt code stays out of every other command's start.
  const { DebianTools } = await import('../debian/tools.ts');
  const tools = await DebianTools.prepare([...SERVE_PACKAGES]).catch((error: unknown) => {
    throw new ServeError(
      `cannot fetch Debian's dnsmasq and iPXE: ${describeError(error)}\n  run b2c prefetch where Debian is reachable, then start b2c serve again`,
    );
  });
  return { dnsmasq: tools.command('dnsmasq-base', 'usr/sbin/dnsmasq'), ipxeDir: join(tools.root('ipxe'), 'usr/lib/ipxe') };
}

/** How long after a change of the machines file it is read: an editor writes in several steps. */
const RELOAD_SETTLE_MS = 300;

/** The machines file, read and checked, its files included; a ServeError lists every problem. */
export async function loadMachines(
  file: string,
  outDir: string,
  registryCaches?: { gateway: string; caches: GatewayRegistriesOptions['caches'] },
): Promise<{ table: MachinesTable; warnings: string[] }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ServeError(`cannot read the machines file ${file}: ${describeError(error)}`);
  }
  const reading = readMachines(text, { fileDir: dirname(resolve(file)), outDir: resolve(outDir), ...(registryCaches === undefined ? {} : { registryCaches }) });
  const errors = [...reading.errors];
  for (const [path, keys] of filesOf(reading.table)) {
    if (!existsSync(path)) errors.push(`${keys.join(', ')}: ${path} does not exist${path.startsWith(resolve(outDir)) ? " (run 'npx b2c build' first?)" : ''}`);
  }
  if (errors.length > 0)
    throw new ServeError(`the machines file ${file} has ${errors.length === 1 ? 'an error' : `${errors.length} errors`}:\n  ${errors.join('\n  ')}`);
  return { table: reading.table, warnings: reading.warnings };
}

/** The interface exists and has the address: the server answers there, and only there. */
export function checkInterface(name: string, subnet: Subnet): void {
  if (!/^[A-Za-z0-9_.:-]{1,15}$/.test(name) || !existsSync(`/sys/class/net/${name}`)) {
    throw new ServeError(`there is no network interface ${name} (ip link lists them)`);
  }
  const shown = spawnSync('ip', ['-j', '-4', 'addr', 'show', 'dev', name], { encoding: 'utf8' });
  if (shown.status !== 0) throw new ServeError(`cannot read the addresses of ${name}: ${(shown.stderr || shown.error?.message || '').trim()}`);
  const subnets = interfaceSubnets(shown.stdout);
  const wanted = `${subnet.address}/${subnet.prefixLength}`;
  if (!subnets.includes(wanted)) {
    const has = subnets.length === 0 ? 'none' : subnets.join(', ');
    throw new ServeError(`${name} does not have the address ${wanted} (it has ${has}): ip addr add ${wanted} dev ${name}, or give --address one it has`);
  }
}

export class BootServer {
  private table: MachinesTable;
  private dnsmasq: ChildProcess | undefined;
  private registries: GatewayRegistries | undefined;
  private watcher: FSWatcher | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private readonly bootFileByTransaction = new Map<string, string>();
  /** The reload under way, if any: reloads run one at a time, and stop waits for the one in flight. */
  private reloading: Promise<void> = Promise.resolve();
  private reloadPending = false;
  private endedWith: (why: string) => void = () => {};
  /** Resolves when dnsmasq, a registry or nginx ends by itself: the server cannot go on without it. */
  readonly ended = new Promise<string>((resolve) => (this.endedWith = resolve));

  private constructor(
    private readonly options: ServeOptions,
    loaded: { table: MachinesTable; warnings: string[] },
    private readonly workDir: string,
    private readonly dnsmasqCommand: string[],
    private readonly http: BootHttpServer,
    /** Shared with the HTTP side: DHCP answers name the machines whose TFTP and HTTP requests name only an address. */
    private readonly macs: MacBook,
  ) {
    this.table = loaded.table;
  }

  /** Checks the interface, the machines file and the HTTP port, then starts; nothing runs if any is wrong. */
  static async start(options: ServeOptions): Promise<BootServer> {
    if (process.getuid?.() !== 0) throw new ServeError('b2c serve runs as root: DHCP and TFTP answer on ports 67 and 69');
    checkInterface(options.interface, options.subnet);
    const loaded = await loadMachines(options.machinesFile, options.outDir, BootServer.registryCaches(options));
    const emit = (event: Omit<ServeEvent, 'time'>): void => options.report({ time: new Date().toISOString(), ...event });
    if (options.tools === undefined) {
      // Said before anything is fetched: on a gateway without internet, the fetch fails only after a DNS timeout.
      const { debianPackagesToFetch, describeFetch } = await import('../debian/tools.ts');
      const needs = describeFetch(await debianPackagesToFetch([...SERVE_PACKAGES, ...(options.registries === undefined ? [] : REGISTRY_PACKAGES)]));
      if (needs !== undefined) emit({ step: 'warning', message: `fetching ${needs} from Debian first (b2c prefetch fetches them ahead of time)` });
    }
    for (const warning of loaded.warnings) emit({ step: 'warning', message: warning });
    const baseUrl = `http://${options.subnet.address}:${options.httpPort}`;
    let server: BootServer | undefined;
    const macs = new MacBook();
    const http = new BootHttpServer(() => server?.table ?? loaded.table, baseUrl, emit, macs);
    await http.listen(options.subnet.address, options.httpPort);
    let workDir: string | undefined;
    try {
      emit({ step: 'dnsmasq', message: "preparing Debian trixie's dnsmasq and iPXE (fetched into the host cache the first time)" });
      const tools = options.tools ?? (await debianServeTools());
      workDir = await mkdtemp(join(tmpdir(), 'b2c-serve-'));
      await mkdirTftp(join(workDir, 'tftp'), tools.ipxeDir);
      server = new BootServer(options, loaded, workDir, tools.dnsmasq, http, macs);
      // The registries first: a machine that gets its boot pulls from them within seconds.
      if (options.registries !== undefined) {
        server.registries = await GatewayRegistries.start({ ...options.registries, gateway: options.subnet.address, report: emit });
        void server.registries.ended.then((why) => server?.endedWith(why));
      }
      await server.startDnsmasq();
      server.watchMachines();
      const mode = options.dhcp.kind === 'dhcp' ? `DHCP ${options.dhcp.first}-${options.dhcp.last}` : 'proxyDHCP';
      emit({
        step: 'ready',
        message: `serving ${server.describeTable()} on ${options.interface} (${mode}, TFTP, HTTP ${baseUrl})`,
      });
      return server;
    } catch (error) {
      await http.close();
      await server?.stopDnsmasq();
      await server?.registries?.stop();
      if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
      throw error;
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.watcher?.close();
    clearTimeout(this.reloadTimer);
    await this.reloading;
    await this.stopDnsmasq();
    await this.registries?.stop();
    await this.http.close();
    await rm(this.workDir, { recursive: true, force: true });
  }

  private static registryCaches(options: ServeOptions): { gateway: string; caches: GatewayRegistriesOptions['caches'] } | undefined {
    return options.registries === undefined ? undefined : { gateway: options.subnet.address, caches: options.registries.caches };
  }

  private emit(event: Omit<ServeEvent, 'time'>): void {
    this.options.report({ time: new Date().toISOString(), ...event });
  }

  private describeTable(): string {
    const count = this.table.machines.size;
    return `${count} ${count === 1 ? 'machine' : 'machines'}${this.table.default === undefined ? ', no default' : ' and a default'}`;
  }

  private plan(): DnsmasqPlan {
    const { subnet, dhcp } = this.options;
    const mode: DhcpMode =
      dhcp.kind === 'dhcp'
        ? { kind: 'dhcp', first: dhcp.first, last: dhcp.last, netmask: subnet.netmask }
        : { kind: 'proxy', network: subnet.network, netmask: subnet.netmask };
    return {
      interface: this.options.interface,
      serverAddress: subnet.address,
      mode,
      tftpRoot: join(this.workDir, 'tftp'),
      hostsFile: join(this.workDir, 'hosts'),
      leaseFile: join(this.workDir, 'leases'),
      scriptUrl: `http://${subnet.address}:${this.options.httpPort}/boot.ipxe`,
      bootEveryone: this.table.default !== undefined,
    };
  }

  private async startDnsmasq(): Promise<void> {
    const plan = this.plan();
    await writeFile(plan.hostsFile, hostsFileText(this.table.machines.keys()));
    const [program = 'dnsmasq', ...args] = [...this.dnsmasqCommand, ...dnsmasqArgs(plan)];
    // Its own process group: a Ctrl-C meant for b2c serve must not stop dnsmasq before b2c serve stops it.
    const child = spawn(program, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    this.dnsmasq = child;
    const lines: string[] = [];
    let started = false;
    const ready = new Promise<void>((resolveReady, rejectReady) => {
      createInterface({ input: child.stderr }).on('line', (line) => {
        // What dnsmasq said last, for the message if it stops: --log-dhcp says a lot over a server's life.
        lines.push(line);
        if (lines.length > 20) lines.shift();
        if (/started, version/.test(line)) {
          started = true;
          resolveReady();
        }
        if (started) this.onDnsmasqLine(line);
      });
      child.once('error', (error) => rejectReady(new ServeError(`cannot start dnsmasq: ${error.message}`)));
      child.once('exit', (code, signal) => {
        const output = lines.filter((line) => !/compile time options/.test(line)).join('\n  ');
        if (!started) rejectReady(new ServeError(`dnsmasq stopped at once (${signal ?? `status ${code}`}):\n  ${output}${portHint(output)}`));
        else if (this.dnsmasq === child && !this.stopping) this.endedWith(`dnsmasq stopped (${signal ?? `status ${code}`}): ${lines.slice(-3).join(' / ')}`);
      });
    });
    await ready;
  }

  private async stopDnsmasq(): Promise<void> {
    const child = this.dnsmasq;
    this.dnsmasq = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolveExit) => child.once('exit', resolveExit));
    child.kill('SIGTERM');
    await exited;
  }

  private onDnsmasqLine(line: string): void {
    const step = parseDnsmasqLine(line);
    if (step === undefined) return;
    switch (step.step) {
      case 'dhcp': {
        if (step.address !== undefined) this.macs.note(step.address, step.mac);
        // dnsmasq's word for a proxy request it ignored, by --dhcp-ignore: a machine the file does not offer a boot.
        const message = /ignored/.test(step.message) ? `${step.message}: not in the machines file, no boot offered` : step.message;
        this.emit({ step: 'dhcp', mac: step.mac, ...(step.address !== undefined ? { address: step.address } : {}), message });
        // The boot file that follows an offer is offered again with the acknowledgement: said once, with the answer that settles it.
        if (step.transaction !== undefined && !step.message.startsWith('DHCPOFFER')) this.bootFileByTransaction.set(step.transaction, step.mac);
        // An answer with no boot file (a machine's own DHCP client) leaves its transaction behind: the oldest go.
        for (const transaction of this.bootFileByTransaction.keys()) {
          if (this.bootFileByTransaction.size <= 256) break;
          this.bootFileByTransaction.delete(transaction);
        }
        return;
      }
      case 'boot-file': {
        const mac = this.bootFileByTransaction.get(step.transaction);
        if (mac !== undefined) {
          this.bootFileByTransaction.delete(step.transaction);
          this.emit({ step: 'dhcp', mac, message: `boot file offered: ${step.file}` });
        }
        return;
      }
      case 'tftp': {
        // iPXE asks its TFTP server for a script of its own before it asks DHCP: there is none, and that is no fault.
        if (!step.ok && basename(step.file) === 'autoexec.ipxe') return;
        this.emit({
          step: step.ok ? 'tftp' : 'error',
          address: step.address,
          ...this.macs.of(step.address),
          file: step.file,
          message: step.ok ? `TFTP: ${basename(step.file)} sent` : `TFTP: ${step.message}`,
        });
        return;
      }
      case 'dnsmasq':
        if (!/^compile time options/.test(step.message)) this.emit({ step: 'dnsmasq', message: step.message });
    }
  }

  private watchMachines(): void {
    const file = resolve(this.options.machinesFile);
    // The folder, not the file: editors replace a file by renaming another onto it, which ends a watch on the file itself.
    this.watcher = watch(dirname(file), (_event, name) => {
      if (name !== null && name !== basename(file)) return;
      clearTimeout(this.reloadTimer);
      this.reloadTimer = setTimeout(() => void this.reload(), RELOAD_SETTLE_MS);
    });
  }

  /** Reads the machines file again after the reload under way, if any; changes meanwhile are read once more after. */
  reload(): Promise<void> {
    if (this.reloadPending) return this.reloading;
    this.reloadPending = true;
    this.reloading = this.reloading.then(() => {
      this.reloadPending = false;
      return this.reloadNow();
    });
    return this.reloading;
  }

  /** Takes a changed machines file if it is good; otherwise keeps the last good one and says why. */
  private async reloadNow(): Promise<void> {
    if (this.stopping) return;
    let loaded: { table: MachinesTable; warnings: string[] };
    try {
      loaded = await loadMachines(this.options.machinesFile, this.options.outDir, BootServer.registryCaches(this.options));
    } catch (error) {
      this.emit({ step: 'error', message: `${describeError(error)}\n  b2c serve goes on with the last good machines file` });
      return;
    }
    if (this.stopping) return;
    const hadDefault = this.table.default !== undefined;
    this.table = loaded.table;
    for (const warning of loaded.warnings) this.emit({ step: 'warning', message: warning });
    try {
      if (hadDefault !== (loaded.table.default !== undefined)) {
        // Whether every machine gets an offer is in dnsmasq's arguments, not in its hosts file.
        await this.stopDnsmasq();
        await this.startDnsmasq();
      } else {
        await writeFile(this.plan().hostsFile, hostsFileText(this.table.machines.keys()));
        this.dnsmasq?.kill('SIGHUP');
      }
    } catch (error) {
      this.endedWith(`dnsmasq could not take the new machines file: ${describeError(error)}`);
      return;
    }
    this.emit({ step: 'reload', message: `machines file read again: ${this.describeTable()}` });
  }
}

function portHint(output: string): string {
  return /port 67|address already in use/i.test(output)
    ? '\n  another DHCP server (or dnsmasq) runs on this host: stop it, or use --proxy-dhcp next to it'
    : '';
}

/** The TFTP root: Debian's iPXE programs, under the names the firmwares ask for. */
async function mkdirTftp(root: string, ipxeDir: string): Promise<void> {
  await mkdir(root, { recursive: true });
  for (const program of Object.values(IPXE_PROGRAMS)) {
    for (const name of tftpNames(program)) await copyFile(join(ipxeDir, program), join(root, name));
  }
}
