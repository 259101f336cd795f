import { describe, expect, it } from 'vitest';
import { parseMinio } from '../../src/cmdline/minio.ts';
import { resolveBucketPath, S3Client } from '../../src/s3/client.ts';
import { attributesValue, encodeS3Key, modeFromAttributes, s3Url } from '../../src/s3/request.ts';
import { FakeSystem } from '../fake-system.ts';

describe('S3 requests', () => {
  it('encodes keys as SigV4 canonical URIs want, slashes kept', () => {
    expect(encodeS3Key("logs/run (1)/it's *.txt")).toBe('logs/run%20%281%29/it%27s%20%2A.txt');
    expect(encodeS3Key('a-b_c.d~e/ü')).toBe('a-b_c.d~e/%C3%BC');
  });

  it('builds path-style URLs with the query in canonical order', () => {
    expect(s3Url('http://10.0.2.100:9000/', 'jobs', '42/out.txt')).toBe('http://10.0.2.100:9000/jobs/42/out.txt');
    expect(s3Url('https://s3.farm', 'jobs', '', { prefix: '42/', 'list-type': '2', 'continuation-token': '1/a=' })).toBe(
      'https://s3.farm/jobs?continuation-token=1%2Fa%3D&list-type=2&prefix=42%2F',
    );
  });

  it('gives curl the signed headers in a config file it removes after, and never a key in argv or the secret anywhere', async () => {
    const alias = parseMinio('s3,http://s3:9000,ACCESS-9f2,se"cr\\et-77c').value;
    if (alias === undefined) throw new Error('no alias');
    const fake = new FakeSystem();
    let config = '';
    fake.on(['curl'], (argv, system) => {
      config = String(system.files.get(argv[argv.indexOf('--config') + 1] as string));
      return { stdout: '<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>' };
    });
    const client = new S3Client(fake, '/run/b2c/s3');
    expect(await client.list(resolveBucketPath('s3/jobs/42', [alias]))).toEqual([]);
    const [argv] = fake.ran('curl');
    expect(argv?.join(' ')).not.toMatch(/ACCESS-9f2|cr\\et-77c/);
    expect(config).toMatch(/^header = "authorization: AWS4-HMAC-SHA256 Credential=ACCESS-9f2\/\d{8}\/us-east-1\/s3\/aws4_request, /m);
    expect(config).toContain('header = "host: s3:9000"');
    expect(config).not.toContain('cr\\et-77c');
    expect([...fake.files.keys()].filter((path) => path.startsWith('/run/b2c/s3/'))).toEqual([]);
    // The image's curl has stubs behind every other protocol.
    expect(argv?.[argv.indexOf('--proto') + 1]).toBe('=http,https');
    expect(argv?.at(-1)).toBe('http://s3:9000/jobs?list-type=2&prefix=42%2F');
  });
});

describe('file attributes', () => {
  it('writes the mode as MinIO’s client does, and reads it back among other fields', () => {
    expect(attributesValue(0o755)).toBe('mode:33261');
    expect(modeFromAttributes('atime:1700000000#0/gid:0/mode:33261/mtime:1700000000#0/uid:0')).toBe(0o755);
    expect(modeFromAttributes('mtime:1700000000')).toBeUndefined();
  });
});
