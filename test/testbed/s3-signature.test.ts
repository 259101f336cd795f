import { describe, expect, it } from 'vitest';
import { checkSignature, parseAuthorization } from '../../src/testbed/s3-signature.ts';

const SECRETS = new Map([['AKIAIOSFODNN7EXAMPLE', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY']]);
// Amazon's documented GET Object example, signed with the key above.
const REQUEST = {
  method: 'GET',
  target: '/test.txt',
  headers: {
    host: 'examplebucket.s3.amazonaws.com',
    range: 'bytes=0-9',
    'x-amz-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    'x-amz-date': '20130524T000000Z',
    authorization:
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,' +
      'Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
  },
};

describe('the signature check of the test S3 server', () => {
  it("accepts Amazon's own example", async () => {
    expect(await checkSignature(REQUEST, SECRETS)).toEqual({ kind: 'valid' });
  });

  it('refuses a request signed with another secret, or changed after it was signed', async () => {
    expect(await checkSignature(REQUEST, new Map([['AKIAIOSFODNN7EXAMPLE', 'not-the-secret']]))).toMatchObject({ code: 'SignatureDoesNotMatch' });
    expect(await checkSignature({ ...REQUEST, target: '/test.txt?x=1' }, SECRETS)).toMatchObject({ code: 'SignatureDoesNotMatch' });
    expect(await checkSignature({ ...REQUEST, method: 'DELETE' }, SECRETS)).toMatchObject({ code: 'SignatureDoesNotMatch' });
    expect(await checkSignature({ ...REQUEST, headers: { ...REQUEST.headers, range: 'bytes=0-99' } }, SECRETS)).toMatchObject({
      code: 'SignatureDoesNotMatch',
    });
  });

  it('refuses unsigned and malformed requests, and leaves unknown keys to the server behind it', async () => {
    const { authorization: _, ...unsigned } = REQUEST.headers;
    expect(await checkSignature({ ...REQUEST, headers: unsigned }, SECRETS)).toMatchObject({ code: 'AccessDenied' });
    expect(await checkSignature({ ...REQUEST, headers: { ...REQUEST.headers, authorization: 'AWS4-HMAC-SHA256 nonsense' } }, SECRETS)).toMatchObject({
      code: 'AuthorizationHeaderMalformed',
    });
    expect(await checkSignature(REQUEST, new Map())).toEqual({ kind: 'unknown-key' });
  });

  it('reads the parts of an Authorization header', () => {
    expect(parseAuthorization(REQUEST.headers.authorization)).toEqual({
      accessKey: 'AKIAIOSFODNN7EXAMPLE',
      date: '20130524',
      region: 'us-east-1',
      service: 's3',
      signedHeaders: ['host', 'range', 'x-amz-content-sha256', 'x-amz-date'],
      signature: 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    });
  });
});
