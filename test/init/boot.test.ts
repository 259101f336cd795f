// The boot sequence on a scripted machine: what /init does around the pipeline when things go right, and when they do not.

import { describe, expect, it } from 'vitest';
import { CA_BUNDLE, CONTAINER_STORAGE, PODMAN_PULL_DIRECTORY } from '../../src/image-layout.ts';
import { runInit, waitForConsoleDrain } from '../../src/init/boot.ts';
import { FakeSystem, MachineOff, type Behaviour } from '../fake-system.ts';

const SWAP_FILE = `${CONTAINER_STORAGE}/b2c-swapfile`;

/**
 * A machine whose kernel configured the network (ip= with /proc/net/pnp)
 * and has no modules in the image, so the boot goes straight to storage and
 * the pipeline. mount and umount keep /proc/mounts as the kernel would.
 */
function machine(cmdline: string): FakeSystem {
  const fake = new FakeSystem()
    .file('/proc/cmdline', `ip=dhcp ${cmdline}\n`)
    .file('/proc/version', 'Linux version 6.12.0-test\n')
    .file('/proc/cpuinfo', 'processor\t: 0\nmodel name\t: Test CPU\n')
    .file('/proc/meminfo', 'MemTotal:       2048000 kB\nMemAvailable:   1800000 kB\n')
    .file('/proc/sys/kernel/osrelease', '6.12.0-test\n')
    .file('/proc/net/pnp', 'nameserver 10.0.2.3\n')
    .file('/proc/mounts', '')
    .file('/etc/hostname', 'boot2container\n');
  fake.on(['mount'], (argv, system) => {
    const [source, target] = argv.slice(-2) as [string, string];
    const type = argv[argv.indexOf('-t') + 1] ?? 'auto';
    system.files.set('/proc/mounts', `${String(system.files.get('/proc/mounts'))}${source} ${target} ${type} rw 0 0\n`);
    return {};
  });
  fake.on(['umount'], (argv, system) => {
    const target = argv[argv.length - 1];
    const lines = String(system.files.get('/proc/mounts')).split('\n');
    system.files.set('/proc/mounts', lines.filter((line) => line.split(' ')[1] !== target).join('\n'));
    return {};
  });
  fake.on(['rm'], (argv, system) => {
    for (const path of argv.slice(1).filter((word) => !word.startsWith('-'))) system.files.delete(path);
    return {};
  });
  fake.on(['ip'], {}).on(['sync'], {}).on(['uname', '-m'], { stdout: 'x86_64\n' });
  fake.on(['poweroff'], { powersOff: true }).on(['reboot'], { powersOff: true });
  fake.on(['podman', 'run'], {}).on(['podman', 'pull'], {});
  return fake;
}

/** Boots the machine to its end: true when it went down by its shutdown command, as /init must always end. */
async function bootToEnd(fake: FakeSystem): Promise<MachineOff> {
  const ended = await runInit(fake, 'test').catch((error: unknown) => error);
  expect(ended).toBeInstanceOf(MachineOff);
  return ended as MachineOff;
}

function statusLines(fake: FakeSystem): string[] {
  return fake.logLines().filter((line) => line.startsWith('Execution is over'));
}

/** A disk the cache can mount, named by b2c.filesystem so that no partition table is needed. */
const CACHE_ON_DISK = 'b2c.filesystem="fast,type=ext4,src=/dev/vdb" b2c.cache_device=fast';

