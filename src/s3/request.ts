// The curl command lines for S3 requests, signed by curl itself (SigV4); keys travel in a curl config file, never in argv.

import type { MinioAlias } from '../cmdline/config.ts';
import { CA_BUNDLE, CURL_PROTOCOL_ARGS } from '../image-layout.ts';

/** S3 servers that do not care about regions (MinIO, s3rver) accept this one. */
export const DEFAULT_REGION = 'us-east-1';

/** Percent-encodes all but A–Z a–z 0–9 - . _ ~, as SigV4's canonical request wants. */
export function encodeS3Component(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** A key for a URL path: each segment encoded, the `/` between them kept. */
export function encodeS3Key(key: string): string {
  return key.split('/').map(encodeS3Component).join('/');
}

/** The path-style URL of a bucket or object, with an optional query (already in canonical order). */
export function s3Url(endpoint: string, bucket: string, key = '', query: Record<string, string> = {}): string {
  const base = `${endpoint.replace(/\/+$/, '')}/${encodeS3Key(bucket)}${key === '' ? '' : `/${encodeS3Key(key)}`}`;
  const pairs = Object.keys(query)
    .sort()
    .map((name) => `${encodeS3Component(name)}=${encodeS3Component(query[name] as string)}`);
  return pairs.length === 0 ? base : `${base}?${pairs.join('&')}`;
}

/** A curl config file that holds the keys: a failing command's echo shows its path, not them. */
export function curlCredentials(alias: MinioAlias): string {
  const quoted = (value: string): string => `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  return `user = ${quoted(`${alias.accessKey.reveal()}:${alias.secretKey.reveal()}`)}\n`;
}

export type S3Method = 'GET' | 'PUT' | 'DELETE' | 'HEAD';

/**
 * One signed request. The payload is declared unsigned (TLS protects it on
 * https; curl streams the file without hashing it first); `--fail-with-body`
 * keeps S3's error document for the message.
 */
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

export function s3CurlArgs(request: {
  method: S3Method;
  url: string;
  credentialsFile: string;
  region?: string;
  caBundle?: string;
  upload?: string;
  output?: string;
  headers?: Record<string, string>;
  writeOutHeader?: string;
}): string[] {
  return [
    'curl',
    '--silent',
    '--show-error',
    '--fail-with-body',
    ...CURL_PROTOCOL_ARGS,
    '--config',
    request.credentialsFile,
    '--aws-sigv4',
    `aws:amz:${request.region ?? DEFAULT_REGION}:s3`,
    '--header',
    'x-amz-content-sha256: UNSIGNED-PAYLOAD',
    '--cacert',
    request.caBundle ?? CA_BUNDLE,
    '--connect-timeout',
    '10',
    '--retry',
    '3',
    '--retry-delay',
    '1',
    ...(request.method === 'HEAD' ? ['--head'] : ['--request', request.method]),
    ...(request.upload !== undefined ? ['--upload-file', request.upload] : []),
    // A download takes the object's Last-Modified, so that a later push sees it unchanged.
    ...(request.output !== undefined ? ['--remote-time', '--output', request.output] : []),
    ...Object.entries(request.headers ?? {}).flatMap(([name, value]) => ['--header', `${name}: ${value}`]),
    // Prints one response header on stdout, which --output leaves free.
    ...(request.writeOutHeader !== undefined ? ['--write-out', `%header{${request.writeOutHeader}}`] : []),
    request.url,
  ];
}
