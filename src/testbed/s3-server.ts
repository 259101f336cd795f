// Runs s3rver for TestS3 in a process of its own: started with --openssl-legacy-provider, since s3rver encrypts its continuation tokens with DES,
// which OpenSSL 3 only has there.

import S3rver from 's3rver';
import { DUMMY_ACCOUNT } from 's3rver/lib/models/account.js';
import { TEST_ACCESS_KEY, TEST_SECRET_KEY } from './s3-keys.ts';

const [directory, ...buckets] = process.argv.slice(2);
if (directory === undefined) throw new Error('usage: s3-server.ts DIRECTORY [BUCKET ...]');
DUMMY_ACCOUNT.createKeyPair(TEST_ACCESS_KEY, TEST_SECRET_KEY);
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: process.env.B2C_S3_VERBOSE === undefined,
  directory,
  configureBuckets: buckets.map((name) => ({ name })),
});
const address = await server.run();
process.stdout.write(`listening ${address.port}\n`);
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
