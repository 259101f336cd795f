// The gateway's registries at work: docker-registry per upstream behind one nginx that fetches each blob once, and plain registries; started, watched, stopped.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, statfs, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { distributionConfig, type DistributionPlan, type RegistryCredentials } from '../docker-registry.ts';
import { describeError } from '../errors.ts';
import { ServeError } from './errors.ts';
import type { ServeEvent } from './events.ts';
import {
  nameServers,
  nginxConfig,
  parseMachineRequest,
  parseUpstreamAccess,
  registryLogProblem,
  type RegistryCacheSpec,
  type RegistryRequest,
  type UpstreamHopPlan,
} from './registries-plan.ts';

/** The argv prefixes that run docker-registry and nginx. */
export interface RegistryTools {
  registry: string[];
  nginx: string[];
}

export interface GatewayRegistriesOptions {
  /** The address the machines reach the gateway at: every registry answers there, and only there. */
  gateway: string;
  caches: readonly RegistryCacheSpec[];
  /** Ports of plain registries, for images built on the gateway or pushed to it. */
  registries: readonly number[];
  /** Where images are kept, across restarts: one folder per upstream and per plain registry. */
  dataDir: string;
  /** Logins by upstream origin. */
  credentials: ReadonlyMap<string, RegistryCredentials>;
  report: (event: Omit<ServeEvent, 'time'>) => void;
  /** Debian trixie's, from the host cache, unless given. */
  tools?: RegistryTools;
  /**
   * false: each docker-registry fetches from its upstream itself, without
   * nginx between them, so that a blob may leave the upstream several times;
   * the benchmark compares the two.
   */
  singleFlight?: boolean;
}

/** Debian packages the registries run from (fetched into the host cache, never installed as services). */
export const REGISTRY_PACKAGES = ['docker-registry', 'nginx'] as const;

/** Below this much free space where the images are kept, b2c serve warns at its start. */
const LOW_SPACE_BYTES = 10 * 1024 ** 3;
/** How long a started program has to answer before it counts as failed. */
const START_TIMEOUT_MS = 20_000;
/** An upstream is asked again whether it answers at most this often, when machines ask for manifests. */
const UPSTREAM_PROBE_INTERVAL_MS = 5_000;
const UPSTREAM_PROBE_TIMEOUT_MS = 5_000;
/** A full disk is said again after this long, not at every blob. */
const DISK_FULL_REPEAT_MS = 60_000;

async function debianRegistryTools(): Promise<RegistryTools> {
  const { DebianTools } = await import('../debian/tools.ts');
  const tools = await DebianTools.prepare([...REGISTRY_PACKAGES]).catch((error: unknown) => {
    throw new ServeError(
      `cannot fetch Debian's ${REGISTRY_PACKAGES.join(' and ')} for the registries: ${describeError(error)}\n` +
        '  run b2c prefetch where Debian is reachable, then start b2c serve again',
    );
  });
  return { registry: tools.command('docker-registry', 'usr/bin/docker-registry'), nginx: tools.command('nginx', 'usr/sbin/nginx') };
}

/** A port of the gateway's address nothing listens on, or a ServeError that says which. */
async function checkPortFree(address: string, port: number, what: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      const why =
        error.code === 'EADDRINUSE'
          ? `another program listens there (ss -ltnp 'sport = :${port}' names it)`
          : error.code === 'EADDRNOTAVAIL'
            ? `${address} is not an address of this machine`
            : error.message;
      reject(new ServeError(`${what}: port ${port} on ${address} cannot be used: ${why}`));
    });
    server.listen(port, address, () => server.close(() => resolve()));
  });
}

/** A port on 127.0.0.1 that nothing listens on right now, for a registry behind nginx. */
function loopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** A folder name for an upstream: its host and port, readable in a listing. */
function upstreamFolder(origin: string): string {
  const url = new URL(origin);
  return `${url.protocol.replace(':', '')}_${url.host.replace(/[^A-Za-z0-9.-]/g, '_')}`;
}

function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  if (bytes >= 1e3) return `${(bytes / 1e3).toFixed(1)} kB`;
  return `${bytes} bytes`;
}

/** A blob or manifest request, as serve's log says it. */
export function describeRequest(request: RegistryRequest): string {
  const what = `${request.kind} ${request.kind === 'blob' ? request.reference.slice(0, 19) : request.reference} of ${request.repository}`;
  if (request.status >= 400) return `${request.method} ${what}: HTTP ${request.status}`;
  return `${request.method} ${what}: ${formatBytes(request.bytes)} in ${request.seconds.toFixed(1)} s`;
}

