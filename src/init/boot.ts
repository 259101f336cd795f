// The boot sequence of /init: bring the machine up, run the pipeline, clean up, and say how to shut down.

import { DEFAULT_SHUTDOWN_CMD, type B2cConfig } from '../cmdline/config.ts';
import { nbdDeviceOf } from '../cmdline/nbd.ts';
import { parseCmdline } from '../cmdline/parse.ts';
import { B2cError, describeFailure } from '../errors.ts';
import {
  CACHE_PATH,
  CONTAINER_PATH,
  CONTAINER_STORAGE,
  IMAGE_STORES_DIRECTORY,
  PODMAN_PULL_DIRECTORY,
  PODMAN_RUNROOT,
  SCRATCH_DIRECTORY,
} from '../image-layout.ts';
import { withTimeout, type System } from '../system/system.ts';
import { CacheDisk } from './cache.ts';
import { setClock } from './clock.ts';
import {
  InitConsole,
  memoryInUseMessage,
  parseCpuInfo,
  parseMemTotalKiB,
  pipelineStatusMessage,
  runtimeSummary,
  shutdownNotice,
  type ShutdownMode,
} from './console.ts';
import { SetupError } from './errors.ts';
import { withExtraArgs } from './extra-args.ts';
import { Filesystems } from './filesystems.ts';
import { loadKeymap } from './keymap.ts';
import { KernelModules } from './modules.ts';
import { unmountOrder } from './mounts.ts';
import { NetworkBlockDevices } from './nbd.ts';
import { Swap } from './swap.ts';
import { NetworkSetup } from './network.ts';
import { Pipeline } from './pipeline.ts';
import { initialPipelineState, pipelineEnvironment } from './pipeline-plan.ts';
import { CLEANUP_COMMAND_SECONDS, podmanCleanupCommands, podmanRemoveContainersArgs, PODMAN_STORAGE_CHECK_ARGS, STORAGE_CHECK_SECONDS } from './podman.ts';
import { Volumes } from './volumes.ts';

/** On the cache while podman's storage check runs, removed when it succeeds: the next boot checks again while it is there. */
const STORAGE_CHECK_PENDING = `${CONTAINER_STORAGE}/b2c-storage-check-pending`;

/** How the machine ends: the status to report, and the command that powers off or reboots it with the pipeline's variables. */
export interface BootOutcome {
  status: number;
  shutdownMode: ShutdownMode;
  /** Shell text for `sh -c`, as upstream evaluated it. */
  shutdownCommand: string;
  /** The pipeline's B2C_PIPELINE_* variables as it ended, which a farm's shutdown command prints. */
  pipelineVariables: Record<string, string>;
  poweroffDelay: number;
}

/** What ends the machine when its shutdown command returns. */
const FALLBACK_SHUTDOWN = ['poweroff', '-f'];

const EARLY_MOUNTS: Array<{ type: string; source: string; target: string; options?: string }> = [
  { type: 'proc', source: 'proc', target: '/proc' },
  { type: 'sysfs', source: 'sys', target: '/sys' },
  { type: 'devtmpfs', source: 'dev', target: '/dev' },
  { type: 'devpts', source: 'devpts', target: '/dev/pts', options: 'gid=5,mode=620,ptmxmode=666' },
  { type: 'tmpfs', source: 'shm', target: '/dev/shm', options: 'mode=1777' },
  { type: 'tmpfs', source: 'run', target: '/run', options: 'mode=755' },
  { type: 'tmpfs', source: 'tmp', target: '/tmp', options: 'mode=1777' },
  { type: 'cgroup2', source: 'cgroup2', target: '/sys/fs/cgroup' },
];

