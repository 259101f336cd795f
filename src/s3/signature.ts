// Signs S3 requests with AWS Signature Version 4 in b2c itself: curl's --aws-sigv4 (8.14, the image's) signs a + in a query value as a space, so a
// listing whose continuation token holds one is refused.

import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';

/** What curl sends as the body's hash: the body is not hashed first, so that uploads stream (TLS protects it on https). */
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

export interface S3RequestToSign {
  method: string;
  /** The Host header as sent: the host name, with `:port` when it is not the scheme's default. */
  host: string;
  /** The path as sent, already percent-encoded: S3 signs it without encoding it again. */
  path: string;
  /** Query names and values, not encoded. */
  query?: Record<string, string>;
  /** Other headers the request carries and signs (`x-amz-meta-*`). */
  headers?: Record<string, string>;
  /** The body's SHA-256 in hex, or UNSIGNED-PAYLOAD (the default). */
  payloadHash?: string;
}

export interface S3SigningKey {
  accessKey: string;
  secretKey: string;
  region: string;
}

/** Percent-encodes all but A–Z a–z 0–9 - . _ ~, as SigV4's canonical request wants. */
export function encodeS3Component(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The query in canonical order, encoded: what the URL carries and what is signed. */
export function canonicalQuery(query: Record<string, string>): string {
  return Object.keys(query)
    .map((name) => [encodeS3Component(name), encodeS3Component(query[name] as string)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

/** UTF-8 bytes without TextEncoder, which QuickJS lacks. */
function utf8(text: string): Uint8Array {
  const encoded = encodeURIComponent(text);
  const bytes: number[] = [];
  for (let index = 0; index < encoded.length; index++) {
    if (encoded[index] === '%') {
      bytes.push(parseInt(encoded.slice(index + 1, index + 3), 16));
      index += 2;
    } else {
      bytes.push(encoded.charCodeAt(index));
    }
  }
  return Uint8Array.from(bytes);
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** `20261130T120000Z`, the form of x-amz-date. */
export function amzDate(time: Date): string {
  return time
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/**
 * The headers that sign `request` at `time`: Host, x-amz-date,
 * x-amz-content-sha256 and Authorization, with the request's own headers,
 * all of which are signed.
 */
export function signS3Request(request: S3RequestToSign, key: S3SigningKey, time: Date): Record<string, string> {
  const date = amzDate(time);
  const headers: Record<string, string> = {
    ...request.headers,
    host: request.host,
    'x-amz-content-sha256': request.payloadHash ?? UNSIGNED_PAYLOAD,
    'x-amz-date': date,
  };
  const names = Object.keys(headers)
    .map((name) => name.toLowerCase())
    .sort();
  const value = (name: string): string => (Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1] ?? '').trim().replace(/\s+/g, ' ');
  const signedHeaders = names.join(';');
  const canonicalRequest = [
    request.method,
    request.path === '' ? '/' : request.path,
    canonicalQuery(request.query ?? {}),
    ...names.map((name) => `${name}:${value(name)}`),
    '',
    signedHeaders,
    request.payloadHash ?? UNSIGNED_PAYLOAD,
  ].join('\n');
  const scope = `${date.slice(0, 8)}/${key.region}/s3/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', date, scope, hex(sha256(utf8(canonicalRequest)))].join('\n');
  let signingKey = utf8(`AWS4${key.secretKey}`);
  for (const part of [date.slice(0, 8), key.region, 's3', 'aws4_request']) signingKey = hmac(sha256, signingKey, utf8(part));
  const signature = hex(hmac(sha256, signingKey, utf8(stringToSign)));
  return {
    ...headers,
    authorization: `AWS4-HMAC-SHA256 Credential=${key.accessKey}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
  };
}