interface Program {
  name: string;
  /** The gateway's port a docker-registry answers on; none for nginx. */
  port?: number;
  child: ChildProcess;
  /** What it said last, for the message if it stops. */
  lastLines: string[];
}

export class GatewayRegistries {
  private readonly programs: Program[] = [];
  private accessLog: Socket | undefined;
  private stopping = false;
  private endedWith: (why: string) => void = () => {};
  /** Resolves when a registry or nginx ends by itself: the gateway cannot serve images without it. */
  readonly ended = new Promise<string>((resolve) => (this.endedWith = resolve));
  private readonly upstreamState = new Map<string, { reachable: boolean | undefined; probedAt: number }>();
  private diskFullSaidAt = 0;
  /** The gateway's port of each cache, by the loopback port of its nginx hop. */
  private readonly cachePortOfHop = new Map<number, number>();

  private constructor(
    private readonly options: GatewayRegistriesOptions,
    private readonly workDir: string,
  ) {}

  /** Checks ports and storage, fetches the programs if needed, starts them and waits until each answers; on any failure nothing is left running. */
  static async start(options: GatewayRegistriesOptions): Promise<GatewayRegistries> {
    for (const cache of options.caches) await checkPortFree(options.gateway, cache.port, `--registry-cache ${cache.port}=${cache.upstream}`);
    for (const port of options.registries) await checkPortFree(options.gateway, port, `--registry ${port}`);
    try {
      // Images of an upstream with a login are no local user's business: a folder made here is root's alone (an existing one keeps its mode).
      await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new ServeError(`cannot make the registries' folder ${options.dataDir}: ${describeError(error)}`);
    }
    const space = await statfs(options.dataDir);
    const free = space.bavail * space.bsize;
    if (free < LOW_SPACE_BYTES)
      options.report({
        step: 'warning',
        message: `only ${formatBytes(free)} free in ${options.dataDir}, where the registries keep images: give --registry-dir on a larger disk`,
      });
    options.report({ step: 'registry', message: `preparing Debian trixie's ${REGISTRY_PACKAGES.join(' and ')} (fetched into the host cache the first time)` });
    const tools = options.tools ?? (await debianRegistryTools());
    const workDir = await mkdtemp(join(tmpdir(), 'b2c-registries-'));
    const registries = new GatewayRegistries(options, workDir);
    try {
      await registries.startAll(tools);
    } catch (error) {
      await registries.stop();
      throw error;
    }
    return registries;
  }

  private async startAll(tools: RegistryTools): Promise<void> {
    const { gateway, dataDir } = this.options;
    const hops: UpstreamHopPlan[] = [];
    const registries: Array<{ name: string; port: number; plan: DistributionPlan }> = [];
    for (const cache of this.options.caches) {
      const folder = join(dataDir, 'cache', upstreamFolder(cache.upstream));
      const credentials = this.options.credentials.get(cache.upstream);
      let remote = cache.upstream;
      if (this.options.singleFlight !== false) {
        const hop: UpstreamHopPlan = { port: await loopbackPort(), upstream: cache.upstream, cacheDir: join(folder, 'nginx'), credentials };
        hops.push(hop);
        this.cachePortOfHop.set(hop.port, cache.port);
        remote = `http://127.0.0.1:${hop.port}`;
      }
      const plan = { listen: `${gateway}:${cache.port}`, storage: join(folder, 'registry'), secret: randomBytes(16).toString('hex') };
      registries.push({
        name: `registry cache ${cache.port}`,
        port: cache.port,
        plan: { ...plan, upstream: { url: remote, ...(credentials === undefined ? {} : { credentials }) } },
      });
    }
    for (const port of this.options.registries) {
      const plan = { listen: `${gateway}:${port}`, storage: join(dataDir, `registry-${port}`), secret: randomBytes(16).toString('hex') };
      registries.push({ name: `registry ${port}`, port, plan });
    }
    // nginx first: each docker-registry asks its upstream, through nginx, which login it wants as it starts.
    if (hops.length > 0) await this.startNginx(tools, hops);
    for (const { name, port, plan } of registries) await this.startRegistry(tools, name, port, plan);
    for (const cache of this.options.caches) {
      this.report('registry', `caching ${cache.upstream} on http://${gateway}:${cache.port}: name images docker://${gateway}:${cache.port}/NAME:TAG`);
      await this.probeUpstream(cache.upstream, true);
    }
    for (const port of this.options.registries)
      this.report('registry', `a registry on http://${gateway}:${port}: podman push --tls-verify=false IMAGE ${gateway}:${port}/NAME:TAG`);
  }