export class Boot {
  readonly console: InitConsole;
  /** Farms read `Execution is over` once: set when it is printed. */
  private statusReported = false;
  /** Where container storage is mounted, once it is: cleanup must then run before the shutdown. On the cache, what podman leaves outlives the boot. */
  private storage: 'ram' | 'cache' | undefined;
  private cleanedUp = false;
  private readonly cache: CacheDisk;
  private readonly swap: Swap;
  private readonly modules: KernelModules;
  private readonly network: NetworkSetup;
  private readonly networkBlockDevices: NetworkBlockDevices;
  private readonly filesystems: Filesystems;
  /** Set once container storage is up and the configuration final. */
  private volumes: Volumes | undefined;
  /** Warnings already printed: the merged configuration repeats the kernel line's. */
  private readonly warningsShown = new Set<string>();
  /** How the machine will end, as far as the boot got. */
  readonly outcome: BootOutcome = {
    status: 1,
    shutdownMode: 'poweroff',
    shutdownCommand: DEFAULT_SHUTDOWN_CMD,
    pipelineVariables: pipelineEnvironment({ ...initialPipelineState(), status: 1 }),
    poweroffDelay: 0,
  };

  constructor(
    private readonly system: System,
    private readonly version: string,
  ) {
    this.console = new InitConsole(system);
    this.modules = new KernelModules(system, this.console);
    this.filesystems = new Filesystems(system, this.console, this.modules);
    this.cache = new CacheDisk(
      system,
      this.console,
      () => this.modules.coldplug(),
      this.modules,
      (filesystem) => this.filesystems.readyToMount(filesystem),
    );
    this.swap = new Swap(system, this.console);
    this.network = new NetworkSetup(system, this.console, this.modules);
    this.networkBlockDevices = new NetworkBlockDevices(system, this.console, this.modules);
  }

  private async mount(type: string, source: string, target: string, options?: string): Promise<void> {
    await this.system.makeDirectory(target);
    const argv = ['mount', '-t', type, ...(options ? ['-o', options] : []), source, target];
    const result = await this.system.run(argv, { captureStderr: true });
    if (result.status !== 0) throw new B2cError(`cannot mount ${type} on ${target}: ${result.stderr.trim()}`);
  }

  async mountEarly(): Promise<void> {
    for (const mount of EARLY_MOUNTS) await this.mount(mount.type, mount.source, mount.target, mount.options);
  }

  async printRuntimeSummary(): Promise<void> {
    const read = async (path: string): Promise<string> => (await this.system.readText(path)) ?? '';
    const blockDevices = [];
    for (const name of await this.system.listDir('/sys/block')) {
      if (/^(loop|ram)\d/.test(name)) continue;
      const sectors = Number((await read(`/sys/block/${name}/size`)).trim());
      blockDevices.push({ name, bytes: sectors * 512 });
    }
    const machine = await this.system.run(['uname', '-m'], { captureStdout: true });
    const lines = runtimeSummary({
      linuxVersion: (await read('/proc/version')).trim(),
      b2cVersion: this.version,
      architecture: machine.stdout.trim(),
      ...parseCpuInfo(await read('/proc/cpuinfo')),
      memoryKiB: parseMemTotalKiB(await read('/proc/meminfo')),
      blockDevices,
    });
    await this.console.section(
      'b2c_runtime_summary',
      'Runtime summary',
      async () => {
        for (const line of lines) await this.console.log(line);
      },
      false,
    );
  }

  async setHostname(name: string): Promise<void> {
    await this.system.writeText('/proc/sys/kernel/hostname', name);
  }

  /**
   * podman keeps its images and containers on the cache partition when there
   * is one, else on a tmpfs: the initramfs root holds them badly. Returns the
   * configuration with its filesystems made mountable (NFS shares by address,
   * block devices with their filesystem's module).
   */
  async setUpContainerStorage(given: B2cConfig): Promise<B2cConfig> {
    let config = given;
    const onCache = await this.console.section('b2c_cache', 'Setting up the cache', async () => {
      const unconnected = await this.networkBlockDevices.connect(config.nbds);
      // After the connections: a filesystem on an NBD device shows its type only once connected.
      config = { ...config, filesystems: await this.filesystems.resolve(config.filesystems) };
      const cachePath = config.cacheDevice.kind === 'device' ? config.cacheDevice.path : undefined;
      const cacheNbd = cachePath === undefined ? undefined : nbdDeviceOf(cachePath);
      let mounted = false;
      if (cacheNbd !== undefined && unconnected.has(cacheNbd)) {
        await this.console.log(`The cache device ${cachePath} is not connected: images and volumes live in RAM`);
      } else {
        const setUp = await this.cache.setUp(config);
        mounted = setUp.mounted;
        // A check that did not finish is run again: this boot's clean end would otherwise hide what it left.
        const checkPending = mounted && (await this.system.exists(STORAGE_CHECK_PENDING));
        if (setUp.endedUncleanly || checkPending) await this.checkContainerStorage(setUp.endedUncleanly);
      }
      if (config.swap !== undefined) await this.swap.setUp(config.swap, mounted, unconnected);
      return mounted;
    });
    if (!onCache) await this.mount('tmpfs', 'containers', CONTAINER_STORAGE, 'mode=700');
    this.storage = onCache ? 'cache' : 'ram';
    await this.system.makeDirectory(PODMAN_PULL_DIRECTORY);
    await this.provideUpstreamPaths();
    await this.filesystems.mountImageStores(config);
    return config;
  }

