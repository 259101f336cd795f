// The gateway's registries with their real parts (Debian trixie's docker-registry and nginx) in front of a real upstream registry on 127.0.0.1:
// single-flight blobs, fresh tags, an upstream gone, an upstream's login, a port taken, a full disk.

import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DebianTools } from '../../src/debian/tools.ts';
import { formatEvent, type ServeEvent } from '../../src/serve/events.ts';
import { GatewayRegistries, REGISTRY_PACKAGES, type RegistryTools } from '../../src/serve/registries.ts';
import { incompressibleBytes } from '../../src/testbed/images.ts';
import { buildOciImage, type OciImage } from '../../src/testbed/oci-image.ts';
import { freePort, LocalRegistry } from '../../src/testbed/registry.ts';

const GATEWAY = '127.0.0.1';
const MANIFEST_TYPES = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json';

let tools: RegistryTools;
const dir = mkdtempSync(join(tmpdir(), 'b2c-registries-'));

beforeAll(async () => {
  const debian = await DebianTools.prepare([...REGISTRY_PACKAGES]);
  tools = { registry: debian.command('docker-registry', 'usr/bin/docker-registry'), nginx: debian.command('nginx', 'usr/sbin/nginx') };
}, 300_000);

/** An image of one layer holding `size` bytes that do not compress, different for each seed. */
function bigImage(size: number, seed: number): Promise<OciImage> {
  return buildOciImage({
    platform: { architecture: 'amd64' },
    entries: [{ path: 'payload', kind: 'file', mode: 0o644, data: incompressibleBytes(size, seed) }],
    cmd: ['true'],
  });
}

