// Checks the SigV4 signature of every request to the test S3 server, as MinIO and AWS do, before s3rver (which checks none) sees it.

import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { createHash, timingSafeEqual } from 'node:crypto';
import { pipeline } from 'node:stream';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the signature of one request is worth. */
export type SignatureVerdict =
  | { kind: 'valid' }
  /** An access key this server does not know: s3rver answers it with its own InvalidAccessKeyId. */
  | { kind: 'unknown-key' }
  | { kind: 'refused'; code: string; message: string };

interface Authorization {
  accessKey: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

/** Reads `AWS4-HMAC-SHA256 Credential=KEY/DATE/REGION/SERVICE/aws4_request, SignedHeaders=a;b, Signature=HEX`. */
export function parseAuthorization(header: string): Authorization | undefined {
  if (!header.startsWith(`${ALGORITHM} `)) return undefined;
  const fields = new Map(
    header
      .slice(ALGORITHM.length + 1)
      .split(',')
      .map((field) => {
        const [name = '', ...value] = field.trim().split('=');
        return [name, value.join('=')] as const;
      }),
  );
  const [accessKey, date, region, service, terminator] = (fields.get('Credential') ?? '').split('/');
  const signedHeaders = fields.get('SignedHeaders')?.split(';');
  const signature = fields.get('Signature');
  if (!accessKey || !date || !region || !service || terminator !== 'aws4_request' || !signedHeaders || !signature) return undefined;
  return { accessKey, date, region, service, signedHeaders, signature };
}

/** `20261130T120000Z` as a Date. */
function amzDate(text: string): Date | undefined {
  const match = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/.exec(text);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second] = match.map(Number) as [number, number, number, number, number, number, number];
  return new Date(Date.UTC(year, month - 1, day, hour, minute, second));
}

/** The query of a request target as SigV4 canonicalizes it: decoded names and values, repeated names kept in order. */
function queryOf(target: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  const text = target.includes('?') ? target.slice(target.indexOf('?') + 1) : '';
  for (const pair of text.split('&').filter((item) => item !== '')) {
    const [name = '', value = ''] = pair.split('=', 2).map((part) => decodeURIComponent(part.replace(/\+/g, '%20')));
    const known = query[name];
    query[name] = known === undefined ? value : [...(Array.isArray(known) ? known : [known]), value];
  }
  return query;
}

function refused(code: string, message: string): SignatureVerdict {
  return { kind: 'refused', code, message };
}

/**
 * Recomputes the request's signature with the secret of its access key, over
 * the headers it says it signed, and compares. The body is not part of it:
 * b2c's curl declares UNSIGNED-PAYLOAD, and a declared hash is checked
 * against the body by `checkPayload`.
 */
export async function checkSignature(
  request: { method: string; target: string; headers: IncomingHttpHeaders },
  secrets: ReadonlyMap<string, string>,
): Promise<SignatureVerdict> {
  const header = request.headers.authorization;
  if (header === undefined) return refused('AccessDenied', 'Access Denied: the request is not signed.');
  const authorization = parseAuthorization(header);
  if (authorization === undefined) return refused('AuthorizationHeaderMalformed', `The authorization header is malformed: ${header.split(',')[0] ?? ''}`);
  const secret = secrets.get(authorization.accessKey);
  if (secret === undefined) return { kind: 'unknown-key' };
  const signingDate = amzDate(String(request.headers['x-amz-date'] ?? ''));
  if (signingDate === undefined) return refused('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  if (!authorization.signedHeaders.includes('host')) return refused('AccessDenied', 'The host header must be signed');
  const headers: Record<string, string> = {};
  for (const name of authorization.signedHeaders) {
    const value = request.headers[name];
    if (value === undefined) return refused('SignatureDoesNotMatch', `The signed header ${name} is missing from the request`);
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const path = request.target.split('?')[0] ?? '/';
  const signer = new SignatureV4({
    credentials: { accessKeyId: authorization.accessKey, secretAccessKey: secret },
    region: authorization.region,
    service: authorization.service,
    sha256: Sha256,
    // S3 signs the path as it is sent, without encoding it a second time.
    uriEscapePath: false,
    applyChecksum: false,
  });
  const signed = await signer.sign(
    new HttpRequest({ method: request.method, protocol: 'http:', hostname: headers.host ?? '', path, query: queryOf(request.target), headers }),
    {
      signingDate,
      signableHeaders: new Set(authorization.signedHeaders),
    },
  );
  const expected = /Signature=([0-9a-f]+)/.exec(String(signed.headers.authorization ?? signed.headers.Authorization ?? ''))?.[1] ?? '';
  const given = Buffer.from(authorization.signature);
  if (expected.length !== given.length || !timingSafeEqual(Buffer.from(expected), given)) {
    return refused(
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    );
  }
  return { kind: 'valid' };
}

function errorDocument(code: string, message: string): string {
  const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${escape(message)}</Message></Error>\n`;
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

export interface SigningProxy {
  port: number;
  /** Requests refused for their signature, as `METHOD target: code`. */
  refusals: string[];
  close(): Promise<void>;
}

/**
 * An HTTP server on 127.0.0.1 that forwards to s3rver on `targetPort` every
 * request whose signature holds, and answers the others with S3's own error
 * document, status 403.
 */
export async function startSigningProxy(targetPort: number, secrets: ReadonlyMap<string, string>): Promise<SigningProxy> {
  const refusals: string[] = [];
  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const target = request.url ?? '/';
    const verdict = await checkSignature({ method: request.method ?? 'GET', target, headers: request.headers }, secrets);
    const declaredHash = String(request.headers['x-amz-content-sha256'] ?? UNSIGNED_PAYLOAD);
    // A declared hash is checked against the body, which must then be read whole; an unsigned payload streams through.
    const body = /^[0-9a-f]{64}$/.test(declaredHash) ? await readBody(request) : undefined;
    const failure =
      verdict.kind === 'refused'
        ? verdict
        : body !== undefined && createHash('sha256').update(body).digest('hex') !== declaredHash
          ? { code: 'XAmzContentSHA256Mismatch', message: 'The provided x-amz-content-sha256 header does not match what was computed.' }
          : undefined;
    if (failure !== undefined) {
      refusals.push(`${request.method} ${target}: ${failure.code}`);
      request.resume();
      response.writeHead(403, { 'content-type': 'application/xml' }).end(errorDocument(failure.code, failure.message));
      return;
    }
    const upstream = httpRequest({ host: '127.0.0.1', port: targetPort, method: request.method, path: target, headers: request.headers }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      // A client that goes away mid-body (a guest whose disk is full) must not leave s3rver's answer open: the server could never close.
      pipeline(answer, response, () => undefined);
    });
    upstream.on('error', (error) => response.writeHead(502).end(error.message));
    if (body !== undefined) upstream.end(body);
    else request.pipe(upstream);
  };
  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => response.writeHead(500).end(String(error)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    refusals,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
