// Runs the pipeline on the machine: services around it, each step under podman, and the volume syncs at its events.

import type { B2cConfig } from '../cmdline/config.ts';
import type { ContainerStep } from '../cmdline/container.ts';
import { proxyEnvironment } from '../cmdline/proxy.ts';
import { describeError } from '../errors.ts';
import { B2C_RUN_DIRECTORY, CONTAINER_STORAGE, FSCRYPT_MODULES, PODMAN_PULL_DIRECTORY } from '../image-layout.ts';
import { withTimeout, type RunningProgram, type System } from '../system/system.ts';
import { shellQuote, type InitConsole } from './console.ts';
import type { KernelModules } from './modules.ts';
import {
  afterVolumeFailure,
  exitStatusMeaning,
  initialPipelineState,
  pipelineEnvironment,
  runSteps,
  type PipelineState,
  type StepKind,
} from './pipeline-plan.ts';
import { podmanCreateArgs, podmanRunArgs, podmanStartArgs, podmanStopArgs, serviceName, type RunPull } from './podman.ts';
import {
  classifyPullFailure,
  ioBytes,
  podmanPullArgs,
  pullDelaySeconds,
  PULL_STALL_BYTES,
  PULL_STALL_REASON,
  PULL_STALL_SECONDS,
  PULL_TRIES,
  type PullFailure,
} from './pull-plan.ts';
import type { Volumes, VolumeFailure } from './volumes.ts';
import type { PipelineEvent } from './volumes-plan.ts';

interface RunningService {
  name: string;
  program: RunningProgram;
  /** Where its output goes: services stay off the console, where farms parse the test's own output. */
  logFile: string;
}

/** The folder of the services' output, in RAM. */
const SERVICE_LOGS = `${B2C_RUN_DIRECTORY}/services`;
/** How much of a failed service's output the console shows. */
const SERVICE_LOG_TAIL_LINES = 20;

/** What a try of `podman pull` says, kept for the reason of its failure. */
const PULL_OUTPUT = `${B2C_RUN_DIRECTORY}/pull.log`;
/** How often a running pull is looked at: short, since a pull that ended waits for the next look. */
const PULL_POLL_MS = 200;
/** The bound on syncing podman's storage after a pull. */
export const SYNC_SECONDS = 60;

export class Pipeline {
  /** The variables of b2c.proxy, which podman's pulls take. */
  private transferEnvironment: Record<string, string> = {};

  constructor(
    private readonly system: System,
    private readonly console: InitConsole,
    private readonly modules: KernelModules,
    private readonly volumes: Volumes,
    /** Where podman's storage is: only a cache disk has pulls worth syncing. */
    private readonly storageOnCache: boolean,
  ) {}

  /** Sets up and pulls the volumes, starts the services, runs the steps and post containers, stops the services and pushes. */
  async run(config: B2cConfig): Promise<PipelineState> {
    this.transferEnvironment = proxyEnvironment(config.proxy);
    let state = initialPipelineState();
    if (this.volumes.any) {
      if (config.volumes.some((volume) => volume.fscryptKey !== undefined)) await this.modules.loadNamed(FSCRYPT_MODULES);
      const failures = await this.console.section('b2c_volumes', 'Setting up the volumes', () => this.volumes.setUp());
      state = await this.syncVolumes('pipeline_start', await this.takeVolumeFailures(state, failures));
    }
    // Volumes that could not be set up or pulled fail the pipeline before it starts: services and steps are skipped.
    const services = state.status === 0 ? await this.startServices(config) : { running: [] };
    try {
      // A service that could not start fails the pipeline: its steps are skipped, post containers still run.
      if (services.failure) state = services.failure;
      const plan = state.status !== 0 ? { ...config, containers: [] } : config;
      state = await runSteps(plan, (step, kind, index, environment) => this.runStep(step, kind, index, environment), state, {
        beforeStep: (current) => this.syncVolumes('container_start', current),
        afterStep: (current) => this.syncVolumes('container_end', current),
      });
    } finally {
      await this.stopServices(services.running);
    }
    return this.syncVolumes('pipeline_end', state);
  }