describe('the boot', () => {
  it('runs the steps with b2c flags before the user ARGS, reports the first failure once, and powers off', async () => {
    const fake = machine(`b2c.container="docker://r/a:1 sh -c 'exit 3'" b2c.container="-e X=1 docker://r/b:1 true"`);
    fake.on(['podman', 'run'], (argv) => ({ status: argv.includes('exit 3') ? 3 : 0 }));
    const off = await bootToEnd(fake);
    expect(statusLines(fake)).toEqual(['Execution is over, pipeline status: 3']);
    const runs = fake.ran('podman', 'run');
    expect(runs).toHaveLength(2);
    // The user's ARGS come last, one word each, so that their own flags win over b2c's.
    expect(runs[0]?.slice(-4)).toEqual(['docker://r/a:1', 'sh', '-c', 'exit 3']);
    expect(runs[1]?.slice(-4)).toEqual(['-e', 'X=1', 'docker://r/b:1', 'true']);
    expect(runs[1]).toContain('--privileged');
    expect(runs[1]?.indexOf('--privileged')).toBeLessThan(runs[1]?.indexOf('-e') ?? -1);
    expect(runs[1]).toContain('B2C_PIPELINE_STATUS=3');
    expect(off.argv).toEqual(['poweroff', '-f']);
    expect(fake.consoleText.trimEnd().split('\n').at(-1)).toBe("It's now safe to turn off your computer");
    // Storage in RAM is unmounted before the end, and nothing of the cleanup needed podman.
    expect(String(fake.files.get('/proc/mounts'))).not.toContain(CONTAINER_STORAGE);
    expect(fake.ran('podman', 'container', 'rm')).toEqual([]);
  });

  it('ends an unexpected failure with status 1, the cleanup and the shutdown, showing where a bug broke', async () => {
    const fake = machine('b2c.volume=job b2c.container=docker://r/a:1');
    fake.on(['podman', 'volume', 'ls'], () => {
      throw new TypeError('volumes is not iterable');
    });
    await bootToEnd(fake);
    expect(statusLines(fake)).toEqual(['Execution is over, pipeline status: 1']);
    expect(fake.consoleText).toMatch(/b2c: unexpected error \(a bug in b2c, please report it\):\nTypeError: volumes is not iterable\n\s+at /);
    expect(fake.ran('podman', 'run')).toEqual([]);
    // The cleanup still ran: the container storage was unmounted.
    expect(fake.ran('umount', CONTAINER_STORAGE)).toHaveLength(1);
  });

  it('keeps a status already reported when the cleanup fails after it, and says the status once', async () => {
    const fake = machine('b2c.container=docker://r/a:1');
    fake.on(['umount'], () => {
      throw new Error('umount could not be started');
    });
    const off = await bootToEnd(fake);
    expect(statusLines(fake)).toEqual(['Execution is over, pipeline status: 0']);
    expect(fake.consoleText).toContain('umount could not be started');
    expect(off.argv).toEqual(['poweroff', '-f']);
  });

  it('tries poweroff -f when the shutdown command fails, after the poweroff delay', async () => {
    const fake = machine('b2c.shutdown_cmd="halt-now --force" b2c.poweroff_delay=30');
    fake.on(['halt-now'], { status: 1 });
    const off = await bootToEnd(fake);
    expect(off.argv).toEqual(['poweroff', '-f']);
    const notice = fake.consoleText.indexOf("It's now safe to turn off your computer");
    expect(fake.consoleText.indexOf('halt-now --force returned 1: trying poweroff -f every 5 s')).toBeGreaterThan(notice);
    const [halt] = fake.runs.filter((run) => run.argv[0] === 'halt-now');
    const [poweroff] = fake.runs.filter((run) => run.argv[0] === 'poweroff');
    const cleanedUp = fake.runs.filter((run) => run.argv[0] === 'umount').at(-1)?.at ?? Infinity;
    expect((halt?.at ?? 0) - cleanedUp).toBe(30_000);
    expect((poweroff?.at ?? 0) - (halt?.at ?? 0)).toBe(5000);
  });

  it("runs the shutdown command through sh -c with the pipeline's variables, as farms write it", async () => {
    const fake = machine(
      `b2c.container="docker://r/a:1 sh -c 'exit 3'" b2c.post_container=docker://r/b:1 ` +
        'b2c.shutdown_cmd="echo JOB_RESULT=$B2C_PIPELINE_PREV_CONTAINER_EXIT_CODE status=${B2C_PIPELINE_STATUS}; poweroff -f"',
    );
    fake.on(['podman', 'run'], (argv) => ({ status: argv.includes('exit 3') ? 3 : 0 }));
    const off = await bootToEnd(fake);
    expect(fake.ran('sh', '-c')).toEqual([['sh', '-c', 'echo JOB_RESULT=$B2C_PIPELINE_PREV_CONTAINER_EXIT_CODE status=${B2C_PIPELINE_STATUS}; poweroff -f']]);
    // The post container ran last, with 0; the pipeline's status is the step's 3.
    expect(fake.consoleText).toMatch(/^JOB_RESULT=0 status=3$/m);
    expect(off.argv).toEqual(['poweroff', '-f']);
  });

  it("pulls through b2c.proxy's proxy, and leaves the container's environment to its own line", async () => {
    const fake = machine('b2c.proxy="https=http://ci-gateway:8100" b2c.container="--tls-verify=false docker://r/a:1 true"');
    await bootToEnd(fake);
    const pull = fake.runs.find((run) => run.argv[1] === 'pull');
    expect(pull?.moreEnv).toEqual({ https_proxy: 'http://ci-gateway:8100', HTTPS_PROXY: 'http://ci-gateway:8100' });
    const run = fake.runs.find((candidate) => candidate.argv[1] === 'run');
    expect(run?.moreEnv).toBeUndefined();
    expect(run?.argv.join(' ')).not.toContain('proxy');
  });

  it('pulls again after failures a farm network has, with a growing wait, and runs the step once with what it pulled', async () => {
    const fake = machine(`b2c.container="--tls-verify=false -v job:/job docker://r/a:1 true"`);
    let pulls = 0;
    fake.on(['podman', 'pull'], () =>
      ++pulls <= 2 ? { status: 125, stderr: 'Error: reading manifest 1 in r/a: received unexpected HTTP status: 503 Service Unavailable\n' } : {},
    );
    await bootToEnd(fake);
    const pullRuns = fake.runs.filter((run) => run.argv[1] === 'pull');
    expect(pullRuns.map((run) => run.argv)).toEqual(Array(3).fill(['podman', 'pull', '--tls-verify=false', 'docker://r/a:1']));
    expect(pullRuns.map((run, index) => run.at - (pullRuns[index - 1]?.at ?? run.at))).toEqual([0, 1000, 2000]);
    expect(fake.logLines()).toEqual(
      expect.arrayContaining([
        'Pulling docker://r/a:1 failed (try 1 of 5): reading manifest 1 in r/a: received unexpected HTTP status: 503 Service Unavailable; trying again in 1 s',
        'Pulling docker://r/a:1 failed (try 2 of 5): reading manifest 1 in r/a: received unexpected HTTP status: 503 Service Unavailable; trying again in 2 s',
        'Pulled docker://r/a:1 in 3.0 s, on try 3 of 5',
      ]),
    );
    const runs = fake.ran('podman', 'run');
    expect(runs).toHaveLength(1);
    expect(runs[0]).toContain('--pull=never');
    expect(statusLines(fake)).toEqual(['Execution is over, pipeline status: 0']);
  });

  it('kills a try whose podman moves almost nothing for a minute, and tries again; a pull at 1 KB/s is left alone', async () => {
    const fake = machine('b2c.container=docker://r/a:1 b2c.container=docker://r/slow:1');
    // podman's read and write counts: the few bytes a second of its idle runtime for the first pull of r/a, 1 KB/s for every other.
    let frozenPid: number | undefined;
    const readText = fake.readText.bind(fake);
    fake.readText = async (path) => {
      const pid = /^\/proc\/(\d+)\/io$/.exec(path)?.[1];
      if (pid === undefined) return readText(path);
      const bytesPerSecond = Number(pid) === frozenPid ? 6 : 1000;
      return `rchar: ${Math.floor((fake.elapsed * bytesPerSecond) / 1000)}\nwchar: 0\n`;
    };
    let pulls = 0;
    fake.on(['podman', 'pull', 'docker://r/a:1'], (): Behaviour => (++pulls === 1 ? { hangs: true } : {}));
    fake.on(['podman', 'pull', 'docker://r/slow:1'], { takes: 300_000 });
    fake.on(['kill'], (argv, system) => {
      system.kill(Number(argv.at(-1)));
      return {};
    });
    const start = fake.start.bind(fake);
    fake.start = async (argv, options) => {
      const program = await start(argv, options);
      if (argv.at(-1) === 'docker://r/a:1' && frozenPid === undefined) frozenPid = program.pid;
      return program;
    };
    await bootToEnd(fake);
    expect(fake.ran('kill')).toEqual([['kill', '-KILL', String(frozenPid)]]);
    // The killed try's partial download goes, with what busybox's find can do.
    expect(fake.ran('find')).toEqual([['find', PODMAN_PULL_DIRECTORY, '-mindepth', '1', '-maxdepth', '1', '-exec', 'rm', '-rf', '{}', '+']]);
    const pullRuns = fake.runs.filter((run) => run.argv[1] === 'pull' && run.argv.at(-1) === 'docker://r/a:1');
    expect(pullRuns).toHaveLength(2);
    // A minute without a byte, then the first wait of the tries.
    expect(pullRuns[1]!.at - pullRuns[0]!.at).toBeGreaterThanOrEqual(61_000);
    expect(pullRuns[1]!.at - pullRuns[0]!.at).toBeLessThan(62_000);
    expect(fake.logLines()).toEqual(
      expect.arrayContaining([
        'Pulling docker://r/a:1 failed (try 1 of 5): podman moved less than 4 KiB in 60 s: the registry stopped answering; trying again in 1 s',
        'Pulled docker://r/a:1 in 61.2 s, on try 2 of 5',
      ]),
    );
    expect(fake.ran('podman', 'pull', 'docker://r/slow:1')).toHaveLength(1);
    // The storage is in RAM: nothing to sync after a pull.
    expect(fake.runs.filter((run) => run.argv.includes('sync') && run.argv.includes('-f'))).toHaveLength(0);
    expect(fake.ran('podman', 'run')).toHaveLength(2);
    expect(statusLines(fake)).toEqual(['Execution is over, pipeline status: 0']);
  });

  it('does not pull again what the registry says it does not have, and does not run the step', async () => {
    const fake = machine('b2c.container=docker://r/gone:1 b2c.post_container=docker://r/post:1');
    fake.on(['podman', 'pull', 'docker://r/gone:1'], { status: 125, stderr: 'Error: reading manifest 1 in r/gone: manifest unknown\n' });
    await bootToEnd(fake);
    expect(fake.ran('podman', 'pull', 'docker://r/gone:1')).toHaveLength(1);
    expect(fake.logLines()).toContain('Could not pull docker://r/gone:1: reading manifest 1 in r/gone: manifest unknown');
    expect(fake.ran('podman', 'run').map((argv) => argv.at(-1))).toEqual(['docker://r/post:1']);
    expect(statusLines(fake)).toEqual(['Execution is over, pipeline status: 125']);
  });

  it('makes room once when the disk is full, then gives up', async () => {
    const fake = machine('b2c.container=docker://r/big:1');
    fake.on(['podman', 'pull'], { status: 125, stderr: 'Error: writing blob: write /var/lib/containers/storage/tmp/x: no space left on device\n' });
    fake.on(['podman', 'image', 'prune'], {});
    await bootToEnd(fake);
    expect(fake.ran('podman', 'pull')).toHaveLength(2);
    expect(fake.ran('podman', 'image', 'prune', '--all', '--force')).toHaveLength(1);
    expect(fake.logLines()).toContain(
      'Could not pull docker://r/big:1 (2 tries): writing blob: write /var/lib/containers/storage/tmp/x: no space left on device',
    );
    expect(statusLines(fake)).toEqual(['Execution is over, pipeline status: 125']);
  });

  it('reboots at once when a container asks for it, whatever the poweroff delay', async () => {
    const fake = machine('b2c.poweroff_delay=30 b2c.container=docker://r/a:1');
    fake.on(['podman', 'run'], { status: 129 });
    const off = await bootToEnd(fake);
    expect(off.argv).toEqual(['reboot', '-f']);
    expect(fake.consoleText).toContain('\nRebooting the computer\n');
    const cleanedUp = fake.runs.filter((run) => run.argv[0] === 'umount').at(-1)?.at ?? Infinity;
    expect((fake.runs.find((run) => run.argv[0] === 'reboot')?.at ?? 0) - cleanedUp).toBe(0);
  });

  it('closes the section farms open before the boot, once, before its own first section', async () => {
    const fake = machine('b2c.container=docker://r/a:1');
    await bootToEnd(fake);
    const closes = [...fake.consoleText.matchAll(/section_end:\d+:b2c_kernel_boot\r/g)];
    expect(closes).toHaveLength(1);
    expect(closes[0]?.index).toBeLessThan(fake.consoleText.indexOf('section_start:'));
  });

  it("gives the storage upstream's paths, /storage and /container, with the scratch folder there before the first step", async () => {
    const fake = machine('b2c.container="-v /container/tmp:/storage docker://r/a:1 true"');
    const scratchAtRun: boolean[] = [];
    fake.on(['podman', 'run'], (_argv, system) => {
      scratchAtRun.push(system.directories.has('/container/tmp'));
      return {};
    });
    await bootToEnd(fake);
    expect(Object.fromEntries(fake.links)).toEqual({ '/storage': CONTAINER_STORAGE, '/container': '/storage' });
    expect(scratchAtRun).toEqual([true]);
  });

  it('connects the NBD cache before the cache is set up and disconnects it only after the cache is unmounted', async () => {
    const fake = machine(
      'b2c.nbd=/dev/nbd0,host=gw,port=10809 b2c.filesystem="remote,type=ext4,src=/dev/nbd0" b2c.cache_device=remote b2c.container=docker://r/a:1',
    );
    fake.on(['modprobe'], {});
    fake.on(['nbd-client', '-t'], (_argv, system) => {
      system.files.set('/sys/block/nbd0/size', '2097152\n');
      system.files.set('/dev/nbd0', new Uint8Array(4096));
      return { hangs: true };
    });
    fake.on(['nbd-client', '-d'], {}).on(['podman', 'container', 'rm'], {}).on(['podman', 'image', 'prune'], {});
    await bootToEnd(fake);
    const order = fake.runs.map((run) => run.argv.join(' '));
    const connected = order.indexOf('nbd-client -t 120 gw 10809 /dev/nbd0');
    const mounted = order.indexOf(`mount -t ext4 /dev/nbd0 ${CONTAINER_STORAGE}`);
    const unmounted = order.indexOf(`umount ${CONTAINER_STORAGE}`);
    const disconnected = order.indexOf('nbd-client -d /dev/nbd0');
    expect(connected).toBeGreaterThan(-1);
    expect(mounted).toBeGreaterThan(connected);
    expect(unmounted).toBeGreaterThan(mounted);
    expect(disconnected).toBeGreaterThan(unmounted);
    expect(statusLines(fake)).toEqual(['Execution is over, pipeline status: 0']);
  });

  it('keeps the cache in RAM when its network block device does not connect, and still runs the pipeline', async () => {
    const fake = machine('b2c.nbd=/dev/nbd0,host=gw b2c.cache_device=/dev/nbd0 b2c.container=docker://r/a:1');
    fake.on(['modprobe'], {});
    fake.on(['nbd-client', '-t'], { status: 1, stderr: 'nbd-client: connect: Connection refused\n' });
    await bootToEnd(fake);
    expect(fake.logLines()).toContain('The cache device /dev/nbd0 is not connected: images and volumes live in RAM');
    expect(fake.ran('mount', '-t', 'tmpfs', '-o', 'mode=700', 'containers', CONTAINER_STORAGE)).toHaveLength(1);
    expect(fake.ran('nbd-client', '-d')).toEqual([]);
    expect(statusLines(fake)).toEqual(['Execution is over, pipeline status: 0']);
  });

  it('names the disk controller no driver took when the named cache disk never appears, and runs the pipeline in RAM', async () => {
    const fake = machine('b2c.cache_device=/dev/nvme0n1 b2c.container=docker://r/a:1')
      .file('/sys/bus/pci/devices/0000:00:05.0/vendor', '0x1b36\n')
      .file('/sys/bus/pci/devices/0000:00:05.0/device', '0x0010\n')
      .file('/sys/bus/pci/devices/0000:00:05.0/class', '0x010802\n')
      .file('/sys/bus/pci/devices/0000:00:05.0/modalias', 'pci:v00001B36d00000010sv00001AF4sd00001100bc01sc08i02\n');
    await bootToEnd(fake);
    expect(fake.logLines()).toContain('/dev/nvme0n1 did not appear within 10 s');
    const modalias = 'pci:v00001B36d00000010sv00001AF4sd00001100bc01sc08i02';
    expect(fake.logLines()).toContain(
      `  PCI 1b36:0010 (storage controller) at 0000:00:05.0, modalias ${modalias}: no module of this image or its add-ons matches it`,
    );
    expect(statusLines(fake)).toEqual(['Execution is over, pipeline status: 0']);
  });

  it('sets up swap on the cache, and switches it off and removes it before unmounting the cache', async () => {
    const fake = machine(`${CACHE_ON_DISK} b2c.swap=64M b2c.container=docker://r/a:1`).file('/dev/vdb', new Uint8Array(4096));
    for (const program of ['fallocate', 'chmod', 'mkswap', 'swapon', 'swapoff']) fake.on([program], {});
    fake.on(['timeout'], {});
    await bootToEnd(fake);
    expect(fake.logLines()).toContain(`Swap: 67108864 bytes in ${SWAP_FILE}`);
    const order = ['fallocate', 'mkswap', 'swapon', 'podman', 'swapoff'].map((program) => fake.runs.findIndex((run) => run.argv[0] === program));
    expect(order.every((index) => index >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    const swapoff = fake.runs.findIndex((run) => run.argv[0] === 'swapoff');
    const removed = fake.runs.findIndex((run, index) => index > swapoff && run.argv[0] === 'rm' && run.argv.includes(SWAP_FILE));
    const unmounted = fake.runs.findIndex((run) => run.argv[0] === 'umount' && run.argv.includes(CONTAINER_STORAGE));
    expect(removed).toBeGreaterThan(swapoff);
    expect(unmounted).toBeGreaterThan(removed);
    // On the cache, what a pull wrote is synced before the step runs, podman's filesystem only, within a bound.
    const synced = fake.runs.findIndex((run) => run.argv.join(' ') === `timeout -s KILL 60 sync -f ${CONTAINER_STORAGE}`);
    expect(synced).toBeGreaterThan(fake.runs.findIndex((run) => run.argv[0] === 'podman' && run.argv[1] === 'pull'));
    expect(synced).toBeLessThan(fake.runs.findIndex((run) => run.argv[0] === 'podman' && run.argv[1] === 'run'));
  });

  it('makes no swap without a cache partition, and says why', async () => {
    const fake = machine('b2c.swap=64M b2c.container=docker://r/a:1');
    await bootToEnd(fake);
    expect(fake.logLines()).toContain('b2c.swap needs a cache partition for its file: no swap');
    expect(fake.ran('fallocate')).toEqual([]);
    expect(statusLines(fake)).toEqual(['Execution is over, pipeline status: 0']);
  });

  it('applies the extra arguments over the kernel line, verifies their download, and leaves no copy of them', async () => {
    const extra =
      'b2c.hostname=from-extra b2c.shutdown_cmd="halt -f" b2c.poweroff_delay=7 b2c.container=docker://r/extra:1 b2c.minio="s3,http://s3:9000,key,hush-hush"';
    const fake = machine('b2c.extra_args_url=https://farm.example/dut-7 b2c.hostname=from-kernel b2c.container=docker://r/kernel:1');
    fake.on(['curl'], (argv, system) => {
      system.files.set(argv[argv.indexOf('--output') + 1] as string, extra);
      return {};
    });
    fake.on(['halt'], { powersOff: true });
    const off = await bootToEnd(fake);
    const [curl] = fake.ran('curl');
    expect(curl?.[curl.indexOf('--cacert') + 1]).toBe(CA_BUNDLE);
    expect(curl).not.toContain('--insecure');
    expect(curl?.at(-1)).toBe('https://farm.example/dut-7');
    expect(fake.files.get('/proc/sys/kernel/hostname')).toBe('from-extra');
    expect(fake.ran('podman', 'run').map((argv) => argv.at(-1))).toEqual(['docker://r/kernel:1', 'docker://r/extra:1']);
    expect(off.argv).toEqual(['halt', '-f']);
    const cleanedUp = fake.runs.filter((run) => run.argv[0] === 'umount').at(-1)?.at ?? Infinity;
    expect((fake.runs.find((run) => run.argv[0] === 'halt')?.at ?? 0) - cleanedUp).toBe(7000);
    expect(fake.logLines()).toContain(`Got 5 extra arguments (${extra.length} bytes, not shown: they may hold secrets)`);
    expect(fake.consoleText).not.toContain('hush-hush');
    expect([...fake.files.values()].some((content) => content === extra)).toBe(false);
  });

  it('runs nothing but the post containers when a service cannot be created, with its status', async () => {
    const fake = machine('b2c.service=docker://r/svc:1 b2c.container=docker://r/step:1 b2c.post_container=docker://r/post:1');
    fake.on(['podman', 'create'], { status: 125, stderr: 'Error: manifest unknown\n' });
    await bootToEnd(fake);
    expect(fake.logLines()).toContain('Service 1 could not be created (status 125): the pipeline fails');
    expect(fake.ran('podman', 'run').map((argv) => argv.at(-1))).toEqual(['docker://r/post:1']);
    expect(fake.ran('podman', 'run')[0]).toContain('B2C_PIPELINE_FAILED_BY=docker://r/svc:1');
    expect(statusLines(fake)).toEqual(['Execution is over, pipeline status: 125']);
  });

  it("keeps the services' output off the console, but shows it when a service dies with an error", async () => {
    const fake = machine('b2c.service=docker://r/chatty:1 b2c.service=docker://r/dying:1 b2c.container=docker://r/step:1');
    fake.on(['podman', 'create'], {});
    fake.on(['podman', 'start', '--attach', 'b2c-service-1'], { stdout: 'metrics: cpu=3%\n', takes: 60_000 });
    fake.on(['podman', 'start', '--attach', 'b2c-service-2'], { stdout: 'starting\nno config in /etc/dying.conf\n', status: 3 });
    fake.on(['podman', 'stop'], {});
    await bootToEnd(fake);
    expect(fake.consoleText).not.toContain('metrics: cpu=3%');
    expect(fake.logLines()).toContain('Service 1 started as b2c-service-1; its output goes to /run/b2c/services/b2c-service-1.log');
    expect(fake.files.get('/run/b2c/services/b2c-service-1.log')).toBe('metrics: cpu=3%\n');
    expect(fake.logLines()).toContain('b2c-service-1 ended with status 0');
    expect(fake.consoleText).toContain('b2c-service-2 ended on its own with status 3; the last lines of its output:\nstarting\nno config in /etc/dying.conf\n');
    // A service's death does not fail the pipeline.
    expect(statusLines(fake)).toEqual(['Execution is over, pipeline status: 0']);
  });

  it("checks podman's images again while an earlier check has not succeeded, and says how each check ended", async () => {
    const pending = `${CONTAINER_STORAGE}/b2c-storage-check-pending`;
    const boot = async (check: Behaviour): Promise<FakeSystem> => {
      const fake = machine(`${CACHE_ON_DISK} b2c.container=docker://r/a:1`).file('/dev/vdb', new Uint8Array(4096)).file(pending, '');
      fake.on(['podman', 'container', 'rm'], {}).on(['podman', 'image', 'prune'], {});
      fake.on(['podman', 'system', 'check'], check);
      await bootToEnd(fake);
      return fake;
    };
    const killed = await boot({ hangs: true });
    expect(killed.logLines()).toEqual(
      expect.arrayContaining([
        "The last check of podman's images on the cache did not finish: checking them again",
        'The check did not end within 900 s and was killed: going on',
      ]),
    );
    expect(killed.files.has(pending)).toBe(true);
    const failed = await boot({ status: 125, stderr: 'Error: 1 error occurred: layer is in use by a container\n' });
    expect(failed.logLines()).toContain('podman could not repair its storage (status 125): Error: 1 error occurred: layer is in use by a container');
    expect(failed.files.has(pending)).toBe(true);
    const repaired = await boot({ stdout: 'Damaged layers:\n abc\nRemoved images:\n def\n' });
    expect(repaired.logLines().some((line) => line.startsWith('Damaged images were removed, to be pulled again'))).toBe(true);
    expect(repaired.files.has(pending)).toBe(false);
    // The containers go first: the check will not remove a layer a container holds.
    const order = repaired.runs.map((run) => run.argv.slice(4, 7).join(' ')).filter((argv) => /^podman (container rm|system check)/.test(argv));
    expect(order.slice(0, 2)).toEqual(['podman container rm', 'podman system check']);
    const sound = await boot({});
    expect(sound.logLines().some((line) => /^podman's images on the cache are sound \([\d.]+ s\)$/.test(line))).toBe(true);
    expect(sound.files.has(pending)).toBe(false);
  });

  it('kills a cleanup command that hangs and still unmounts the cache and shuts down', async () => {
    const fake = machine(`${CACHE_ON_DISK} b2c.container=docker://r/a:1`).file('/dev/vdb', new Uint8Array(4096));
    const hang: Behaviour = { hangs: true };
    fake.on(['podman', 'container', 'rm'], hang).on(['podman', 'image', 'prune'], {});
    const off = await bootToEnd(fake);
    expect(fake.logLines()).toContain('podman container rm --all --force --time 10 did not end within 60 s and was killed');
    // The next command still ran, and the cache was unmounted cleanly.
    expect(fake.ran('timeout', '-s', 'KILL', '60', 'podman', 'image', 'prune')).toHaveLength(1);
    expect(fake.ran('umount', CONTAINER_STORAGE)).toHaveLength(1);
    expect(off.argv).toEqual(['poweroff', '-f']);
  });
});

describe('waitForConsoleDrain', () => {
  it('waits until the serial ports stop sending, and at most a second', async () => {
    const fake = new FakeSystem();
    // The port sends 16 more bytes every 50 ms for 200 ms, then nothing.
    fake.file('/proc/tty/driver/ttyAMA', '');
    const port = (): string =>
      `serinfo:1.0 driver revision:\n0: uart:PL011 rev3 mmio:0x09000000 irq:13 tx:${1000 + 16 * Math.min(4, Math.floor(fake.elapsed / 50))} rx:0\n`;
    const readText = fake.readText.bind(fake);
    fake.readText = async (path: string) => (path === '/proc/tty/driver/ttyAMA' ? port() : readText(path));
    await waitForConsoleDrain(fake);
    expect(fake.elapsed).toBe(250);
    // A port that never stops: the wait ends anyway.
    const busy = new FakeSystem();
    busy.file('/proc/tty/driver/serial', '');
    busy.readText = async () => `0: uart:16550A port:000003F8 irq:4 tx:${busy.elapsed} rx:0\n`;
    await waitForConsoleDrain(busy);
    expect(busy.elapsed).toBe(1000);
  });
});