  /** Removes what a power cut left half written in podman's storage, so that no step runs on a damaged layer. */
  private async checkContainerStorage(endedUncleanly: boolean): Promise<void> {
    await this.console.log(
      endedUncleanly
        ? "The last boot on the cache did not unmount it (a power cut, a reset or a farm's timeout): checking podman's images on it"
        : "The last check of podman's images on the cache did not finish: checking them again",
    );
    await this.system.writeText(STORAGE_CHECK_PENDING, '');
    const started = this.system.now();
    // The cut boot's containers are dead with it, and hold their layers, which the check would otherwise refuse to remove.
    const removed = await this.system.run(withTimeout(CLEANUP_COMMAND_SECONDS, podmanRemoveContainersArgs(0)), { captureStdout: true, captureStderr: true });
    if (removed.status !== 0) await this.console.log(`Could not remove the containers the cut boot left: ${removed.stderr.trim()}`);
    const result = await this.system.run(withTimeout(STORAGE_CHECK_SECONDS, PODMAN_STORAGE_CHECK_ARGS), { captureStdout: true, captureStderr: true });
    const seconds = Math.round((this.system.now() - started) / 100) / 10;
    const report = `${result.stdout}\n${result.stderr}`.trim();
    if (result.status === 137) await this.console.log(`The check did not end within ${STORAGE_CHECK_SECONDS} s and was killed: going on`);
    else if (result.status !== 0) await this.console.log(`podman could not repair its storage (status ${result.status}): ${report}`);
    else if (/damaged|removed|unaccounted|unreferenced/i.test(report))
      await this.console.log(`Damaged images were removed, to be pulled again (${seconds} s):\n${report}`);
    else await this.console.log(`podman's images on the cache are sound (${seconds} s)`);
    if (result.status === 0) await this.system.remove(STORAGE_CHECK_PENDING);
  }

  /**
   * Farm lines name the cache by upstream's paths (`-v /container/tmp:/storage`):
   * both lead to the storage root, on the cache or in RAM. What the scratch
   * folder holds on a cache stays: b2c removes nothing it did not make.
   */
  private async provideUpstreamPaths(): Promise<void> {
    await this.system.symlink(CONTAINER_STORAGE, CACHE_PATH);
    await this.system.symlink(CACHE_PATH, CONTAINER_PATH);
    await this.system.makeDirectory(SCRATCH_DIRECTORY);
  }

  /** Removes containers and dangling images where they would outlive the boot, then unmounts podman's storage deepest first. */
  async cleanUp(): Promise<void> {
    if (this.storage === undefined || this.cleanedUp) return;
    this.cleanedUp = true;
    await this.console.section('b2c_cleanup', 'Cleaning up', async () => {
      const commands = podmanCleanupCommands({ onCache: this.storage === 'cache', filesystemVolumesMounted: this.volumes?.filesystemsMounted ?? false });
      if (commands.length === 0) await this.console.log('Containers and images are in RAM and go with it: nothing to remove');
      for (const argv of commands) {
        const result = await this.system.run(withTimeout(CLEANUP_COMMAND_SECONDS, argv), { captureStdout: true, captureStderr: true });
        if (result.status === 137) await this.console.log(`${argv.join(' ')} did not end within ${CLEANUP_COMMAND_SECONDS} s and was killed`);
        else if (result.status !== 0) await this.console.log(`${argv.join(' ')} failed: ${result.stderr.trim()}`);
      }
      await this.volumes?.tearDown();
      await this.swap.tearDown();
      const mounts = (await this.system.readText('/proc/mounts')) ?? '';
      for (const target of unmountOrder(mounts, [CONTAINER_STORAGE, PODMAN_RUNROOT, IMAGE_STORES_DIRECTORY])) {
        const result = await this.system.run(['umount', target], { captureStderr: true });
        if (result.status !== 0) await this.console.log(`Could not unmount ${target}: ${result.stderr.trim()}`);
      }
      // Only now is what the cache wrote on a network block device all on the server.
      await this.networkBlockDevices.disconnect();
    });
  }