  private async runStep(step: ContainerStep, kind: StepKind, index: number, environment: Record<string, string>): Promise<number> {
    const label = kind === 'container' ? `Container ${index + 1}` : `Post container ${index + 1}`;
    return this.console.section(
      `b2c_${kind}_${index + 1}`,
      `${label}: ${step.image}`,
      async () => {
        await this.console.log(`${label}: podman run ${shellQuote(step.argv)}`);
        let exitCode: number;
        try {
          const pulled = await this.pull(step);
          exitCode = pulled.status !== 0 ? pulled.status : await this.runContainer(podmanRunArgs(step, environment, pulled.runPull));
        } catch (error) {
          await this.console.log(`${label} could not be started: ${describeError(error)}`);
          exitCode = 1;
        }
        const meaning = exitStatusMeaning(exitCode);
        await this.console.log(`${label} exited with status ${exitCode}${meaning === undefined ? '' : ` (${meaning})`}`);
        return exitCode;
      },
      false,
    );
  }

  /**
   * Pulls a step's image before it runs, trying again when the failure is one
   * a farm network has (a 5xx, a reset, a timeout, a body cut short) and
   * never when the registry's answer will not change (unknown, unauthorized).
   * The pull is what is tried again, never the container.
   */
  private async pull(step: ContainerStep): Promise<{ status: number; runPull: RunPull }> {
    const argv = podmanPullArgs(step);
    if (argv === undefined) return { status: 0, runPull: 'missing' };
    let pruned = false;
    const started = this.system.now();
    for (let attempt = 1; ; attempt++) {
      const result = await this.pullOnce(argv);
      if (result.status === 0) {
        // podman does not sync what it pulled: a power cut during the step would leave its layers recorded but empty on the cache.
        // Only podman's filesystem, and bounded: a hard NFS mount elsewhere must not hold the machine.
        if (this.storageOnCache) await this.system.run(withTimeout(SYNC_SECONDS, ['sync', '-f', CONTAINER_STORAGE]));
        // Said on every pull: where a step's time goes (b2c run's summary, a farm's log) starts here.
        const seconds = ((this.system.now() - started) / 1000).toFixed(1);
        await this.console.log(`Pulled ${step.image} in ${seconds} s${attempt > 1 ? `, on try ${attempt} of ${PULL_TRIES}` : ''}`);
        return { status: 0, runPull: 'never' };
      }
      const failure: PullFailure = result.stalled ? { kind: 'transient', reason: PULL_STALL_REASON } : classifyPullFailure(result.output);
      // Room is made once: a pull that still finds none will not find it on a later try.
      if (failure.kind === 'permanent' || (failure.kind === 'no-space' && pruned) || attempt === PULL_TRIES) {
        const tries = attempt === 1 ? '' : ` (${attempt} tries)`;
        await this.console.log(`Could not pull ${step.image}${tries}: ${failure.reason}`);
        return { status: result.status, runPull: 'never' };
      }
      const delay = pullDelaySeconds(attempt);
      await this.console.log(`Pulling ${step.image} failed (try ${attempt} of ${PULL_TRIES}): ${failure.reason}; trying again in ${delay} s`);
      if (failure.kind === 'no-space') {
        // As upstream, the last resort for room: the images no container uses.
        pruned = true;
        await this.console.log('Removing the images no container uses, to make room');
        await this.system.run(['podman', 'image', 'prune', '--all', '--force'], { captureStdout: true, captureStderr: true });
      }
      await this.system.sleep(delay * 1000);
    }
  }

  /**
   * One try of `podman pull`, watched through the bytes it reads and writes:
   * one that moves less than PULL_STALL_BYTES in PULL_STALL_SECONDS is
   * killed, and its status is then podman's own error status (125), not the
   * kill's. A kernel without task I/O accounting gives no counts: the try is
   * then bounded by nothing but the farm.
   */
  private async pullOnce(argv: string[]): Promise<{ status: number; output: string; stalled: boolean }> {
    // Emptied in place: start() appends, and a process to remove it would cost more than the write.
    await this.system.makeDirectory(B2C_RUN_DIRECTORY);
    await this.system.writeText(PULL_OUTPUT, '');
    const program = await this.system.start(argv, { outputFile: PULL_OUTPUT, moreEnv: this.transferEnvironment });
    // The count and time of the last look that found the pull moving.
    let markBytes: number | undefined;
    let markTime = this.system.now();
    while (program.poll() === undefined) {
      // Woken by the pull's end: a plain sleep would add up to PULL_POLL_MS to every step.
      await this.system.waitForAny([program], PULL_POLL_MS);
      const bytes = ioBytes((await this.system.readText(`/proc/${program.pid}/io`)) ?? '');
      const now = this.system.now();
      // Counts that cannot be read never stop a pull.
      if (bytes === undefined || markBytes === undefined || bytes - markBytes >= PULL_STALL_BYTES) {
        markBytes = bytes;
        markTime = now;
      } else if (now - markTime >= PULL_STALL_SECONDS * 1000) {
        await this.system.run(['kill', '-KILL', String(program.pid)]);
        await program.wait();
        // A killed podman leaves its partial download behind, which no prune removes.
        // busybox's find has no -delete.
        await this.system.run(['find', PODMAN_PULL_DIRECTORY, '-mindepth', '1', '-maxdepth', '1', '-exec', 'rm', '-rf', '{}', '+'], {
          captureStdout: true,
          captureStderr: true,
        });
        return { status: 125, output: (await this.system.readText(PULL_OUTPUT)) ?? '', stalled: true };
      }
    }
    const status = await program.wait();
    return { status, output: (await this.system.readText(PULL_OUTPUT)) ?? '', stalled: false };
  }

