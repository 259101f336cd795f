// Volumes synced with a real S3 server in real boots: s3rver on 127.0.0.1 behind a SigV4 signature check (standing in for MinIO, which cannot be
// installed here), reached through a QEMU forward. Each case makes its own disks and objects.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultProxy } from '../../src/testbed/fault-proxy.ts';
import { freePort } from '../../src/testbed/registry.ts';
import { TEST_ACCESS_KEY, TEST_SECRET_KEY, TestS3 } from '../../src/testbed/s3.ts';
import { FORWARD_ADDRESS } from '../../src/vm/qemu.ts';
import { blankDisk as blankDiskIn } from './disks.ts';
import { bootB2c, expectCleanEnd, testImage, type BootResult } from './boot.ts';

const folder = mkdtempSync(join(tmpdir(), 'b2c-volumes-'));
const VAULT_KEY = Buffer.from('the key of the vault').toString('base64');
const WRONG_VAULT_KEY = Buffer.from('not the key of the vault').toString('base64');
const WRONG_SECRET = 'wrong-secret-91c2e7';
const SEALING_KEY = 'sealing-key-0d5f3a';

let s3: TestS3;
beforeAll(async () => {
  s3 = await TestS3.start(['jobs', 'logs']);
});
afterAll(async () => {
  await s3?.close();
  rmSync(folder, { recursive: true, force: true });
});

const blankDisk = (name: string, bytes: number): string => blankDiskIn(folder, name, bytes);

const minio = (alias: string, accessKey = TEST_ACCESS_KEY, secretKey = TEST_SECRET_KEY): string =>
  `b2c.minio="${alias},http://${FORWARD_ADDRESS}:${s3.port},${accessKey},${secretKey}"`;

/** A step on the busybox test image with podman options (volumes) before it. */
const container = (option: string, podmanOptions: string, command: string): string =>
  `${option}="${podmanOptions} --tls-verify=false ${testImage()} sh -c '${command}'"`;

function boot(words: string[], disks: string[] = []): Promise<BootResult> {
  return bootB2c(words, { disks, runOptions: ['--forward', String(s3.port)] });
}

