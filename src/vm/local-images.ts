// `b2c run --image`: the host's images in a registry of b2c run's own (docker-registry, its storage in the host cache), served to this VM only.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, createReadStream, existsSync, openSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extract } from 'tar-stream';
import { distributionConfig } from '../docker-registry.ts';
import { describeError } from '../errors.ts';
import { cpioChunks, S_IFDIR, S_IFREG, type CpioEntry } from '../image/cpio.ts';
import { HostToolError } from './machine.ts';
import { architectureProblem, dockerArchiveName, registriesDropIn, uploadedBlobs, withTag, type LocalImageSource } from './local-images-plan.ts';

/** What one image cost to make available: the layers that moved into the registry this time, and those already there. */
export interface LocalImageReport {
  name: string;
  layersMoved: number;
  bytesMoved: number;
  /** Blobs the registry had already: a run after a change moves only what changed. */
  blobsKept: number;
}

/**
 * The registry's port, the same from run to run when it is free: podman
 * remembers which blobs a registry has by its address, and pushes to a new
 * address every layer again.
 */
export const PREFERRED_PORT = 5375;

/** PREFERRED_PORT on 127.0.0.1 if nothing listens there, else any free port. */
function loopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', () => {
      const other = createServer();
      other.once('error', reject);
      other.listen(0, '127.0.0.1', () => {
        const address = other.address();
        other.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
      });
    });
    server.listen(PREFERRED_PORT, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Runs a host program to its end; its output, or a HostToolError naming the Debian package when it is missing. */
function runTool(argv: readonly string[], packageName: string): { status: number; stdout: string; stderr: string } {
  const [program = '', ...args] = argv;
  const result = spawnSync(program, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.error !== undefined) {
    if ((result.error as NodeJS.ErrnoException).code === 'ENOENT') throw new HostToolError(`${program} is not installed: apt-get install ${packageName}`);
    throw new HostToolError(`cannot run ${program}: ${result.error.message}`);
  }
  return { status: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
}

/** The files of a tar archive that `wanted` names, read into memory (a `docker save` archive's manifest and config are small). */
async function readTarFiles(path: string, wanted: (name: string) => boolean): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const tar = extract();
  const done = new Promise<void>((resolve, reject) => {
    tar.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: unknown) => {
        if (wanted(header.name)) chunks.push(chunk as Buffer);
      });
      stream.on('end', () => {
        if (wanted(header.name)) files.set(header.name, Buffer.concat(chunks).toString('utf8'));
        next();
      });
      stream.resume();
    });
    tar.on('finish', resolve);
    tar.on('error', reject);
  });
  createReadStream(path)
    .on('error', (error) => tar.destroy(error))
    .pipe(tar);
  await done;
  return files;
}

export class LocalImages {
  private readonly names: string[] = [];

  private constructor(
    readonly port: number,
    private readonly registry: ChildProcess,
    private readonly storage: string,
    private readonly workDir: string,
    private readonly logFile: string,
    private readonly skopeo: () => Promise<string[]>,
  ) {}

