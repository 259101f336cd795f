// The curl command lines for S3 requests: path-style URLs, and the signed headers in a curl config file, so that no key is ever in argv.

import { B2cError } from '../errors.ts';
import { CA_BUNDLE, CURL_PROTOCOL_ARGS } from '../image-layout.ts';
import { canonicalQuery, encodeS3Component } from './signature.ts';

/** S3 servers that do not care about regions (MinIO, s3rver) accept this one. */
export const DEFAULT_REGION = 'us-east-1';

/** A key for a URL path: each segment encoded, the `/` between them kept. */
export function encodeS3Key(key: string): string {
  return key.split('/').map(encodeS3Component).join('/');
}

/** Where a path-style request goes: the Host header curl sends for the endpoint, and the encoded path of the bucket or object. */
export function s3Target(endpoint: string, bucket: string, key = ''): { host: string; path: string } {
  const match = /^(https?):\/\/([^/?#]+)(\/[^?#]*)?$/i.exec(endpoint.trim());
  if (!match) throw new B2cError(`${endpoint} is not an http:// or https:// endpoint without a query`);
  const [, scheme = '', authority = '', base = ''] = match;
  // curl leaves the scheme's own port out of the Host header; the signature must name the host as it is sent.
  const defaultPort = scheme.toLowerCase() === 'https' ? ':443' : ':80';
  const host = authority.endsWith(defaultPort) ? authority.slice(0, -defaultPort.length) : authority;
  return { host, path: `${base.replace(/\/+$/, '')}/${encodeS3Key(bucket)}${key === '' ? '' : `/${encodeS3Key(key)}`}` };
}

/** The path-style URL of a bucket or object, with its query in canonical order. */
export function s3Url(endpoint: string, bucket: string, key = '', query: Record<string, string> = {}): string {
  const { path } = s3Target(endpoint, bucket, key);
  const base = `${(/^https?:\/\/[^/?#]+/i.exec(endpoint.trim()) as RegExpExecArray)[0]}${path}`;
  const encodedQuery = canonicalQuery(query);
  return encodedQuery === '' ? base : `${base}?${encodedQuery}`;
}

/** A curl config file that sends these headers: a failing command's echo shows its path, not the access key in the signature. */
export function curlHeaderConfig(headers: Record<string, string>): string {
  const quoted = (value: string): string => `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  return Object.entries(headers)
    .map(([name, value]) => `header = ${quoted(`${name}: ${value}`)}\n`)
    .join('');
}

export type S3Method = 'GET' | 'PUT' | 'DELETE' | 'HEAD';

/** The metadata header in which file attributes travel, as the MinIO client's `--preserve` writes it. */
export const ATTRIBUTES_HEADER = 'x-amz-meta-mc-attrs';

/** `mode:33261` (st_mode in decimal, a regular file), the form MinIO's client uses; other fields of its are not written. */
export function attributesValue(mode: number): string {
  return `mode:${0o100000 | (mode & 0o7777)}`;
}

/** The permission bits in an attributes header (`atime:…/mode:33261/…`), or undefined when it has none. */
export function modeFromAttributes(value: string): number | undefined {
  for (const field of value.split('/')) {
    const [name, text] = field.split(':');
    if (name?.trim().toLowerCase() === 'mode' && text !== undefined && /^\d+$/.test(text.trim())) return Number(text.trim()) & 0o7777;
  }
  return undefined;
}

/** How long curl may take to connect. */
export const S3_CONNECT_SECONDS = 10;
/** curl's own tries of a request (for a refused connection, a timeout, a 5xx), so many seconds apart. */
export const S3_CURL_TRIES = 4;
export const S3_CURL_SECONDS_APART = 1;

/** How long a transfer may move no byte before curl gives it up. */
export const S3_STALL_SECONDS = 60;

/** Tries of a request whose connection the server or the network dropped (curl's own --retry leaves those alone). */
export const S3_TRIES = 4;

/** Seconds before the next run of curl after the Nth whose connection was dropped: 1, 2, 3. */
export function s3DroppedDelaySeconds(attempt: number): number {
  return attempt;
}

/**
 * curl's statuses for a connection that went away under the request: an
 * empty reply (52), a failure to send (55) or to receive (56), a body cut
 * short (18). A PUT or GET is whole or not there at all, so another try is
 * safe.
 */
export function isDroppedConnection(curlStatus: number): boolean {
  return curlStatus === 52 || curlStatus === 55 || curlStatus === 56 || curlStatus === 18;
}

/**
 * One request, its signed headers read from `headersFile`. `--fail-with-body`
 * keeps S3's error document for the message.
 */
export function s3CurlArgs(request: {
  /** The curl to run, with whatever runs it (a loader on a host); `curl` from PATH by default. */
  curl?: readonly string[];
  method: S3Method;
  url: string;
  headersFile: string;
  caBundle?: string;
  upload?: string;
  output?: string;
  writeOutHeader?: string;
}): string[] {
  return [
    ...(request.curl ?? ['curl']),
    '--silent',
    '--show-error',
    '--fail-with-body',
    ...CURL_PROTOCOL_ARGS,
    '--config',
    request.headersFile,
    '--cacert',
    request.caBundle ?? CA_BUNDLE,
    '--connect-timeout',
    String(S3_CONNECT_SECONDS),
    '--retry',
    String(S3_CURL_TRIES - 1),
    '--retry-delay',
    String(S3_CURL_SECONDS_APART),
    // A server that stops sending (or reading) mid-transfer: a timeout after a minute, which --retry tries again.
    '--speed-limit',
    '1',
    '--speed-time',
    String(S3_STALL_SECONDS),
    ...(request.method === 'HEAD' ? ['--head'] : ['--request', request.method]),
    ...(request.upload !== undefined ? ['--upload-file', request.upload] : []),
    // A download takes the object's Last-Modified, so that a later push sees it unchanged.
    ...(request.output !== undefined ? ['--remote-time', '--output', request.output] : []),
    // Prints one response header on stdout, which --output leaves free.
    ...(request.writeOutHeader !== undefined ? ['--write-out', `%header{${request.writeOutHeader}}`] : []),
    request.url,
  ];
}