  async reportStatus(status: number): Promise<void> {
    if (this.statusReported) return;
    this.statusReported = true;
    await this.console.log(pipelineStatusMessage(status));
  }

  /** The whole boot from a parsed command line to the moment of shutdown; `outcome` says how to end. */
  async run(): Promise<void> {
    await this.mountEarly();
    const kernelLine = (await this.system.readText('/proc/cmdline')) ?? '';
    const kernelConfig = parseCmdline(kernelLine);
    const outcome = this.outcome;
    const takeShutdownSettings = (config: B2cConfig): void => {
      outcome.shutdownCommand = config.shutdownCmd;
      outcome.poweroffDelay = config.poweroffDelay;
    };
    takeShutdownSettings(kernelConfig);
    // Modules first: the summary lists the disks their drivers bring.
    await this.console.section('b2c_modules', 'Loading kernel modules', () => this.modules.loadModules(kernelConfig.modules));
    await this.printRuntimeSummary();
    if (!(await this.acceptConfig(kernelConfig))) return;

    let config: B2cConfig;
    try {
      await this.setHostname(kernelConfig.hostname);
      if (kernelConfig.keymap !== undefined) await loadKeymap(this.system, this.console, kernelConfig.keymap);
      await this.console.section('b2c_network', 'Setting up the network', () => this.network.setUp(kernelConfig));
      await this.setClock(kernelConfig);
      config = await withExtraArgs(this.system, this.console, kernelLine, kernelConfig);
    } catch (error) {
      if (!(error instanceof SetupError)) throw error;
      await this.console.log(`Error: ${error.message}`);
      await this.console.log('The machine could not be set up: no container will run');
      await this.reportStatus(outcome.status);
      return;
    }
    if (config !== kernelConfig) {
      takeShutdownSettings(config);
      if (!(await this.acceptConfig(config))) return;
      if (config.hostname !== kernelConfig.hostname) await this.setHostname(config.hostname);
      if (config.keymap !== undefined && config.keymap !== kernelConfig.keymap) await loadKeymap(this.system, this.console, config.keymap);
      await this.modules.loadNamed(config.modules);
      // The network is up by now, as the download needed it; a new NTP server can still be asked.
      if (JSON.stringify(config.ifaces) !== JSON.stringify(kernelConfig.ifaces)) {
        await this.console.log('Warning: b2c.iface in the extra arguments comes too late: the network was set up to download them; put it on the kernel line');
      }
      if (JSON.stringify(config.ntpPeer) !== JSON.stringify(kernelConfig.ntpPeer)) await this.setClock(config);
    }

    config = await this.setUpContainerStorage(config);
    this.volumes = new Volumes(this.system, this.console, config);
    await this.console.log(memoryInUseMessage((await this.system.readText('/proc/meminfo')) ?? ''));

    const result = await new Pipeline(this.system, this.console, this.modules, this.volumes, this.storage === 'cache').run(config);
    outcome.status = result.status;
    outcome.shutdownMode = result.shutdownMode;
    outcome.pipelineVariables = pipelineEnvironment(result);
    outcome.shutdownCommand = result.shutdownMode === 'reboot' ? config.rebootCmd : config.shutdownCmd;
    await this.reportStatus(outcome.status);
    await this.cleanUp();
  }

  private async setClock(config: B2cConfig): Promise<void> {
    if (config.ntpPeer.kind === 'none') return;
    await this.console.section('b2c_clock', 'Setting the clock', () => setClock(this.system, this.console, config.ntpPeer));
  }

