// The sync engine against a real S3 server on 127.0.0.1 (s3rver behind a SigV4 check, standing in for MinIO) with the image's own curl (trixie's,
// run through its loader).

import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MinioAlias } from '../../src/cmdline/config.ts';
import { Secret } from '../../src/cmdline/secret.ts';
import { nodeSystem } from '../../src/system/node.ts';
import { TEST_ACCESS_KEY, TEST_SECRET_KEY, TestS3 } from '../../src/testbed/s3.ts';
import { resolveBucketPath, S3Client } from '../../src/s3/client.ts';
import { describeReport, listLocal, pullVolume, pushVolume } from '../../src/s3/mirror.ts';
import { B2cError } from '../../src/errors.ts';
import { DebianTools } from '../../src/debian/tools.ts';

const options = { overwrite: false, remove: false, exclude: [] as string[] };

describe('volume sync with a real S3 server', () => {
  let s3: TestS3;
  let work: string;
  let alias: MinioAlias;
  let client: S3Client;
  let folder: string;
  let curl: string[];

  beforeAll(async () => {
    s3 = await TestS3.start(['jobs']);
    work = await mkdtemp(join(tmpdir(), 'b2c-sync-'));
    alias = { alias: 'farm', url: s3.url, accessKey: new Secret(TEST_ACCESS_KEY), secretKey: new Secret(TEST_SECRET_KEY) };
    curl = (await DebianTools.prepare(['curl'])).command('curl', 'usr/bin/curl');
    client = new S3Client(nodeSystem, join(work, 'credentials'), { caBundle: '/dev/null', curl });
  });

  afterAll(async () => {
    await s3?.close();
    await rm(work, { recursive: true, force: true });
  });

  let run = 0;
  beforeEach(async () => {
    folder = join(work, `volume-${++run}`);
    await mkdir(folder, { recursive: true });
  });

  const location = (path: string) => resolveBucketPath(`farm/jobs/${path}`, [alias]);

  it('pulls every object below the prefix, keys with spaces and non-ASCII included, and not the neighbours', async () => {
    await s3.putObject('jobs', '1/in/a b.txt', 'first');
    await s3.putObject('jobs', '1/in/sub/é.txt', 'second');
    await s3.putObject('jobs', '10/other.txt', 'not ours');
    const report = await pullVolume(nodeSystem, client, location('1/in'), folder, options);
    expect(report).toMatchObject({ copied: 2, bytes: 11, removed: 0 });
    expect(await readFile(join(folder, 'a b.txt'), 'utf8')).toBe('first');
    expect(await readFile(join(folder, 'sub/é.txt'), 'utf8')).toBe('second');
    expect((await listLocal(nodeSystem, folder)).files.map((file) => file.path)).toEqual(['a b.txt', 'sub/é.txt']);
    // A second pull finds nothing to do: the download kept the object's time.
    expect(await pullVolume(nodeSystem, client, location('1/in'), folder, { ...options, overwrite: true })).toMatchObject({ copied: 0, kept: 0 });
  });

  it('pushes new files, overwrites changed ones only with overwrite, and deletes only with remove', async () => {
    await writeFile(join(folder, 'result.json'), '{"ok":true}');
    await mkdir(join(folder, 'logs'));
    await writeFile(join(folder, 'logs/run.log'), 'log');
    await writeFile(join(folder, 'logs/keep.tmp'), 'tmp');
    const pushing = { ...options, exclude: ['*.tmp'] };
    expect(await pushVolume(nodeSystem, client, location('2/out'), folder, pushing)).toMatchObject({ copied: 2 });
    expect(await s3.objects('jobs', '2/out/')).toEqual(
      new Map([
        ['logs/run.log', 'log'],
        ['result.json', '{"ok":true}'],
      ]),
    );

    await writeFile(join(folder, 'result.json'), '{"ok":false}');
    expect(await pushVolume(nodeSystem, client, location('2/out'), folder, pushing)).toMatchObject({ copied: 0, kept: 1 });
    expect((await s3.objects('jobs', '2/out/')).get('result.json')).toBe('{"ok":true}');
    expect(await pushVolume(nodeSystem, client, location('2/out'), folder, { ...pushing, overwrite: true })).toMatchObject({ copied: 1 });
    expect((await s3.objects('jobs', '2/out/')).get('result.json')).toBe('{"ok":false}');

    await rm(join(folder, 'logs/run.log'));
    expect(await pushVolume(nodeSystem, client, location('2/out'), folder, pushing)).toMatchObject({ removed: 0 });
    expect([...(await s3.objects('jobs', '2/out/')).keys()]).toContain('logs/run.log');
    const removed = await pushVolume(nodeSystem, client, location('2/out'), folder, { ...pushing, remove: true });
    expect(describeReport(removed)).toBe('0 files copied, 1 removed');
    expect([...(await s3.objects('jobs', '2/out/')).keys()]).toEqual(['result.json']);
  });

  it('carries file modes with preserve, and only with it', async () => {
    await writeFile(join(folder, 'run.sh'), '#!/bin/sh\n');
    await chmod(join(folder, 'run.sh'), 0o750);
    await pushVolume(nodeSystem, client, location('4/tools'), folder, { ...options, preserve: true });
    expect((await s3.metadata('jobs', '4/tools/run.sh'))['x-amz-meta-mc-attrs']).toBe('mode:33256');

    const preserved = join(work, 'preserved');
    const plain = join(work, 'plain');
    await pullVolume(nodeSystem, client, location('4/tools'), preserved, { ...options, preserve: true });
    await pullVolume(nodeSystem, client, location('4/tools'), plain, options);
    expect((await stat(join(preserved, 'run.sh'))).mode & 0o7777).toBe(0o750);
    expect((await stat(join(plain, 'run.sh'))).mode & 0o111).toBe(0);
  });

  it('pages through listings longer than one answer, under a prefix with a + and a space, signed as S3 checks it', async () => {
    for (let index = 0; index < 1005; index++) await s3.putObject('jobs', `3/c++ many/${String(index).padStart(4, '0')}`, '');
    await s3.putObject('jobs', '3/c++ manyfold', 'a neighbour');
    const refused = s3.refusals.length;
    expect(await client.list(location('3/c++ many'))).toHaveLength(1005);
    expect(s3.refusals.slice(refused)).toEqual([]);
  });

  it('fails on a wrong secret with the right access key: nothing pulled or pushed, the secret not in the message', async () => {
    await s3.putObject('jobs', 'forged/in/a.txt', 'not for strangers');
    const forger = { ...alias, secretKey: new Secret('wrong-secret-5b1d') };
    const forged = new S3Client(nodeSystem, join(work, 'forger'), { caBundle: '/dev/null', curl });
    const refused = s3.refusals.length;
    const pull = await pullVolume(nodeSystem, forged, resolveBucketPath('farm/jobs/forged/in', [forger]), folder, options).catch((error: unknown) => error);
    expect((pull as Error).message).toMatch(/^GET farm\/jobs: the server answered SignatureDoesNotMatch \(The request signature we calculated/);
    expect((await listLocal(nodeSystem, folder)).files).toEqual([]);
    await writeFile(join(folder, 'out.txt'), 'must not land');
    const push = await pushVolume(nodeSystem, forged, resolveBucketPath('farm/jobs/forged/out', [forger]), folder, options).catch((error: unknown) => error);
    expect((push as Error).message).toMatch(/SignatureDoesNotMatch/);
    expect([...(await s3.objects('jobs', 'forged/')).keys()]).toEqual(['in/a.txt']);
    for (const failure of [pull, push]) expect((failure as Error).message).not.toContain('wrong-secret');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(s3.refusals.slice(refused).every((refusal) => refusal.endsWith(': SignatureDoesNotMatch'))).toBe(true);
    expect(s3.refusals.length).toBeGreaterThan(refused);
  });

  it("names the object and the server's answer when a request fails, and leaves no partial file", async () => {
    const stranger = { ...alias, accessKey: new Secret('nobody'), secretKey: new Secret('wrong-secret-7f3e') };
    const denied = resolveBucketPath('farm/jobs/1/in', [stranger]);
    const failure = await pullVolume(
      nodeSystem,
      new S3Client(nodeSystem, join(work, 'stranger'), { caBundle: '/dev/null', curl }),
      denied,
      folder,
      options,
    ).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(B2cError);
    expect((failure as Error).message).toBe(
      'GET farm/jobs: the server answered InvalidAccessKeyId (The AWS Access Key Id you provided does not exist in our records.)',
    );
    expect((failure as Error).message).not.toContain('wrong-secret');

    const missing = await client.get(location('nothing'), 'here.txt', join(folder, 'here.txt')).catch((error: unknown) => error);
    expect((missing as Error).message).toMatch(/^GET farm\/jobs\/nothing\/here.txt: the server answered NoSuchKey/);
    expect((await listLocal(nodeSystem, folder)).files).toEqual([]);
  });

  it('refuses an alias that no b2c.minio registers', () => {
    expect(() => resolveBucketPath('elsewhere/jobs/1', [alias])).toThrow('no b2c.minio registers the alias "elsewhere"');
  });
});
