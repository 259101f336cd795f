import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeS3Key } from '../../src/s3/request.ts';
import { canonicalQuery, signS3Request } from '../../src/s3/signature.ts';
import { checkSignature } from '../../src/testbed/s3-signature.ts';

// The example of Amazon's S3 documentation ("Signature Calculations for the Authorization Header"), with its published signatures.
const EXAMPLE_KEY = { accessKey: 'AKIAIOSFODNN7EXAMPLE', secretKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', region: 'us-east-1' };
const EXAMPLE_TIME = new Date(Date.UTC(2013, 4, 24));
const EMPTY_BODY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

describe('signS3Request', () => {
  it("gives the signatures of Amazon's own examples", () => {
    const getObject = signS3Request(
      { method: 'GET', host: 'examplebucket.s3.amazonaws.com', path: '/test.txt', headers: { range: 'bytes=0-9' }, payloadHash: EMPTY_BODY },
      EXAMPLE_KEY,
      EXAMPLE_TIME,
    );
    expect(getObject.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, ' +
        'Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    );
    expect(getObject['x-amz-date']).toBe('20130524T000000Z');
    const listObjects = signS3Request(
      { method: 'GET', host: 'examplebucket.s3.amazonaws.com', path: '/', query: { 'max-keys': '2', prefix: 'J' }, payloadHash: EMPTY_BODY },
      EXAMPLE_KEY,
      EXAMPLE_TIME,
    );
    expect(listObjects.authorization).toMatch(/Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7$/);
  });

  it('encodes a + in a query value as %2B, not as a space', () => {
    expect(canonicalQuery({ 'continuation-token': '1ab+/c=', prefix: 'c++ x/' })).toBe('continuation-token=1ab%2B%2Fc%3D&prefix=c%2B%2B%20x%2F');
  });

  it("is accepted by the AWS SDK's own signer for any key, query and header, and refused once any of them changes", async () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'Z', '0', '+', ' ', '/', '=', '&', '%', '~', 'é', '€', '*', "'", '(', '.'), maxLength: 12 });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'PUT', 'DELETE', 'HEAD'),
        fc.array(
          text.filter((segment) => segment !== ''),
          { minLength: 1, maxLength: 3 },
        ),
        fc.dictionary(
          text.filter((name) => name !== ''),
          text,
          { maxKeys: 3 },
        ),
        fc.option(text, { nil: undefined }),
        async (method, segments, query, attributes) => {
          const path = `/jobs/${encodeS3Key(segments.join('/'))}`;
          const headers: Record<string, string> = attributes === undefined ? {} : { 'x-amz-meta-mc-attrs': attributes.trim() };
          const key = { accessKey: 'b2c-access', secretKey: 's3cr3t+/=', region: 'us-east-1' };
          const signed = signS3Request({ method, host: '10.0.2.100:9000', path, query, headers }, key, new Date(Date.UTC(2026, 10, 30, 12, 1, 2)));
          const target = `${path}${Object.keys(query).length > 0 ? `?${canonicalQuery(query)}` : ''}`;
          const secrets = new Map([[key.accessKey, key.secretKey]]);
          expect(await checkSignature({ method, target, headers: signed }, secrets)).toEqual({ kind: 'valid' });
          const tampered = await checkSignature({ method, target: `${path}x`, headers: signed }, secrets);
          expect(tampered.kind).toBe('refused');
        },
      ),
      { numRuns: 200 },
    );
  });
});
