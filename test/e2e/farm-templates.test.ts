// ci-tron's b2c templates, rendered with their defaults, booted unchanged on a test gateway that plays ci-tron's parts, and judged as ci-tron
// judges a job: its two console patterns, and the artifacts in the job's bucket.
//
// The gateway is a test LAN in a namespace of its own: DHCP and DNS (ci-gateway), NTP, and the test's servers on 127.0.0.1 exposed on it as
// the gateway's ports: the registry (:8002), the job's HTTP server with its CONNECT proxy (:8100), S3 behind the signature check (:9000),
// and two qemu-nbd exports (:10809, :10810). Costs: three boots, 4 to 5 minutes of one worker (each boot waits b2c.poweroff_delay=15).

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DebianTools } from '../../src/debian/tools.ts';
import { cpioChunks, S_IFDIR, S_IFREG } from '../../src/image/cpio.ts';
import { makeCertificates } from '../../src/testbed/certificates.ts';
import { busyboxImage, debianBusybox } from '../../src/testbed/images.ts';
import { JobServer } from '../../src/testbed/job-server.ts';
import { TestNetwork } from '../../src/testbed/netns.ts';
import { freePort, LocalRegistry } from '../../src/testbed/registry.ts';
import { TEST_ACCESS_KEY, TEST_SECRET_KEY, TestS3 } from '../../src/testbed/s3.ts';
import { systemdImage } from '../../src/testbed/systemd-image.ts';
import { FARM_LINES } from '../cmdline/farm-lines.ts';
import { bootB2c, ownRegistry, type BootResult } from './boot.ts';
import { blankDisk, partitionFile } from './disks.ts';

/** ci-tron's judgement of a job: the session's end, and its success. */
const SESSION_END = /^.*It's now safe to turn off your computer\r?$/m;
const JOB_SUCCESS = /Execution is over, pipeline status: 0\r?$/m;

/** The registry the job's image is on: HTTPS, reachable from the machine only through the job server's CONNECT proxy. */
const SECURE_REGISTRY = 'secure-registry.b2c.test:5443';
const BUCKET = 'job-1234';

const folder = mkdtempSync(join(tmpdir(), 'b2c-farm-'));
let lan: TestNetwork;
let registry: LocalRegistry;
let secureRegistry: LocalRegistry;
let s3: TestS3;
let jobServer: JobServer;
const jobFiles = new Map<string, string>();
const nbdServers: ChildProcess[] = [];

/** The job's environment as ci-tron adds it: a plain cpio after the initramfs, holding /user/job.env. */
function environmentArchive(): string {
  const text = '#!jinja2\n# NOTE: Multi-line variables are unsupported by podman, so we drop them\nCI_JOB_ID=1234\nMESA_TEST_SUITE=deqp-vk\n';
  const entries = [
    { path: 'user', mode: S_IFDIR | 0o755, data: new Uint8Array() },
    { path: 'user/job.env', mode: S_IFREG | 0o644, data: new TextEncoder().encode(text) },
  ];
  const path = join(folder, 'environ.cpio');
  writeFileSync(path, Buffer.concat([...cpioChunks(entries, 0)]));
  return path;
}

/**
 * A rendered line of the template with this gateway's values: the corpus's
 * rendering (farm-lines.ts), its images those of the test registries, its
 * S3 keys the test server's, and the job's command one that checks what the
 * template promises.
 */
function render(text: string): string {
  return text
    .replaceAll('ci-gateway:8002/gfx-ci/ci-tron/telegraf:latest', 'ci-gateway:8002/b2c-test/telegraf:1')
    .replaceAll('ci-gateway:8002/gfx-ci/ci-tron/machine-registration:latest', 'ci-gateway:8002/b2c-test/machine-registration:1')
    .replaceAll('ci-gateway:8002/mesa/mesa/debian/x86_64_test-vk:2025-11-20-piglit', `${SECURE_REGISTRY}/b2c-test/busybox:1`)
    .replaceAll('job-1234-access', TEST_ACCESS_KEY)
    .replaceAll('job-1234-secret-0123456789', TEST_SECRET_KEY)
    .replace(
      "'./install/deqp-runner.sh'",
      "'echo job=$CI_JOB_ID suite=$MESA_TEST_SUITE > results.txt; echo swap=$(grep -c -v ^Filename /proc/swaps) swappiness=$(cat /proc/sys/vm/swappiness) " +
        ">> results.txt; cat results.txt'",
    );
}

function job(index: number): { kernel: string; extra: string } {
  const line = FARM_LINES[index];
  if (line?.extra === undefined) throw new Error(`farm line ${index} has no extra arguments`);
  return { kernel: render(line.kernel), extra: render(line.extra) };
}