  private report(step: 'registry' | 'warning' | 'error', message: string, client?: string): void {
    this.options.report({ step, message, ...(client === undefined ? {} : { address: client }) });
  }

  private async startRegistry(tools: RegistryTools, name: string, port: number, plan: DistributionPlan): Promise<void> {
    await mkdir(plan.storage, { recursive: true });
    const config = join(this.workDir, `${name.replaceAll(' ', '-')}.yml`);
    // The configuration may hold an upstream's password: readable by root only.
    await writeFile(config, distributionConfig(plan), { mode: 0o600 });
    const program = this.spawnProgram(name, [...tools.registry, 'serve', config], port);
    await this.waitUntil(program, async () => (await fetch(`http://${plan.listen}/v2/`, { signal: AbortSignal.timeout(2000) })).ok);
  }

  private async startNginx(tools: RegistryTools, hops: UpstreamHopPlan[]): Promise<void> {
    for (const folder of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) await mkdir(join(this.workDir, 'nginx', folder), { recursive: true });
    for (const hop of hops) await mkdir(hop.cacheDir, { recursive: true });
    const accessLog = createSocket('udp4');
    this.accessLog = accessLog;
    accessLog.on('message', (message) => this.onUpstreamAccess(message.toString('utf8')));
    await new Promise<void>((resolve, reject) => {
      accessLog.once('error', (error) =>
        reject(new ServeError(`cannot listen for nginx's log on 127.0.0.1 (is the loopback up? ip link set lo up): ${error.message}`)),
      );
      accessLog.bind(0, '127.0.0.1', () => resolve());
    });
    // Lines lost are only lines of the log: serve goes on.
    accessLog.on('error', () => undefined);
    const resolvers = existsSync('/etc/resolv.conf') ? nameServers(await readFile('/etc/resolv.conf', 'utf8')) : [];
    const config = join(this.workDir, 'nginx.conf');
    // It may hold an upstream's plain login.
    await writeFile(config, nginxConfig(this.workDir, hops, accessLog.address().port, resolvers), { mode: 0o600 });
    const program = this.spawnProgram('nginx', [...tools.nginx, '-p', this.workDir, '-c', config, '-e', 'stderr']);
    // Asked of nginx itself: an upstream that drops packets must not hold the start.
    await this.waitUntil(program, async () => {
      for (const hop of hops) if ((await fetch(`http://127.0.0.1:${hop.port}/.b2c-ready`, { signal: AbortSignal.timeout(2000) })).status !== 204) return false;
      return true;
    });
  }

  /** Starts a program in its own process group (a Ctrl-C meant for b2c serve must not stop it first), its output read line by line. */
  private spawnProgram(name: string, argv: string[], port?: number): Program {
    const [command = 'false', ...args] = argv;
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const program: Program = { name, ...(port === undefined ? {} : { port }), child, lastLines: [] };
    this.programs.push(program);
    for (const stream of [child.stdout, child.stderr])
      if (stream !== null) createInterface({ input: stream }).on('line', (line) => this.onOutput(program, line));
    child.on('error', (error) => program.lastLines.push(`cannot start ${command}: ${error.message}`));
    child.on('exit', (code, signal) => {
      if (this.stopping) return;
      this.endedWith(`${name} stopped (${signal ?? `status ${code}`}): ${program.lastLines.slice(-3).join(' / ')}`);
    });
    return program;
  }