  /** Runs a step; while it runs, volumes pushed on `changes` are pushed every second or so. */
  private async runContainer(argv: string[]): Promise<number> {
    if (!this.volumes.pushedContinuously) return (await this.system.run(argv)).status;
    const program = await this.system.start(argv);
    while (program.poll() === undefined) {
      await this.volumes.pushChanges();
      await this.system.waitForAny([program], 1000);
    }
    return program.wait();
  }

  /**
   * Creates every service, then starts each attached in the background with
   * its output in a file, as upstream keeps services detached. The first one
   * that cannot be created fails the pipeline before it starts.
   */
  private async startServices(config: B2cConfig): Promise<{ running: RunningService[]; failure?: PipelineState }> {
    const running: RunningService[] = [];
    for (const [index, step] of config.services.entries()) {
      const name = serviceName(index);
      const failure = await this.console.section(`b2c_service_${index + 1}`, `Service ${index + 1}: ${step.image}`, async () => {
        await this.console.log(`Service ${index + 1}: podman create ${shellQuote(step.argv)}`);
        const pulled = await this.pull(step);
        const created =
          pulled.status !== 0
            ? pulled
            : await this.system.run(podmanCreateArgs(step, name, pipelineEnvironment(initialPipelineState()), pulled.runPull), { captureStdout: true });
        if (created.status !== 0) {
          await this.console.log(`Service ${index + 1} could not be created (status ${created.status}): the pipeline fails`);
          return { ...initialPipelineState(), status: created.status, failedBy: step.args };
        }
        await this.system.makeDirectory(SERVICE_LOGS);
        const logFile = `${SERVICE_LOGS}/${name}.log`;
        running.push({ name, logFile, program: await this.system.start(podmanStartArgs(name), { outputFile: logFile }) });
        await this.console.log(`Service ${index + 1} started as ${name}; its output goes to ${logFile}`);
        return undefined;
      });
      if (failure) return { running, failure };
    }
    return { running };
  }

  private async stopServices(services: readonly RunningService[]): Promise<void> {
    if (services.length === 0) return;
    await this.console.section('b2c_services_stop', 'Stopping services', async () => {
      for (const service of services) {
        const endedAlone = service.program.poll();
        const stopped = await this.system.run(podmanStopArgs(service.name), { captureStdout: true, captureStderr: true });
        if (stopped.status !== 0 && endedAlone === undefined) await this.console.log(`Could not stop ${service.name}: ${stopped.stderr.trim()}`);
        const status = await service.program.wait();
        if (endedAlone === undefined || endedAlone === 0) {
          await this.console.log(`${service.name} ended with status ${status}`);
          continue;
        }
        // A service that died with an error shows why, the one time its output reaches the console.
        const output = ((await this.system.readText(service.logFile)) ?? '').trimEnd().split('\n').slice(-SERVICE_LOG_TAIL_LINES);
        await this.console.log(`${service.name} ended on its own with status ${endedAlone}; the last lines of its output:`);
        this.system.write(`${output.join('\n')}\n`);
      }
    });
  }

  /** Logs each volume failure and fails the pipeline with it. */
  private async takeVolumeFailures(state: PipelineState, failures: readonly VolumeFailure[]): Promise<PipelineState> {
    for (const failure of failures) {
      await this.console.log(`Error: ${failure.message}`);
      state = afterVolumeFailure(state, failure.volume);
    }
    return state;
  }

  /** Syncs the volumes an event calls for, in a section of its own when there is any. */
  private async syncVolumes(event: PipelineEvent, state: PipelineState): Promise<PipelineState> {
    if (!this.volumes.any) return state;
    const failures = await this.console.section(`b2c_volumes_${event}`, `Syncing the volumes (${event})`, () => this.volumes.sync(event));
    return this.takeVolumeFailures(state, failures);
  }
}