/** qemu-nbd serving a sparse file on 127.0.0.1; its port. */
async function serveNbd(name: string, bytes: number): Promise<number> {
  const file = blankDisk(folder, name, bytes);
  const port = await freePort();
  const child = spawn('qemu-nbd', ['--bind', '127.0.0.1', '--port', String(port), '--format', 'raw', '--persistent', '--shared', '5', file], {
    stdio: 'ignore',
  });
  nbdServers.push(child);
  return port;
}

function judge(result: BootResult): void {
  const tail = `the console ended with:\n${result.console.split('\n').slice(-60).join('\n')}`;
  expect(result.stderr, tail).not.toMatch(/crashed|no pipeline status|stopped without/);
  expect(result.console, tail).toMatch(SESSION_END);
  expect(result.console, tail).toMatch(JOB_SUCCESS);
  expect(result.exitCode, tail).toBe(0);
}

beforeAll(async () => {
  const tools = await DebianTools.prepare(['chrony', 'dnsmasq-base']);
  const busybox = await debianBusybox('amd64');
  registry = await ownRegistry();
  // ci-tron's telegraf runs as a service until the pipeline ends; its machine registration checks the machine and says so.
  await registry.push(
    'b2c-test/telegraf',
    '1',
    await busyboxImage(busybox, 'amd64', [], ['sh', '-c', 'while true; do echo metrics >> /tmp/metrics; sleep 1; done']),
  );
  const check = {
    path: 'usr/bin/check',
    kind: 'file' as const,
    mode: 0o755,
    data: new TextEncoder().encode('#!/bin/sh\necho "MaRS: Registration complete"\n'),
  };
  await registry.push(
    'b2c-test/machine-registration',
    '1',
    await busyboxImage(busybox, 'amd64', [{ path: 'usr/', kind: 'dir' }, { path: 'usr/bin/', kind: 'dir' }, check]),
  );
  const certificates = makeCertificates(mkdtempSync(join(folder, 'certs-')), `DNS:${SECURE_REGISTRY.split(':')[0]}`);
  secureRegistry = await LocalRegistry.start({ dataDirectory: inject('registryData'), tls: { certificate: certificates.certFile, key: certificates.keyFile } });
  s3 = await TestS3.start([BUCKET]);
  jobServer = await JobServer.start(jobFiles, new Map([[SECURE_REGISTRY, secureRegistry.port]]));
  lan = await TestNetwork.create(['lan']);
  await lan.serveGatewayBasics(tools, ['ci-gateway']);
  await lan.expose(8002, registry.port);
  await lan.expose(8100, jobServer.port);
  await lan.expose(9000, s3.port);
}, 600_000);

afterAll(async () => {
  for (const child of nbdServers) child.kill('SIGTERM');
  await lan?.destroy();
  await jobServer?.close();
  await s3?.close();
  await secureRegistry?.stop();
  await registry?.stop();
  rmSync(folder, { recursive: true, force: true });
});