describe('volumes mirrored to S3', () => {
  it('pulls at start, pushes at end with remove, exclude and preserve, pushes logs while the container runs, and syncs around each step', async () => {
    await s3.putObject('jobs', '42/input.txt', 'input-from-the-bucket');
    await s3.putObject('jobs', '42/stale.txt', 'stale');
    await s3.putObject('jobs', '42/remote.tmp', 'excluded on the bucket side');
    // A read-only bucket, as farms mount their traces: pulled, never pushed back, whatever the job does to its copy.
    await s3.putObject('jobs', 'traces/a.trace', 'trace-a');
    await s3.putObject('jobs', 'traces/b.trace', 'trace-b');
    const traces = await s3.objects('jobs', 'traces/');
    // A tool pushed by someone with preserve: its mode comes back with it.
    await s3.putObject('jobs', 'tools/echo', readFileSync('/bin/busybox'), { 'x-amz-meta-mc-attrs': 'mode:33261' });
    const result = await boot([
      minio('farm'),
      'b2c.volume="job,mirror=farm/jobs/42,pull_on=pipeline_start,push_on=pipeline_end,remove,overwrite,exclude=*.tmp,preserve"',
      'b2c.volume="logs,push_to=farm/logs/42,push_on=changes"',
      'b2c.volume="stage,push_to=farm/jobs/stage,push_on=container_end"',
      'b2c.volume="stage-in,pull_from=farm/jobs/stage,pull_on=container_start"',
      'b2c.volume="tools,pull_from=farm/jobs/tools,pull_on=pipeline_start,preserve"',
      'b2c.volume="traces,mirror=farm/jobs/traces,pull_on=pipeline_start,overwrite,preserve,remove"',
      container(
        'b2c.container',
        '-v job:/job -v stage:/stage -v tools:/tools -v traces:/traces',
        'echo one > /stage/after-1; echo pulled: $(ls /job); cp /bin/busybox /job/echo; chmod 755 /job/echo; cat /job/input.txt; echo; ' +
          'echo result > /job/result.txt; rm /job/stale.txt; echo local > /job/local.tmp; /tools/echo tool-$((6*7)); ' +
          'echo traces=[$(ls /traces)]; rm /traces/a.trace; echo new > /traces/c.trace',
      ),
      container(
        'b2c.container',
        '-v logs:/logs -v stage-in:/stage-in',
        'echo stage-in=[$(ls /stage-in)]; for i in 1 2 3 4 5; do echo line $i > /logs/part$i; sleep 1; done; exit 3',
      ),
    ]);
    expectCleanEnd(result, 3);
    expect(result.output).toMatch(/^pulled: input.txt stale.txt\r?$/m);
    expect(result.output).toMatch(/^input-from-the-bucket\r?$/m);
    expect(result.output).toMatch(/^tool-42\r?$/m);
    expect(result.output).toMatch(/^traces=\[a.trace b.trace\]\r?$/m);
    expect(await s3.objects('jobs', 'traces/')).toEqual(traces);
    // remove deleted stale.txt, exclude kept local.tmp home and protected remote.tmp.
    expect([...(await s3.objects('jobs', '42/')).keys()].sort()).toEqual(['echo', 'input.txt', 'remote.tmp', 'result.txt']);
    expect((await s3.metadata('jobs', '42/echo'))['x-amz-meta-mc-attrs']).toBe('mode:33261');
    expect((await s3.objects('jobs', '42/')).get('result.txt')).toBe('result\n');
    // Every file the failing container wrote reached the bucket, some of them while it ran.
    expect(await s3.objects('logs', '42/')).toEqual(new Map([1, 2, 3, 4, 5].map((index) => [`part${index}`, `line ${index}\n`])));
    const whileRunning = result.output.slice(result.output.indexOf('Container 2: podman run'), result.output.indexOf('Container 2 exited with status 3'));
    expect(whileRunning).toMatch(/Pushed the volume logs to farm\/logs\/42 in [0-9.]+ s: [1-4] files? copied/);
    // Pushed when the first step ended, pulled into another volume when the second started.
    const betweenSteps = result.output.slice(result.output.indexOf('Container 1 exited'), result.output.indexOf('Container 2: podman run'));
    expect(betweenSteps).toMatch(/Pushed the volume stage to farm\/jobs\/stage in [0-9.]+ s: 1 file copied/);
    expect(betweenSteps).toMatch(/Pulled the volume stage-in from farm\/jobs\/stage in [0-9.]+ s: 1 file copied/);
    expect(result.output).toMatch(/^stage-in=\[after-1\]\r?$/m);
    expect(result.output).not.toContain(TEST_SECRET_KEY);
    expect(s3.refusals).toEqual([]);
  });

  it('keeps volumes across boots of a cache disk: expired ones go, fscrypt keeps a vault shut to a wrong key, fscrypt_reset_key starts over', async () => {
    const cacheDisk = blankDisk('lifetimes.img', 1024 * 1024 * 1024);
    const first = await boot(
      [
        'b2c.cache_device=auto',
        'b2c.volume="scratch,expiration=pipeline_end"',
        'b2c.volume=kept',
        'b2c.volume=plain',
        `b2c.volume="vault,fscrypt_key=${VAULT_KEY}"`,
        container(
          'b2c.container',
          '-v scratch:/scratch -v kept:/kept -v plain:/plain -v vault:/vault',
          'echo old > /plain/old; echo a > /scratch/a; echo kept-$((6*7))-in-plain-text > /kept/b; echo vault-$((6*7))-content > /vault/data',
        ),
      ],
      [cacheDisk],
    );
    expectCleanEnd(first, 0);
    expect(first.output).toContain('Removing the volume scratch: it expires with the pipeline');
    expect(first.output).toContain('Volume vault: created, at /var/lib/containers/storage/volumes/vault/_data, encrypted with fscrypt');
    // The plain volume's file is on the disk as written; the vault's is not. Both texts are computed in the container: podman keeps each command
    // line on the disk.
    const disk = readFileSync(cacheDisk);
    expect(disk.includes('kept-42-in-plain-text')).toBe(true);
    expect(disk.includes('vault-42-content')).toBe(false);

    const refused = await boot(
      [
        'b2c.cache_device=auto',
        `b2c.volume="vault,fscrypt_key=${WRONG_VAULT_KEY}"`,
        minio('good'),
        // Created, then refused, so never dropped by this boot: an expiring leftover for the next.
        `b2c.volume="sealed,push_to=good/jobs/sealed,push_on=pipeline_end,encrypt_key=${SEALING_KEY},expiration=pipeline_end"`,
        container('b2c.container', '-v vault:/vault -v sealed:/sealed', 'echo should-not-run'),
        container('b2c.post_container', '', 'echo failed-by=[$B2C_PIPELINE_FAILED_BY]'),
      ],
      [cacheDisk],
    );
    expectCleanEnd(refused, 1);
    expect(refused.output).toContain('Error: could not set up the volume vault: it is encrypted with another key: fscrypt_key does not match');
    expect(refused.output).toMatch(/^failed-by=\[volume vault\]\r?$/m);
    expect(refused.output).not.toMatch(/^should-not-run/m);
    expect(refused.output).not.toContain(WRONG_VAULT_KEY);
    // SSE-C cannot be tested here: such a volume is refused, and nothing reaches the bucket.
    expect(refused.output).toContain(
      'Error: could not set up the volume sealed: encrypt_key (S3 server-side encryption with a customer key) is not supported by this b2c',
    );
    expect([...(await s3.objects('jobs', 'sealed/')).keys()]).toEqual([]);
    expect(refused.output).not.toContain(SEALING_KEY);

    const later = await boot(
      [
        'b2c.cache_device=auto',
        'b2c.volume="scratch,expiration=pipeline_end"',
        'b2c.volume=kept',
        `b2c.volume="vault,fscrypt_key=${VAULT_KEY}"`,
        `b2c.volume="plain,fscrypt_key=${WRONG_VAULT_KEY},fscrypt_reset_key"`,
        container(
          'b2c.container',
          '-v scratch:/scratch -v kept:/kept -v vault:/vault -v plain:/plain',
          'echo scratch=[$(ls /scratch)] kept=[$(cat /kept/b)] vault=[$(cat /vault/data)] plain=[$(ls /plain)]',
        ),
      ],
      [cacheDisk],
    );
    expectCleanEnd(later, 0);
    expect(later.output).toMatch(/^scratch=\[\] kept=\[kept-42-in-plain-text\] vault=\[vault-42-content\] plain=\[\]\r?$/m);
    expect(later.output).toContain('Removing the volume sealed, which an earlier boot left behind although it expired with its pipeline');
    expect(later.output).toContain('Volume vault: reused');
    expect(later.output).toContain('Volume plain: not encrypted; fscrypt_reset_key empties it and encrypts it with the key given');
    expect(later.output).toContain('Volume plain: created, at /var/lib/containers/storage/volumes/plain/_data, encrypted with fscrypt');
  });

  it('fails on a wrong access key and on a wrong secret, pulls and pushes nothing, prints no secret; mounts a b2c.filesystem as a volume', async () => {
    await s3.putObject('jobs', 'denied/input.txt', 'not for strangers');
    await s3.putObject('jobs', 'forged/input.txt', 'not for forgers');
    // An ext4 disk made on the host with a file on it, for a volume backed by a b2c.filesystem.
    const content = join(folder, 'content');
    mkdirSync(content);
    writeFileSync(join(content, 'hello'), 'from-the-filesystem\n');
    const dataDisk = blankDisk('data.img', 64 * 1024 * 1024);
    const made = spawnSync('mke2fs', ['-q', '-F', '-t', 'ext4', '-d', content, dataDisk], { encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);
    const refusedBefore = s3.refusals.length;
    const result = await boot(
      [
        minio('stranger', 'nobody', WRONG_SECRET),
        minio('forger', TEST_ACCESS_KEY, WRONG_SECRET),
        minio('good'),
        'b2c.volume="job,mirror=stranger/jobs/denied,pull_on=pipeline_start,push_on=pipeline_end"',
        'b2c.volume="forged,mirror=forger/jobs/forged,pull_on=pipeline_start,push_on=pipeline_end"',
        'b2c.volume="out,push_to=good/no-such-bucket/42,push_on=pipeline_end"',
        'b2c.filesystem="data,type=ext4,src=/dev/vda,opts=ro|noatime"',
        'b2c.volume="disk,filesystem=data"',
        container('b2c.container', '-v job:/job', 'echo should-not-run'),
        container(
          'b2c.post_container',
          '-v disk:/disk -v forged:/forged',
          'echo forged-written > /forged/out.txt; ' +
            'echo failed-by=[$B2C_PIPELINE_FAILED_BY] disk=[$(cat /disk/hello)] forged=[$(ls /forged)] $(grep -c /disk.ext4.ro, /proc/mounts)',
        ),
      ],
      [dataDisk],
    );
    expectCleanEnd(result, 1);
    expect(result.output).toMatch(/^failed-by=\[volume job\] disk=\[from-the-filesystem\] forged=\[out.txt\] 1\r?$/m);
    expect(result.output).toContain(
      'Error: could not pull the volume job from stranger/jobs/denied: GET stranger/jobs: the server answered InvalidAccessKeyId',
    );
    expect(result.output).toContain(
      'Error: could not pull the volume forged from forger/jobs/forged: GET forger/jobs: the server answered SignatureDoesNotMatch ' +
        '(The request signature we calculated',
    );
    expect(result.output).not.toMatch(/^should-not-run/m);
    // A volume whose pull failed is not pushed: its folder is not the bucket's content.
    expect(result.output.split('Error: the volume job is not pushed to stranger/jobs/denied: its pull failed, and its content is not complete')).toHaveLength(
      2,
    );
    expect(result.output.split('Error: the volume forged is not pushed to forger/jobs/forged: its pull failed, and its content is not complete')).toHaveLength(
      2,
    );
    expect(result.output).toContain(
      'Error: could not push the volume out to good/no-such-bucket/42: GET good/no-such-bucket: the server answered NoSuchBucket',
    );
    expect([...(await s3.objects('jobs', 'forged/')).keys()]).toEqual(['input.txt']);
    expect(s3.refusals.slice(refusedBefore)).toEqual(['GET /jobs?list-type=2&prefix=forged%2F: SignatureDoesNotMatch']);
    for (const secret of [WRONG_SECRET, TEST_SECRET_KEY]) expect(result.output).not.toContain(secret);
  });

  it('a server down, an object larger than the cache: steps skipped, post container run; a dropped push stores nothing and deletes nothing', async () => {
    await s3.putObject('jobs', 'results/old.txt', 'from an earlier job');
    await s3.putObject('jobs', 'huge/blob.bin', Buffer.alloc(100 * 1024 * 1024, 7));
    // 64 MiB: room for busybox and the results, not for the 100 MB object.
    const smallCache = blankDisk('small-cache.img', 64 * 1024 * 1024);
    const proxy = await FaultProxy.start(s3.port);
    const deadPort = await freePort();
    try {
      // The server goes away whenever the push sends the new file: every try is dropped.
      proxy.add({ method: 'PUT', path: /^\/jobs\/results\/big\.bin/, fault: { kind: 'reset' } });
      const result = await bootB2c(
        [
          `b2c.minio="down,http://${FORWARD_ADDRESS}:${deadPort},${TEST_ACCESS_KEY},${TEST_SECRET_KEY}"`,
          `b2c.minio="flaky,http://${FORWARD_ADDRESS}:${proxy.port},${TEST_ACCESS_KEY},${TEST_SECRET_KEY}"`,
          'b2c.cache_device=auto',
          minio('good'),
          'b2c.volume="input,mirror=down/jobs/input,pull_on=pipeline_start"',
          'b2c.volume="huge,mirror=good/jobs/huge,pull_on=pipeline_start"',
          'b2c.volume="results,push_to=flaky/jobs/results,push_on=pipeline_end,remove"',
          container('b2c.container', '-v input:/input', 'echo should-not-run'),
          container('b2c.post_container', '-v results:/results', 'head -c 4194304 /dev/urandom > /results/big.bin; echo post-ran-$((6*7))'),
        ],
        { disks: [smallCache], runOptions: ['--forward', String(s3.port), '--forward', String(deadPort), '--forward', String(proxy.port)] },
      );
      expectCleanEnd(result, 1);
      expect(result.output).toMatch(/Error: could not pull the volume input from down\/jobs\/input: .*(refused|reset|closed|Empty reply|Recv failure)/);
      expect(result.output).toMatch(
        /Error: could not pull the volume huge from good\/jobs\/huge: GET good\/jobs\/huge\/blob\.bin: curl status 23: .*\(no space left/,
      );
      expect(result.output).not.toMatch(/^should-not-run/m);
      expect(result.output).toMatch(/^post-ran-42\r?$/m);
      expect(result.output).toMatch(/Error: could not push the volume results to flaky\/jobs\/results: PUT flaky\/jobs\/results\/big\.bin/);
      // Nothing under the new file's name, and `remove` deleted nothing: the push never completed.
      expect([...(await s3.objects('jobs', 'results/')).keys()]).toEqual(['old.txt']);
      // Dropped connections are tried four times.
      expect(proxy.seen(/^\/jobs\/results\/big\.bin/)).toHaveLength(4);
    } finally {
      await proxy.close();
    }
  });
});