  private async waitUntil(program: Program, answers: () => Promise<boolean>): Promise<void> {
    const started = Date.now();
    for (;;) {
      if (program.child.exitCode !== null || program.child.signalCode !== null || program.child.pid === undefined) {
        // Its last words come on its output, which may still be on its way.
        await new Promise((resolve) => setTimeout(resolve, 50));
        throw new ServeError(`${program.name} stopped at once:\n  ${program.lastLines.slice(-10).join('\n  ')}`);
      }
      try {
        if (await answers()) return;
      } catch {
        // not listening yet
      }
      if (Date.now() - started > START_TIMEOUT_MS)
        throw new ServeError(`${program.name} did not answer within ${START_TIMEOUT_MS / 1000} s:\n  ${program.lastLines.slice(-10).join('\n  ')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** nginx's line for a request toward an upstream: a blob that left the upstream is said, with its size. */
  private onUpstreamAccess(line: string): void {
    const request = parseUpstreamAccess(line);
    const port = request === undefined ? undefined : this.cachePortOfHop.get(request.port);
    if (request === undefined || port === undefined) return;
    const cache = this.options.caches.find((item) => item.port === port);
    if (request.status >= 500 && cache !== undefined) void this.probeUpstream(cache.upstream, false).catch(() => undefined);
    if (request.kind !== 'blob' || request.received === 0 || request.status >= 400) return;
    const blob = `blob ${request.reference.slice(0, 19)} of ${request.repository}`;
    this.report('registry', `${port}: ${blob} fetched from the upstream: ${formatBytes(request.received)} in ${request.seconds.toFixed(1)} s`);
  }

  private onOutput(program: Program, line: string): void {
    program.lastLines.push(line);
    if (program.lastLines.length > 20) program.lastLines.shift();
    const port = program.port;
    const request = port === undefined ? undefined : parseMachineRequest(line);
    if (request !== undefined) {
      if (request.method === 'GET' || request.status >= 400) this.report('registry', `${port}: ${describeRequest(request)}`, request.client);
      const cache = this.options.caches.find((item) => item.port === port);
      if (cache !== undefined && request.kind === 'manifest') void this.probeUpstream(cache.upstream, false).catch(() => undefined);
      return;
    }
    const problem = registryLogProblem(line);
    if (problem === undefined) return;
    switch (problem.kind) {
      case 'disk-full':
        if (Date.now() - this.diskFullSaidAt < DISK_FULL_REPEAT_MS) return;
        this.diskFullSaidAt = Date.now();
        this.report(
          'error',
          `the disk of ${this.options.dataDir} is full: blobs are not kept (a machine's download fails and is tried again, no partial blob is served); ` +
            `free space there, or give --registry-dir on a larger disk (${program.name}: ${problem.detail})`,
        );
        return;
      case 'upstream-unreachable': {
        // nginx names the upstream it could not reach; otherwise the probes tell which.
        const cache = this.options.caches.find((item) => line.includes(`"${item.upstream}/`));
        if (cache !== undefined) this.setReachable(cache.upstream, false, problem.detail.replace(/, client: .*$/, ''));
        else for (const item of this.options.caches) void this.probeUpstream(item.upstream, false).catch(() => undefined);
        return;
      }
      case 'error':
        this.report('error', `${program.name}: ${problem.detail}`);
    }
  }

  /** Says when an upstream stops or starts answering: while it is down, machines get the images cached here. */
  private setReachable(upstream: string, reachable: boolean, detail: string): void {
    const state = this.upstreamState.get(upstream) ?? { reachable: undefined, probedAt: 0 };
    if (state.reachable === reachable) return;
    state.reachable = reachable;
    this.upstreamState.set(upstream, state);
    if (reachable) this.report('registry', `upstream ${upstream} answers${detail === '' ? '' : ` (${detail})`}`);
    else this.report('warning', `upstream ${upstream} is unreachable (${detail}): machines get the images cached here, and tags as last seen`);
  }

  /** Asks the upstream's API root whether it answers (any HTTP status does), at most every few seconds unless `now`. */
  private async probeUpstream(upstream: string, now: boolean): Promise<void> {
    const state = this.upstreamState.get(upstream) ?? { reachable: undefined, probedAt: 0 };
    if (!now && Date.now() - state.probedAt < UPSTREAM_PROBE_INTERVAL_MS) return;
    state.probedAt = Date.now();
    this.upstreamState.set(upstream, state);
    let status: number;
    try {
      status = (await fetch(`${upstream}/v2/`, { signal: AbortSignal.timeout(UPSTREAM_PROBE_TIMEOUT_MS) })).status;
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : describeError(error);
      this.setReachable(upstream, false, cause);
      return;
    }
    this.setReachable(upstream, true, status === 401 && this.options.credentials.has(upstream) ? 'with the login of --registry-credentials' : '');
  }

  /** Stops nginx and the registries, and waits for them; what they keep stays for the next start. Safe to call again. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      this.programs.map(async ({ child }) => {
        const pid = child.pid;
        if (child.exitCode !== null || child.signalCode !== null || pid === undefined) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        // The whole group: nginx's workers do not end with a master that was killed.
        const killer = setTimeout(() => {
          try {
            process.kill(-pid, 'SIGKILL');
          } catch {
            // gone already
          }
        }, 5000);
        await exited;
        clearTimeout(killer);
      }),
    );
    const accessLog = this.accessLog;
    this.accessLog = undefined;
    accessLog?.close();
    if (existsSync(this.workDir)) await rm(this.workDir, { recursive: true, force: true });
  }
}
