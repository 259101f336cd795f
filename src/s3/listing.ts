// Reads S3 ListObjectsV2 answers: the objects below a prefix, and the token for the next page.

import { B2cError } from '../errors.ts';

export interface RemoteObject {
  /** The object's key relative to the listed prefix: `logs/run.txt` for `jobs/42/logs/run.txt` under `jobs/42/`. */
  path: string;
  size: number;
  /** Without its quotes; a multipart upload's ETag carries a `-N` suffix and is not an MD5. */
  etag: string;
  /** Milliseconds since the epoch. */
  lastModified: number;
}

export interface ListingPage {
  objects: RemoteObject[];
  /** Set when the listing is truncated: the continuation-token of the next request. */
  nextToken?: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** XML text content with its entities decoded: the five named ones and numeric references. */
export function decodeXmlText(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, entity: string) => {
    if (entity.startsWith('#x')) return String.fromCodePoint(parseInt(entity.slice(2), 16));
    if (entity.startsWith('#')) return String.fromCodePoint(parseInt(entity.slice(1), 10));
    return ENTITIES[entity] ?? whole;
  });
}

function element(xml: string, name: string): string | undefined {
  const match = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml);
  return match ? decodeXmlText(match[1] as string) : undefined;
}

/** One page of a ListObjectsV2 answer for `prefix` (which ends with `/`, or is empty for a whole bucket). */
export function parseListing(xml: string, prefix: string): ListingPage {
  if (!/<ListBucketResult[\s>]/.test(xml)) {
    const code = element(xml, 'Code');
    throw new B2cError(code ? `the S3 server answered ${code}: ${element(xml, 'Message') ?? ''}`.trim() : 'the S3 server did not answer with a listing');
  }
  const objects: RemoteObject[] = [];
  for (const match of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
    const entry = match[1] as string;
    const key = element(entry, 'Key');
    if (key === undefined || !key.startsWith(prefix)) continue;
    const path = key.slice(prefix.length);
    // A zero-byte "folder" object some clients make stands for nothing in a volume.
    if (path === '' || path.endsWith('/')) continue;
    objects.push({
      path,
      size: Number(element(entry, 'Size') ?? '0'),
      etag: (element(entry, 'ETag') ?? '').replace(/^"|"$/g, ''),
      lastModified: Date.parse(element(entry, 'LastModified') ?? '') || 0,
    });
  }
  const truncated = element(xml, 'IsTruncated') === 'true';
  const nextToken = element(xml, 'NextContinuationToken');
  if (truncated && nextToken === undefined) throw new B2cError('the S3 listing is truncated but gives no continuation token');
  return truncated ? { objects, nextToken } : { objects };
}
