// Runs the test S3 server in a process of its own: s3rver behind a proxy that checks SigV4 signatures. Started with --openssl-legacy-provider,
// since s3rver encrypts its continuation tokens with DES, which OpenSSL 3 only has there.

import S3rver from 's3rver';
import { DUMMY_ACCOUNT } from 's3rver/lib/models/account.js';
import { TEST_ACCESS_KEY, TEST_SECRET_KEY } from './s3-keys.ts';
import { startSigningProxy } from './s3-signature.ts';

const [directory, ...buckets] = process.argv.slice(2);
if (directory === undefined) throw new Error('usage: s3-server.ts DIRECTORY [BUCKET ...]');
DUMMY_ACCOUNT.createKeyPair(TEST_ACCESS_KEY, TEST_SECRET_KEY);
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: process.env.B2C_S3_VERBOSE === undefined,
  directory,
  // Path-style, as MinIO and farms use it: a host name such as ci-gateway is a server, not a bucket.
  vhostBuckets: false,
  configureBuckets: buckets.map((name) => ({ name })),
});
const address = await server.run();
const proxy = await startSigningProxy(address.port, new Map([[TEST_ACCESS_KEY, TEST_SECRET_KEY]]));
const reported = { count: 0 };
// Refusals go to the parent as they happen, one line each.
setInterval(() => {
  for (const refusal of proxy.refusals.slice(reported.count)) process.stdout.write(`refused ${refusal}\n`);
  reported.count = proxy.refusals.length;
}, 50).unref();
process.stdout.write(`listening ${proxy.port}\n`);
process.on('SIGTERM', () => void Promise.all([proxy.close(), server.close()]).then(() => process.exit(0)));
