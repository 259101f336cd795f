// S3 requests through curl, signed by b2c: list a prefix, get, put and delete objects; every failure names the object and what the server said.

import type { MinioAlias } from '../cmdline/config.ts';
import { B2cError } from '../errors.ts';
import type { RunResult, System } from '../system/system.ts';
import { parseListing, type RemoteObject } from './listing.ts';
import {
  ATTRIBUTES_HEADER,
  attributesValue,
  curlHeaderConfig,
  DEFAULT_REGION,
  isDroppedConnection,
  modeFromAttributes,
  s3CurlArgs,
  S3_TRIES,
  s3DroppedDelaySeconds,
  s3Target,
  s3Url,
  type S3Method,
} from './request.ts';
import { signS3Request } from './signature.ts';

/** What a download learnt besides the bytes: the file's permission bits, when the object carries them. */
export interface GetResult {
  mode?: number;
}

/** A download in progress is written under its final name plus this, then renamed. */
export const PARTIAL_SUFFIX = '.b2c-partial';

/** Where a volume syncs: `ALIAS/BUCKET/PATH` resolved against the b2c.minio aliases. */
export interface S3Location {
  alias: MinioAlias;
  bucket: string;
  /** The key prefix: empty for a whole bucket, else ending with `/`. */
  prefix: string;
}

/** `ALIAS/BUCKET[/PATH]` with the alias looked up; throws S3Error when it is not registered. */
export function resolveBucketPath(bucketPath: string, aliases: readonly MinioAlias[]): S3Location {
  const [aliasName = '', bucket = '', ...rest] = bucketPath.split('/');
  const alias = aliases.find((candidate) => candidate.alias === aliasName);
  if (alias === undefined) throw new B2cError(`${bucketPath}: no b2c.minio registers the alias "${aliasName}"`);
  if (bucket === '') throw new B2cError(`${bucketPath}: no bucket named`);
  const path = rest.filter((segment) => segment !== '').join('/');
  return { alias, bucket, prefix: path === '' ? '' : `${path}/` };
}

/** curl's status when writing a download failed. */
const CURL_WRITE_ERROR = 23;

/** What an S3 error document or curl's own complaint says, in one line. */
export function describeFailure(status: number, body: string, stderr: string): string {
  const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(body)?.[1];
  if (code !== undefined) return `the server answered ${code}${message ? ` (${message})` : ''}`;
  // curl does not say why a write failed; on these machines it is nearly always a full cache or RAM.
  if (status === CURL_WRITE_ERROR) return `curl status ${status}: it could not write what it received (no space left on the cache, or in RAM?)`;
  const complaint =
    stderr
      .trim()
      .split('\n')
      .pop()
      ?.replace(/^curl: /, '') ?? '';
  return `curl status ${status}${complaint ? `: ${complaint}` : ''}`;
}

export class S3Client {
  constructor(
    private readonly system: System,
    /** A private folder for the signed headers of the request under way (a tmpfs in the init). */
    private readonly workDirectory: string,
    /**
     * On a host: the CA bundle to verify against, and the curl to run (the
     * image's own, through its loader); anywhere, what curl's environment
     * needs more (b2c.proxy's variables).
     */
    private readonly options: { caBundle?: string; curl?: readonly string[]; environment?: Record<string, string> } = {},
  ) {}

  private async request(
    location: S3Location,
    method: S3Method,
    key: string,
    query: Record<string, string>,
    files: { upload?: string; output?: string; headers?: Record<string, string>; writeOutHeader?: string } = {},
  ): Promise<string> {
    const { alias } = location;
    let result: RunResult;
    for (let attempt = 1; ; attempt++) {
      result = await this.requestOnce(location, method, key, query, files);
      if (result.status === 0 || !isDroppedConnection(result.status) || attempt === S3_TRIES) break;
      await this.system.sleep(s3DroppedDelaySeconds(attempt) * 1000);
    }
    if (result.status === 0) return result.stdout;
    const body = files.output !== undefined ? ((await this.system.readText(files.output)) ?? '') : result.stdout;
    const what = key === '' ? `${alias.alias}/${location.bucket}` : `${alias.alias}/${location.bucket}/${key}`;
    throw new B2cError(`${method} ${what}: ${describeFailure(result.status, body, result.stderr)}`);
  }

  /** One signed curl run: signed anew for each try, as the signature carries the time. */
  private async requestOnce(
    location: S3Location,
    method: S3Method,
    key: string,
    query: Record<string, string>,
    files: { upload?: string; output?: string; headers?: Record<string, string>; writeOutHeader?: string },
  ): Promise<RunResult> {
    const { alias } = location;
    const signed = signS3Request(
      { method, ...s3Target(alias.url, location.bucket, key), query, ...(files.headers !== undefined ? { headers: files.headers } : {}) },
      { accessKey: alias.accessKey.reveal(), secretKey: alias.secretKey.reveal(), region: DEFAULT_REGION },
      new Date(this.system.now()),
    );
    // The signature names the access key: it goes to curl in a file on the tmpfs, removed once curl has read it.
    await this.system.makeDirectory(this.workDirectory);
    const headersFile = `${this.workDirectory}/${alias.alias}.curlrc`;
    await this.system.writeText(headersFile, curlHeaderConfig(signed));
    try {
      const argv = s3CurlArgs({ ...this.options, method, url: s3Url(alias.url, location.bucket, key, query), headersFile, ...files });
      return await this.system.run(argv, { captureStdout: true, captureStderr: true, moreEnv: this.options.environment });
    } finally {
      await this.system.remove(headersFile);
    }
  }

  /** Every object below the location's prefix, page after page. */
  async list(location: S3Location): Promise<RemoteObject[]> {
    const objects: RemoteObject[] = [];
    let token: string | undefined;
    do {
      const query: Record<string, string> = { 'list-type': '2', prefix: location.prefix, ...(token !== undefined ? { 'continuation-token': token } : {}) };
      const page = parseListing(await this.request(location, 'GET', '', query), location.prefix);
      objects.push(...page.objects);
      token = page.nextToken;
    } while (token !== undefined);
    return objects;
  }

  /**
   * Downloads an object next to `file` and renames it into place, so that a
   * failed or cut download never leaves a partial file behind.
   */
  async get(location: S3Location, path: string, file: string): Promise<GetResult> {
    const partial = `${file}${PARTIAL_SUFFIX}`;
    let attributes: string;
    try {
      attributes = await this.request(location, 'GET', location.prefix + path, {}, { output: partial, writeOutHeader: ATTRIBUTES_HEADER });
    } catch (error) {
      if (await this.system.stat(partial)) await this.system.remove(partial);
      throw error;
    }
    await this.system.rename(partial, file);
    const mode = modeFromAttributes(attributes);
    return mode === undefined ? {} : { mode };
  }

  /** Uploads a file; with `mode`, its permission bits travel in the attributes header. */
  async put(location: S3Location, path: string, file: string, mode?: number): Promise<void> {
    await this.request(
      location,
      'PUT',
      location.prefix + path,
      {},
      { upload: file, ...(mode !== undefined ? { headers: { [ATTRIBUTES_HEADER]: attributesValue(mode) } } : {}) },
    );
  }

  async delete(location: S3Location, path: string): Promise<void> {
    await this.request(location, 'DELETE', location.prefix + path, {});
  }
}
