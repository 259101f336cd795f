import { describe, expect, it } from 'vitest';
import { Secret } from '../../src/cmdline/secret.ts';
import { describeFailure, resolveBucketPath, S3Client } from '../../src/s3/client.ts';
import { S3_TRIES } from '../../src/s3/request.ts';
import { FakeSystem } from '../fake-system.ts';

const alias = { alias: 's3', url: 'http://10.0.2.100:9000', accessKey: new Secret('key'), secretKey: new Secret('secret') };

function machineWithCurl(statuses: number[]): FakeSystem {
  const fake = new FakeSystem().file('/run/b2c/s3/.keep', '').file('/tmp/results.bin', 'data');
  let call = 0;
  fake.on(['curl'], () => {
    const status = statuses[Math.min(call++, statuses.length - 1)] as number;
    return status === 0 ? {} : { status, stderr: `curl: (${status}) Empty reply from server\n` };
  });
  return fake;
}

describe('S3Client', () => {
  it('tries a request again when the connection was dropped under it, signed anew, 1 s and then 2 s later', async () => {
    const fake = machineWithCurl([52, 56, 0]);
    await new S3Client(fake, '/run/b2c/s3').put(resolveBucketPath('s3/jobs/results', [alias]), 'big.bin', '/tmp/results.bin');
    const tries = fake.runs.filter((run) => run.argv[0] === 'curl');
    expect(tries).toHaveLength(3);
    expect(tries.map((run) => run.at)).toEqual([0, 1000, 3000]);
  });

  it(`gives up after ${S3_TRIES} dropped tries, and tries once what the server refused`, async () => {
    const dropped = machineWithCurl([52]);
    const location = resolveBucketPath('s3/jobs/results', [alias]);
    await expect(new S3Client(dropped, '/run/b2c/s3').put(location, 'big.bin', '/tmp/results.bin')).rejects.toThrow(
      /^PUT s3\/jobs\/results\/big\.bin: curl status 52/,
    );
    expect(dropped.ran('curl')).toHaveLength(S3_TRIES);
    const refused = machineWithCurl([22]);
    await expect(new S3Client(refused, '/run/b2c/s3').put(location, 'big.bin', '/tmp/results.bin')).rejects.toThrow(/curl status 22/);
    expect(refused.ran('curl')).toHaveLength(1);
  });
});

describe('describeFailure', () => {
  it("gives S3's own code, a full disk for curl's write error, and curl's complaint otherwise", () => {
    expect(describeFailure(22, '<Error><Code>NoSuchBucket</Code><Message>gone</Message></Error>', '')).toBe('the server answered NoSuchBucket (gone)');
    expect(describeFailure(23, '\u0007\u0007', 'curl: (23) Failure writing output to destination\n')).toMatch(/^curl status 23: .*no space left/);
    expect(describeFailure(7, '', 'curl: (7) Failed to connect\n')).toBe('curl status 7: (7) Failed to connect');
  });
});
