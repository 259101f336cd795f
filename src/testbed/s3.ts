// A real S3 server for tests: s3rver on 127.0.0.1 with throwaway storage, behind a proxy that checks SigV4 signatures as MinIO does. It stands in
// for MinIO, which cannot be installed here.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { B2cError } from '../errors.ts';

export { TEST_ACCESS_KEY, TEST_SECRET_KEY } from './s3-keys.ts';

const SERVER_MAIN = fileURLToPath(new URL('./s3-server.ts', import.meta.url));
const OBJECT_SUFFIX = '._S3rver_object';

export class TestS3 {
  private constructor(
    private readonly server: ChildProcess,
    readonly port: number,
    /** Requests the signature check refused, as `METHOD target: code`, in order; the list grows as they come. */
    readonly refusals: readonly string[],
    /** s3rver's store: `BUCKET/KEY._S3rver_object` holds each object's bytes. */
    readonly directory: string,
  ) {}

  static async start(buckets: readonly string[]): Promise<TestS3> {
    const directory = await mkdtemp(join(tmpdir(), 'b2c-s3-'));
    const server = spawn(process.execPath, ['--openssl-legacy-provider', '--import', 'tsx', SERVER_MAIN, directory, ...buckets], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const refusals: string[] = [];
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.once('exit', (code) => reject(new B2cError(`the test S3 server exited with status ${code} before listening`)));
      createInterface({ input: server.stdout as NodeJS.ReadableStream }).on('line', (line) => {
        const listening = /^listening (\d+)$/.exec(line);
        if (listening) resolve(Number(listening[1]));
        else if (line.startsWith('refused ')) refusals.push(line.slice('refused '.length));
      });
    });
    return new TestS3(server, port, refusals, directory);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The objects of a bucket below a prefix and their text, read from the store, not through S3. */
  async objects(bucket: string, prefix = ''): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    const root = join(this.directory, bucket);
    const walk = async (relative: string): Promise<void> => {
      for (const entry of await readdir(join(root, relative), { withFileTypes: true }).catch(() => [])) {
        const path = relative === '' ? entry.name : `${relative}/${entry.name}`;
        if (entry.isDirectory()) await walk(path);
        else if (entry.name.endsWith(OBJECT_SUFFIX)) {
          const key = path.slice(0, -OBJECT_SUFFIX.length);
          if (key.startsWith(prefix)) found.set(key.slice(prefix.length), await readFile(join(root, path), 'utf8'));
        }
      }
    };
    await walk('');
    return found;
  }

  /** The metadata s3rver keeps for an object (its `x-amz-meta-*` headers among them), read from the store. */
  async metadata(bucket: string, key: string): Promise<Record<string, string>> {
    return JSON.parse(await readFile(join(this.directory, bucket, `${key}._S3rver_metadata.json`), 'utf8')) as Record<string, string>;
  }

  /**
   * Puts an object straight into the store, with `x-amz-meta-*` metadata if
   * given: s3rver takes its size and time from the file and computes its
   * ETag when asked.
   */
  async putObject(bucket: string, key: string, content: string | Uint8Array, metadata?: Record<string, string>): Promise<void> {
    const path = join(this.directory, bucket, key);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(`${path}${OBJECT_SUFFIX}`, content);
    if (metadata !== undefined) await writeFile(`${path}._S3rver_metadata.json`, JSON.stringify(metadata));
  }

  async close(): Promise<void> {
    if (this.server.exitCode === null) {
      const exited = new Promise((resolve) => this.server.once('exit', resolve));
      this.server.kill('SIGTERM');
      await exited;
    }
    await rm(this.directory, { recursive: true, force: true });
  }
}