  /** Prints the configuration's warnings (each once) and errors; false (with the status reported) when it is invalid. */
  private async acceptConfig(config: B2cConfig): Promise<boolean> {
    for (const warning of config.warnings) {
      if (this.warningsShown.has(warning)) continue;
      this.warningsShown.add(warning);
      await this.console.log(`Warning: ${warning}`);
    }
    if (config.errors.length === 0) return true;
    for (const error of config.errors) await this.console.log(`Error: ${error}`);
    await this.console.log('The command line is invalid: no container will run');
    await this.reportStatus(this.outcome.status);
    return false;
  }

  /**
   * After an unexpected error: the status becomes a failure unless it was
   * already reported, and the cleanup still runs so the cache is unmounted
   * cleanly. Never throws.
   */
  async recover(error: unknown): Promise<void> {
    this.system.write(`b2c: ${describeFailure(error)}\n`);
    if (!this.statusReported && this.outcome.status === 0) this.outcome.status = 1;
    try {
      await this.reportStatus(this.outcome.status);
    } catch {
      this.system.write(`${pipelineStatusMessage(this.outcome.status)}\n`);
    }
    try {
      await this.cleanUp();
    } catch (cleanupError) {
      this.system.write(`b2c: the cleanup failed too: ${describeFailure(cleanupError)}\n`);
    }
  }

  /** Says the machine may be turned off (or is rebooting), waits the delay, and runs the command. Never returns. */
  async shutdown(): Promise<never> {
    const outcome = this.outcome;
    this.system.write(`${shutdownNotice(outcome.shutdownMode)}\n`);
    await waitForConsoleDrain(this.system);
    // As upstream, the delay is for a power-off: a reboot the pipeline asked for is at once.
    if (outcome.shutdownMode === 'poweroff' && outcome.poweroffDelay > 0) await this.system.sleep(outcome.poweroffDelay * 1000);
    await this.system.run(['sync']);
    // As upstream's shell evaluated it: farms print the pipeline's variables from it (echo JOB_RESULT=$B2C_…; poweroff -f).
    const result = await this.system.run(['sh', '-c', outcome.shutdownCommand], { moreEnv: outcome.pipelineVariables });
    await this.console.log(`${outcome.shutdownCommand} returned ${result.status}: trying ${FALLBACK_SHUTDOWN.join(' ')} every ${SHUTDOWN_RETRY_SECONDS} s`);
    for (;;) {
      // PID 1 must never exit: the kernel would panic.
      await this.system.sleep(SHUTDOWN_RETRY_SECONDS * 1000);
      await this.system.run(FALLBACK_SHUTDOWN);
    }
  }
}

/**
 * Waits, at most a second, until the serial ports have sent what was written
 * to them: a UART sends the notice farms match on through its interrupt,
 * after the write returned, and a power-off at once drops what is left (seen
 * on ARM's PL011 under emulation). The ports' transmit counters in
 * /proc/tty/driver stop moving once it is all out.
 */
export async function waitForConsoleDrain(system: System): Promise<void> {
  const drivers = await system.listDir('/proc/tty/driver');
  if (drivers.length === 0) return;
  const transmitted = async (): Promise<number> => {
    let total = 0;
    for (const driver of drivers) {
      for (const match of ((await system.readText(`/proc/tty/driver/${driver}`)) ?? '').matchAll(/\btx:(\d+)/g)) total += Number(match[1]);
    }
    return total;
  };
  let last = await transmitted();
  for (let round = 0; round < 20; round++) {
    await system.sleep(50);
    const now = await transmitted();
    if (now === last) return;
    last = now;
  }
}

/** How often a shutdown command that returned is run again (as `poweroff -f` after the first). */
export const SHUTDOWN_RETRY_SECONDS = 5;

/** The whole life of /init: the boot, whatever it throws, the cleanup, and the shutdown, which never returns. */
export async function runInit(system: System, version: string): Promise<never> {
  const boot = new Boot(system, version);
  try {
    await boot.run();
  } catch (error) {
    await boot.recover(error);
  }
  return boot.shutdown();
}