describe("ci-tron's templates, rendered with their defaults", () => {
  it('.ci-tron-b2c-job-v1: an 8G swap with swappiness 60 on the cache, the service, the registration, the job by the proxy, its artifacts', async () => {
    const { kernel, extra } = job(0);
    jobFiles.set('/b2c-extra-args', extra);
    // Sparse: the 8 GiB swap file is allocated, never written.
    const disk = blankDisk(folder, 'dut.img', 12 * 1024 ** 3);
    const result = await bootB2c(kernel.split(' '), {
      namespace: lan.namespace,
      sharedRegistry: false,
      disks: [disk],
      timeoutSeconds: 420,
      runOptions: ['--network', 'tap=b2ctap0', '--addon', environmentArchive()],
    });
    judge(result);
    expect(result.output).toContain('vm.swappiness set to 60');
    expect(result.output).toMatch(/^swap=1 swappiness=60\r?$/m);
    expect(result.output).toMatch(/^job=1234 suite=deqp-vk\r?$/m);
    expect(result.output).toContain('MaRS: Registration complete');
    expect(result.output).toContain('Service 1 started as b2c-service-1');
    expect(result.output).toContain('Warning: b2c.volume=job-1234-results: exclude= is empty (a template left it unset?): ignored');
    expect(result.output).toMatch(/The clock was set from ci-gateway/);
    // The job's image came through the proxy, named as the machine named it.
    expect(jobServer.requests).toContain(`CONNECT ${SECURE_REGISTRY}`);
    expect(jobServer.requests).toContain('GET /b2c-extra-args');
    expect((await s3.objects(BUCKET)).get('results.txt')).toMatch(/^job=1234 suite=deqp-vk\nswap=1 swappiness=60\n$/);
  });

  it('.ci-tron-b2c-diskless-v1: the cache on one NBD export, swap on the other, nothing on a local disk', async () => {
    const { kernel, extra } = job(2);
    const storage = await serveNbd('storage.img', 10 * 1024 ** 3);
    const swap = await serveNbd('swap.img', 8 * 1024 ** 3);
    await lan.expose(10809, storage);
    await lan.expose(10810, swap);
    // Images from the registry: an NFS image store in the namespace would cost more boot time than it tests here (the NFS path has its
    // own test in remote-storage.test.ts), so the line names the gateway's registry as the non-diskless template does.
    const line = kernel
      .split(' ')
      .filter((word) => !word.startsWith('b2c.filesystem=') && !word.startsWith('b2c.storage='))
      .join(' ');
    jobFiles.set(
      '/b2c-extra-args',
      extra
        .replace('3f0a9c1e5b7d2a4c6e8f0a1b3c5d7e9f1a2b3c4d5e6f708192a3b4c5d6e7f809', 'ci-gateway:8002/b2c-test/telegraf:1')
        .replace('9e8d7c6b5a4938271605f4e3d2c1b0a99887766554433221100ffeeddccbbaa0', 'ci-gateway:8002/b2c-test/machine-registration:1')
        .replace('0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef', `${SECURE_REGISTRY}/b2c-test/busybox:1`),
    );
    const result = await bootB2c(line.split(' '), {
      namespace: lan.namespace,
      sharedRegistry: false,
      timeoutSeconds: 420,
      runOptions: ['--network', 'tap=b2ctap0', '--addon', environmentArchive()],
    });
    judge(result);
    expect(result.output).toContain('/dev/nbd0 has no B2C_CACHE partition: repartitioning it');
    expect(result.output).toContain('Swap: on /dev/nbd1');
    expect(result.output).toMatch(/^swap=1 swappiness=60\r?$/m);
    // Swapped off before its device was disconnected, the cache's after it was unmounted.
    const cleanup = result.output.slice(result.output.indexOf('Cleaning up'));
    expect(cleanup).toContain('Disconnected /dev/nbd0');
    expect(cleanup.indexOf('Swap off: /dev/nbd1')).toBeGreaterThan(-1);
    expect(cleanup.indexOf('Swap off: /dev/nbd1')).toBeLessThan(cleanup.indexOf('Disconnected /dev/nbd1'));
    expect((await s3.objects(BUCKET)).get('results.txt')).toMatch(/^job=1234 suite=deqp-vk\n/);
  });

  it("ci-tron's gateway as a b2c container: systemd as its init reaches multi-user.target with its volumes, and systemctl exit ends the step", async () => {
    // The unit reports where a test can read it after the boot, the permanent volume on the cache, then ends the container's systemd.
    const report = [
      '#!/bin/sh',
      'state=$(systemctl is-active multi-user.target)',
      'mounted=0',
      'while read -r device point rest; do case "$point" in /mnt/tmp|/mnt/permanent) mounted=$((mounted + 1));; esac; done < /proc/mounts',
      'echo "target-$state volumes-$mounted" > /mnt/permanent/report',
      'systemctl exit 3',
      '',
    ].join('\n');
    const unit = [
      '[Unit]',
      'Description=b2c test: report, then end the container',
      'After=multi-user.target',
      '[Service]',
      'Type=oneshot',
      'ExecStart=/usr/local/bin/b2c-report',
      '[Install]',
      'WantedBy=multi-user.target',
      '',
    ].join('\n');
    await registry.push('b2c-test/gateway', '1', await systemdImage({ 'b2c-report.service': unit }, { 'usr/local/bin/b2c-report': report }));
    const disk = blankDisk(folder, 'gateway.img', 1024 ** 3);
    const result = await bootB2c(
      [
        'b2c.volume="tmp"',
        'b2c.volume="perm"',
        'b2c.container="--dns=none -v tmp:/mnt/tmp -v perm:/mnt/permanent --tls-verify=false --entrypoint=/bin/init docker://ci-gateway:8002/b2c-test/gateway:1"',
        'b2c.ntp_peer=auto',
        'b2c.pipefail',
        'b2c.cache_device=auto',
        'net.ifnames=0',
        'quiet',
      ],
      { namespace: lan.namespace, sharedRegistry: false, disks: [disk], timeoutSeconds: 420, runOptions: ['--network', 'tap=b2ctap0'] },
    );
    const tail = `the console ended with:\n${result.console.split('\n').slice(-80).join('\n')}`;
    expect(result.console, tail).toMatch(/Execution is over, pipeline status: 3\r?$/m);
    // Podman keeps a volume's files below its storage: the cache partition's storage/volumes/NAME/_data.
    expect(partitionFile(disk, '/storage/volumes/perm/_data/report')).toBe('target-active volumes-2\n');
    expect(result.console, tail).toMatch(SESSION_END);
    expect(result.exitCode).toBe(3);
  });
});