/** What b2c serve would have printed. */
class EventLog {
  readonly events: ServeEvent[] = [];
  readonly report = (event: Omit<ServeEvent, 'time'>): void => void this.events.push({ time: new Date().toISOString(), ...event });
  text(): string {
    return this.events.map(formatEvent).join('\n');
  }
  async waitFor(pattern: RegExp): Promise<void> {
    await this.until(() => pattern.test(this.text()));
    expect(this.text()).toMatch(pattern);
  }
  /** Waits for `count` lines matching `pattern` (a global one): nginx logs a request after its client has the last byte, so lines trail the pulls. */
  async waitForCount(pattern: RegExp, count: number): Promise<void> {
    await this.until(() => (this.text().match(pattern)?.length ?? 0) >= count);
    expect(this.text().match(pattern)).toHaveLength(count);
  }
  /** Up to 10 s for what the log must come to show. */
  private async until(done: () => boolean): Promise<void> {
    for (let tries = 0; tries < 100 && !done(); tries++) await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** GETs a manifest by tag through `base`, then its layer, as podman does: the layer's bytes and the manifest's digest. */
async function pull(base: string, repository: string, tag: string): Promise<{ digest: string; layer: Uint8Array; layerDigest: string }> {
  const response = await fetch(`${base}/v2/${repository}/manifests/${tag}`, { headers: { accept: MANIFEST_TYPES } });
  if (!response.ok) throw new Error(`manifest ${repository}:${tag}: HTTP ${response.status} ${await response.text()}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const manifest = JSON.parse(Buffer.from(bytes).toString()) as { layers: Array<{ digest: string }> };
  const layerDigest = manifest.layers[0]?.digest ?? '';
  const blob = await fetch(`${base}/v2/${repository}/blobs/${layerDigest}`);
  if (!blob.ok) throw new Error(`blob ${layerDigest}: HTTP ${blob.status}`);
  return { digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, layer: new Uint8Array(await blob.arrayBuffer()), layerDigest };
}

function sha256(data: Uint8Array): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** How many times the upstream's log shows a GET of the blob. */
function upstreamBlobGets(upstream: LocalRegistry, digest: string): number {
  return upstream
    .log()
    .split('\n')
    .filter((line) => line.includes('http.request.method=GET') && line.includes(`/blobs/${digest}`) && /response completed/.test(line)).length;
}

describe("the gateway's registries", () => {
  const running: Array<{ stop(): Promise<void> }> = [];
  afterEach(async () => {
    for (const item of running.splice(0).reverse()) await item.stop();
  });
  afterAll(() => {
    execFileSync('rm', ['-rf', dir]);
  });

  /** The gateway's cache of `upstream` on a free port of 127.0.0.1, its images in `dataDir`; stopped after the test. */
  async function startCache(
    upstream: LocalRegistry,
    dataDir: string,
    credentials: Map<string, { username: string; password: string }> = new Map(),
  ): Promise<{ base: string; port: number; log: EventLog }> {
    const log = new EventLog();
    const port = await freePort();
    const registries = await GatewayRegistries.start({
      gateway: GATEWAY,
      caches: [{ port, upstream: upstream.url }],
      registries: [],
      dataDir,
      credentials,
      report: log.report,
      tools,
    });
    running.push(registries);
    return { base: `http://${GATEWAY}:${port}`, port, log };
  }

  it('fetches a blob once from the upstream however many machines ask for it at once, and for whatever repository, and gives each the same bytes', async () => {
    const upstream = await LocalRegistry.start();
    running.push(upstream);
    const image = await bigImage(64 * 1024 * 1024, 1);
    await upstream.push('mesa/test-gl', '42', image);
    const { base, port, log } = await startCache(upstream, join(dir, 'single-flight'));
    const pulls = await Promise.all(Array.from({ length: 5 }, () => pull(base, 'mesa/test-gl', '42')));
    const layer = image.layers[0]!;
    /** A machine's whole GET of the layer through `repository`, on serve's log. */
    const machineGets = (repository: string): RegExp =>
      new RegExp(`registry +127\\.0\\.0\\.1 +${port}: GET blob ${layer.digest.slice(0, 19)} of ${repository}: 67\\.\\d MB in`, 'g');
    for (const result of pulls) {
      expect(result.layerDigest).toBe(layer.digest);
      expect(sha256(result.layer)).toBe(layer.digest);
    }
    expect(upstreamBlobGets(upstream, layer.digest)).toBe(1);
    // Serve's log says what left the upstream, once, and what each machine got.
    await log.waitFor(new RegExp(`registry +- +${port}: blob ${layer.digest.slice(0, 19)} of mesa/test-gl fetched from the upstream: 67\\.\\d MB`));
    expect(log.text().match(/fetched from the upstream/g)).toHaveLength(1);
    await log.waitForCount(machineGets('mesa/test-gl'), 5);
    // The same layer in another repository of the upstream, as a farm's images share their base: it does not leave the upstream again.
    await upstream.push('mesa/test-vk', '42', image);
    const other = await pull(base, 'mesa/test-vk', '42');
    expect(sha256(other.layer)).toBe(layer.digest);
    await log.waitForCount(machineGets('mesa/test-vk'), 1);
    expect(upstreamBlobGets(upstream, layer.digest)).toBe(1);
    expect(log.text().match(/fetched from the upstream/g)).toHaveLength(1);
    // The folder it made for the images is root's alone.
    expect(statSync(join(dir, 'single-flight')).mode & 0o777).toBe(0o700);
  }, 120_000);

  it('gives a tag as the upstream has it now, and while the upstream is down gives what it cached and says the upstream is unreachable', async () => {
    const upstream = await LocalRegistry.start();
    running.push(upstream);
    const first = await bigImage(1024 * 1024, 2);
    const second = await bigImage(1024 * 1024, 3);
    await upstream.push('mesa/test-gl', 'latest', first);
    const { base, log } = await startCache(upstream, join(dir, 'fresh'));
    expect((await pull(base, 'mesa/test-gl', 'latest')).digest).toBe(first.manifest.digest);
    await upstream.push('mesa/test-gl', 'latest', second);
    expect((await pull(base, 'mesa/test-gl', 'latest')).digest).toBe(second.manifest.digest);
    await upstream.stop();
    running.splice(running.indexOf(upstream), 1);
    const cached = await pull(base, 'mesa/test-gl', 'latest');
    expect(cached.digest).toBe(second.manifest.digest);
    expect(sha256(cached.layer)).toBe(second.layers[0]!.digest);
    await log.waitFor(new RegExp(`warning .* upstream ${upstream.url} is unreachable \\(.*\\): machines get the images cached here`));
  }, 120_000);

  it('pulls from an upstream that asks for a login with the login it was given, which shows in no log', async () => {
    const login = { username: 'farm-bot', password: 'pA55-never-shown-9931' };
    const upstream = await LocalRegistry.start({ login });
    running.push(upstream);
    const image = await bigImage(256 * 1024, 4);
    await upstream.push('private/tests', '1', image);
    const { base, log } = await startCache(upstream, join(dir, 'login'), new Map([[upstream.url, login]]));
    const result = await pull(base, 'private/tests', '1');
    expect(sha256(result.layer)).toBe(image.layers[0]!.digest);
    expect(log.text()).toMatch(/upstream .* answers \(with the login of --registry-credentials\)/);
    expect(log.text()).not.toContain(login.password);
    expect(upstream.log()).not.toContain(login.password);
  }, 120_000);

  it('refuses a port another program listens on, and starts nothing', async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, GATEWAY, resolve));
    const port = (taken.address() as { port: number }).port;
    const log = new EventLog();
    await expect(
      GatewayRegistries.start({
        gateway: GATEWAY,
        caches: [],
        registries: [port],
        dataDir: join(dir, 'taken'),
        credentials: new Map(),
        report: log.report,
        tools,
      }),
    ).rejects.toThrow(new RegExp(`--registry ${port}: port ${port} on 127\\.0\\.0\\.1 cannot be used: another program listens there`));
    taken.close();
    // Nothing was prepared or started.
    expect(existsSync(join(dir, 'taken'))).toBe(false);
  });

  it('says a full disk on its log and never serves a blob cut short', async () => {
    const upstream = await LocalRegistry.start();
    running.push(upstream);
    const image = await bigImage(24 * 1024 * 1024, 5);
    await upstream.push('mesa/test-gl', 'big', image);
    // A disk too small for the layer, where the registries keep their images.
    const small = join(dir, 'small');
    mkdirSync(small);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', small]);
    running.push({ stop: async () => void execFileSync('umount', ['-l', small]) });
    const { base, log } = await startCache(upstream, small);
    const layer = image.layers[0]!;
    for (let attempt = 0; attempt < 2; attempt++) {
      // A client either gets the whole blob or sees the download fail: never a 200 with other bytes.
      const outcome = await pull(base, 'mesa/test-gl', 'big').then(
        (result) => sha256(result.layer),
        (error: unknown) => `failed: ${String(error)}`,
      );
      expect([layer.digest, expect.stringMatching(/^failed/)]).toContainEqual(outcome);
    }
    await log.waitFor(/error .* the disk of .*small is full: blobs are not kept/);
    // docker-registry kept no partial blob under the layer's digest.
    const blobs = join(small, 'cache');
    const kept = existsSync(blobs) ? execFileSync('find', [blobs, '-path', `*${layer.digest.slice(7)}*`, '-name', 'data'], { encoding: 'utf8' }).trim() : '';
    for (const file of kept.split('\n').filter(Boolean)) expect(sha256(new Uint8Array(execFileSync('cat', [file])))).toBe(layer.digest);
    expect(readdirSync(small).length).toBeGreaterThan(0);
  }, 120_000);
});