  /**
   * Starts Debian trixie's docker-registry on 127.0.0.1 with its storage in
   * the host cache: what an earlier run moved stays there, so the next run
   * moves only the layers that changed.
   */
  static async start(cacheDir: string): Promise<LocalImages> {
    const { DebianTools } = await import('../debian/tools.ts');
    let tools: Awaited<ReturnType<typeof DebianTools.prepare>>;
    try {
      tools = await DebianTools.prepare(['docker-registry']);
    } catch (error) {
      throw new HostToolError(`cannot fetch Debian's docker-registry for --image: ${describeError(error)}`);
    }
    const storage = join(cacheDir, 'run-images');
    await mkdir(storage, { recursive: true });
    const workDir = await mkdtemp(join(tmpdir(), 'b2c-run-images-'));
    const port = await loopbackPort();
    const config = join(workDir, 'registry.yml');
    await writeFile(config, distributionConfig({ listen: `127.0.0.1:${port}`, storage, secret: randomBytes(16).toString('hex') }));
    const logFile = join(workDir, 'registry.log');
    const fd = openSync(logFile, 'a');
    const [program = '', ...args] = tools.command('docker-registry', 'usr/bin/docker-registry', ['serve', config]);
    const registry = spawn(program, args, { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    const skopeo = async (): Promise<string[]> => (await DebianTools.prepare(['skopeo'])).command('skopeo', 'usr/bin/skopeo');
    const images = new LocalImages(port, registry, storage, workDir, logFile, skopeo);
    for (let attempt = 0; ; attempt++) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/v2/`)).ok) break;
      } catch {
        // not listening yet
      }
      if (registry.exitCode !== null || attempt > 100) {
        await images.stop();
        throw new HostToolError(`the registry of --image did not start:\n${await readFile(logFile, 'utf8')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return images;
  }

  /** Puts one image into the registry under the name the line uses; says how much moved. */
  async add(source: LocalImageSource, machineArchitecture: string): Promise<LocalImageReport> {
    const before = (await readFile(this.logFile, 'utf8')).length;
    let name: string;
    if (source.kind === 'storage') {
      name = withTag(source.name);
      const inspect = runTool(['podman', 'image', 'inspect', '--format', '{{.Architecture}}', name], 'podman');
      if (inspect.status !== 0) throw new HostToolError(`${source.name} is in no podman storage of this host (podman images lists them)`);
      const problem = architectureProblem(name, inspect.stdout.trim(), machineArchitecture);
      if (problem !== undefined) throw new HostToolError(problem);
      const push = runTool(['podman', 'push', '--tls-verify=false', name, `docker://127.0.0.1:${this.port}/${name}`], 'podman');
      if (push.status !== 0) throw new HostToolError(`podman push of ${name} failed:\n${push.stderr.trim()}`);
    } else {
      if (!existsSync(source.path)) throw new HostToolError(`${source.kind}:${source.path} does not exist`);
      const saved = source.kind === 'docker-archive' ? await this.dockerArchiveName(source.path) : undefined;
      const given = source.name ?? saved;
      if (given === undefined)
        throw new HostToolError(`${source.kind}:${source.path} names no image: give the name the line uses, ${source.kind}:${source.path}:localhost/NAME:TAG`);
      name = withTag(given);
      const skopeo = await this.skopeo();
      const transport = `${source.kind}:${source.path}`;
      const inspect = runTool([...skopeo, '--insecure-policy', 'inspect', '--config', transport], 'skopeo');
      if (inspect.status !== 0) throw new HostToolError(`cannot read ${transport}:\n${inspect.stderr.trim()}`);
      const problem = architectureProblem(name, (JSON.parse(inspect.stdout) as { architecture?: string }).architecture ?? '', machineArchitecture);
      if (problem !== undefined) throw new HostToolError(problem);
      const copy = runTool([...skopeo, '--insecure-policy', 'copy', '--dest-tls-verify=false', transport, `docker://127.0.0.1:${this.port}/${name}`], 'skopeo');
      if (copy.status !== 0) throw new HostToolError(`copying ${transport} failed:\n${copy.stderr.trim()}`);
    }
    this.names.push(name);
    // The registry logs a request once it has answered it: the push has ended, so its lines are there.
    const log = (await readFile(this.logFile, 'utf8')).slice(before);
    const manifest = await this.manifest(name);
    const layers = new Set(manifest.layers.map((layer) => layer.digest));
    const moved = uploadedBlobs(log).filter((digest) => layers.has(digest));
    return {
      name,
      layersMoved: moved.length,
      bytesMoved: moved.reduce((sum, digest) => sum + this.blobSize(digest), 0),
      blobsKept: layers.size - moved.length,
    };
  }

  private async manifest(name: string): Promise<{ layers: Array<{ digest: string }> }> {
    const slash = name.lastIndexOf(':');
    const response = await fetch(`http://127.0.0.1:${this.port}/v2/${name.slice(0, slash)}/manifests/${name.slice(slash + 1)}`, {
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' },
    });
    if (!response.ok) throw new HostToolError(`the registry of --image lost ${name}: HTTP ${response.status}`);
    return (await response.json()) as { layers: Array<{ digest: string }> };
  }

  private blobSize(digest: string): number {
    const hex = digest.replace('sha256:', '');
    const file = join(this.storage, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
    return existsSync(file) ? statSync(file).size : 0;
  }

  private async dockerArchiveName(path: string): Promise<string | undefined> {
    const files = await readTarFiles(path, (name) => name === 'manifest.json');
    const manifest = files.get('manifest.json');
    if (manifest === undefined) throw new HostToolError(`${path} is not a docker-archive (it has no manifest.json)`);
    return dockerArchiveName(manifest);
  }

  /**
   * A small cpio the kernel unpacks after the initramfs: a registries.conf
   * drop-in that sends each image's name to this registry at `address` (the
   * forward the guest reaches).
   */
  async dropInArchive(address: string): Promise<string> {
    const text = new TextEncoder().encode(registriesDropIn(this.names, address));
    const entries: CpioEntry[] = [
      { path: 'etc', mode: S_IFDIR | 0o755, data: new Uint8Array() },
      { path: 'etc/containers', mode: S_IFDIR | 0o755, data: new Uint8Array() },
      { path: 'etc/containers/registries.conf.d', mode: S_IFDIR | 0o755, data: new Uint8Array() },
      { path: 'etc/containers/registries.conf.d/50-b2c-run-images.conf', mode: S_IFREG | 0o644, data: text },
    ];
    const path = join(this.workDir, 'images.cpio');
    await writeFile(path, Buffer.concat([...cpioChunks(entries, 0)]));
    return path;
  }

  async stop(): Promise<void> {
    if (this.registry.exitCode === null && this.registry.signalCode === null) {
      const exited = new Promise((resolve) => this.registry.once('exit', resolve));
      this.registry.kill('SIGTERM');
      await exited;
    }
    await rm(this.workDir, { recursive: true, force: true });
  }
}
