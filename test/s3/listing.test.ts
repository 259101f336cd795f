import { describe, expect, it } from 'vitest';
import { decodeXmlText, parseListing } from '../../src/s3/listing.ts';
import { B2cError } from '../../src/errors.ts';

const page = (contents: string, tail = '<IsTruncated>false</IsTruncated>'): string =>
  '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
  `<Name>jobs</Name><Prefix>42/</Prefix>${tail}${contents}</ListBucketResult>`;
const object = (key: string, size: number, etag = '"9e107d9d372bb6826bd81d3542a419d6"'): string =>
  `<Contents><Key>${key}</Key><LastModified>2026-11-25T12:00:00.000Z</LastModified><ETag>${etag.replace(/"/g, '&quot;')}</ETag>` +
  `<Size>${size}</Size><StorageClass>STANDARD</StorageClass></Contents>`;

describe('parseListing', () => {
  it('gives each object relative to the prefix, with its size, ETag and time', () => {
    expect(parseListing(page(object('42/logs/run.txt', 12) + object('42/a &amp; b.txt', 0)), '42/')).toEqual({
      objects: [
        { path: 'logs/run.txt', size: 12, etag: '9e107d9d372bb6826bd81d3542a419d6', lastModified: Date.UTC(2026, 10, 25, 12) },
        { path: 'a & b.txt', size: 0, etag: '9e107d9d372bb6826bd81d3542a419d6', lastModified: Date.UTC(2026, 10, 25, 12) },
      ],
    });
  });

  it('skips folder markers and keys outside the prefix', () => {
    expect(parseListing(page(object('42/', 0) + object('42/logs/', 0) + object('43/x', 1)), '42/').objects).toEqual([]);
  });

  it('hands on the continuation token of a truncated page, and refuses a truncated page without one', () => {
    expect(parseListing(page(object('42/x', 1), '<IsTruncated>true</IsTruncated><NextContinuationToken>1/abc=</NextContinuationToken>'), '42/').nextToken).toBe(
      '1/abc=',
    );
    expect(() => parseListing(page('', '<IsTruncated>true</IsTruncated>'), '42/')).toThrow(B2cError);
  });

  it('turns an S3 error document into an error that names its code', () => {
    const denied =
      '<?xml version="1.0"?><Error><Code>InvalidAccessKeyId</Code><Message>The AWS Access Key Id you provided does not exist in our records.</Message></Error>';
    expect(() => parseListing(denied, '')).toThrow(/InvalidAccessKeyId: The AWS Access Key Id/);
    expect(() => parseListing('<html>proxy error</html>', '')).toThrow(/did not answer with a listing/);
  });

  it('decodes named and numeric entities', () => {
    expect(decodeXmlText('&lt;a&gt; &#233;&#x263A; &apos;&quot;&amp;amp;')).toBe('<a> é☺ \'"&amp;');
  });
});
