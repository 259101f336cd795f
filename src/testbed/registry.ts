// A real OCI registry (Debian's docker-registry) on 127.0.0.1 with throwaway storage, and a client that pushes images to it.

import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Blob, OciImage, OciIndex } from './oci-image.ts';
import { B2cError } from '../errors.ts';
import { startServerProcess, stopServerProcess } from './server-process.ts';

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** docker-registry's configuration: one listening address (with TLS when given a certificate), filesystem storage, every request logged. */
export function registryConfig(address: string, dataDirectory: string, tls?: { certificate: string; key: string }, htpasswd?: string): string {
  return [
    'version: 0.1',
    'log:',
    // Info level logs every request: tests count the blob downloads in it.
    '  level: info',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${dataDirectory}`,
    'http:',
    `  addr: ${address}`,
    ...(tls === undefined ? [] : ['  tls:', `    certificate: ${tls.certificate}`, `    key: ${tls.key}`]),
    ...(htpasswd === undefined ? [] : ['auth:', '  htpasswd:', '    realm: b2c-test', `    path: ${htpasswd}`]),
    '',
  ].join('\n');
}

/**
 * Resolves once the registry at `url` answers its API root (over TLS, once its
 * log says it listens: its certificate is a test's own; a 401 counts, for a
 * registry that asks for a login).
 */
async function waitForRegistry(url: string, logFile: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      if (url.startsWith('https:') ? /listening on/.test(readFileSync(logFile, 'utf8')) : [200, 401].includes((await fetch(`${url}/v2/`)).status)) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new B2cError(`the registry did not answer on ${url} within 10 s:\n${readFileSync(logFile, 'utf8')}`);
}

export class LocalRegistry {
  private constructor(
    readonly port: number,
    private readonly process: ChildProcess,
    private readonly storage: string,
    /** Where the images are stored: another registry may serve the same images from it. */
    readonly dataDirectory: string,
    /** The registry's own log: every request at info level. */
    readonly logFile: string,
    /** The login it asks for, if any: pushes give it. */
    private readonly login?: { username: string; password: string },
  ) {}

  /** The headers of a request to this registry: its login, when it asks for one. */
  private headers(extra: Record<string, string> = {}): Record<string, string> {
    if (this.login === undefined) return extra;
    return { ...extra, authorization: `Basic ${Buffer.from(`${this.login.username}:${this.login.password}`).toString('base64')}` };
  }

  /** Every request this registry answered so far, by its log. */
  log(): string {
    return readFileSync(this.logFile, 'utf8');
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /**
   * Starts docker-registry on a free port and waits until it answers: with
   * storage of its own, or serving another registry's `dataDirectory` with a
   * log of its own (a test then counts its own requests, whatever other tests
   * pull at the same time); that storage is left in place when it stops.
   */
  static async start(
    options: { dataDirectory?: string; binary?: string; tls?: { certificate: string; key: string }; login?: { username: string; password: string } } = {},
  ): Promise<LocalRegistry> {
    const port = await freePort();
    const storage = await mkdtemp(join(tmpdir(), 'b2c-registry-'));
    const config = join(storage, 'config.yml');
    const dataDirectory = options.dataDirectory ?? join(storage, 'data');
    let htpasswd: string | undefined;
    if (options.login !== undefined) {
      htpasswd = join(storage, 'htpasswd');
      const { hashSync } = await import('bcryptjs');
      await writeFile(htpasswd, `${options.login.username}:${hashSync(options.login.password, 10)}\n`);
    }
    await writeFile(config, registryConfig(`127.0.0.1:${port}`, dataDirectory, options.tls, htpasswd));
    const logFile = join(storage, 'registry.log');
    try {
      const child = await startServerProcess(options.binary ?? 'docker-registry', ['serve', config], logFile, {
        install: 'install the docker-registry package',
        ready: () => waitForRegistry(`${options.tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`, logFile),
      });
      return new LocalRegistry(port, child, storage, dataDirectory, logFile, options.login);
    } catch (error) {
      await rm(storage, { recursive: true, force: true });
      throw error;
    }
  }

  /** Uploads the blobs, then the manifest under `repository:tag`; for an index, each image's manifest by its digest first. */
  async push(repository: string, tag: string, image: OciImage | OciIndex): Promise<void> {
    if ('index' in image) {
      for (const entry of image.images) await this.pushImage(repository, entry.manifest.digest, entry);
      await this.putManifest(repository, tag, image.index);
    } else {
      await this.pushImage(repository, tag, image);
    }
  }

  private async pushImage(repository: string, reference: string, image: OciImage): Promise<void> {
    for (const blob of [...image.layers, image.config]) {
      const head = await fetch(`${this.url}/v2/${repository}/blobs/${blob.digest}`, { method: 'HEAD', headers: this.headers() });
      if (head.ok) continue;
      const start = await fetch(`${this.url}/v2/${repository}/blobs/uploads/`, { method: 'POST', headers: this.headers() });
      const location = start.headers.get('location');
      if (start.status !== 202 || location === null) throw new B2cError(`starting an upload to ${repository} failed: HTTP ${start.status}`);
      const uploadUrl = new URL(location, this.url);
      uploadUrl.searchParams.set('digest', blob.digest);
      const put = await fetch(uploadUrl, { method: 'PUT', body: blob.data, headers: this.headers({ 'content-type': 'application/octet-stream' }) });
      if (put.status !== 201) throw new B2cError(`uploading ${blob.digest} to ${repository} failed: HTTP ${put.status} ${await put.text()}`);
    }
    await this.putManifest(repository, reference, image.manifest);
  }

  private async putManifest(repository: string, reference: string, manifest: Blob): Promise<void> {
    const response = await fetch(`${this.url}/v2/${repository}/manifests/${reference}`, {
      method: 'PUT',
      body: manifest.data,
      headers: this.headers({ 'content-type': manifest.mediaType }),
    });
    if (response.status !== 201)
      throw new B2cError(`pushing the manifest of ${repository}:${reference} failed: HTTP ${response.status} ${await response.text()}`);
  }

  async stop(): Promise<void> {
    await stopServerProcess(this.process);
    await rm(this.storage, { recursive: true, force: true });
  }
}

/** Every request the registry answered, whatever it asked for. */
export function requestsAnswered(registryLog: string): number {
  return registryLog.split('\n').filter((line) => line.includes('msg="response completed"')).length;
}

/** How many times a blob was downloaded (GET requests that completed), read from a registry's log. */
export function blobDownloads(registryLog: string, digest: string): number {
  return registryLog
    .split('\n')
    .filter((line) => line.includes('msg="response completed"') && line.includes('http.request.method=GET') && line.includes(`/blobs/${digest}"`)).length;
}
