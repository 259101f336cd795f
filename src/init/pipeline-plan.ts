// The pipeline's rules: step order, the status, pipefail, post containers and the shutdown mode a container asks for.

import type { ContainerStep } from '../cmdline/container.ts';
import type { ShutdownMode } from './console.ts';

export interface PipelineState {
  /** Exit code of the first failing step; 0 while none failed. */
  status: number;
  /** What made the pipeline fail: the failing step's ARGS. */
  failedBy: string;
  previousContainer: string;
  previousExitCode: number | undefined;
  shutdownMode: ShutdownMode;
}

export interface PipelinePlan {
  containers: ContainerStep[];
  postContainers: ContainerStep[];
  pipefail: boolean;
}

export type StepKind = 'container' | 'post_container';

/** Runs one step with its B2C_PIPELINE_* environment and gives its exit code. */
export type StepRunner = (step: ContainerStep, kind: StepKind, index: number, environment: Record<string, string>) => Promise<number>;

// A process ended by the reboot syscall inside a PID namespace dies of SIGHUP
// (restart) or SIGINT (power off / halt): 128 + signal.
export const REBOOT_EXIT_CODE = 129;
export const POWEROFF_EXIT_CODE = 130;

export function initialPipelineState(): PipelineState {
  return { status: 0, failedBy: '', previousContainer: '', previousExitCode: undefined, shutdownMode: 'poweroff' };
}

/** What every container sees of the pipeline so far. */
export function pipelineEnvironment(state: PipelineState): Record<string, string> {
  return {
    B2C_PIPELINE_STATUS: String(state.status),
    B2C_PIPELINE_FAILED_BY: state.failedBy,
    B2C_PIPELINE_PREV_CONTAINER: state.previousContainer,
    B2C_PIPELINE_PREV_CONTAINER_EXIT_CODE: state.previousExitCode === undefined ? '' : String(state.previousExitCode),
    B2C_PIPELINE_SHUTDOWN_MODE: state.shutdownMode,
  };
}

/** The state after a step ended with `exitCode`; post containers never change the status. */
export function afterStep(state: PipelineState, step: ContainerStep, kind: StepKind, exitCode: number): PipelineState {
  const next: PipelineState = { ...state, previousContainer: step.args, previousExitCode: exitCode };
  if (exitCode === REBOOT_EXIT_CODE) next.shutdownMode = 'reboot';
  if (exitCode === POWEROFF_EXIT_CODE) next.shutdownMode = 'poweroff';
  if (kind === 'container' && exitCode !== 0 && state.status === 0) {
    next.status = exitCode;
    next.failedBy = step.args;
  }
  return next;
}

/** What names a volume that failed to sync, in B2C_PIPELINE_FAILED_BY. */
export function volumeFailureName(volume: string): string {
  return `volume ${volume}`;
}

/** A volume that could not be synced fails the pipeline with status 1, unless a step failed first. */
export function afterVolumeFailure(state: PipelineState, volume: string): PipelineState {
  return state.status !== 0 ? state : { ...state, status: 1, failedBy: volumeFailureName(volume) };
}

/** Work around each step (volume syncs), which may fail the pipeline in its turn. */
export interface StepHooks {
  beforeStep(state: PipelineState): Promise<PipelineState>;
  afterStep(state: PipelineState): Promise<PipelineState>;
}

const NO_HOOKS: StepHooks = { beforeStep: async (state) => state, afterStep: async (state) => state };

/** Runs the steps in order, stopping at the first failure under pipefail; post containers always run. */
export async function runSteps(plan: PipelinePlan, runStep: StepRunner, state = initialPipelineState(), hooks = NO_HOOKS): Promise<PipelineState> {
  const run = async (step: ContainerStep, kind: StepKind, index: number): Promise<void> => {
    state = await hooks.beforeStep(state);
    state = afterStep(state, step, kind, await runStep(step, kind, index, pipelineEnvironment(state)));
    state = await hooks.afterStep(state);
  };
  for (const [index, step] of plan.containers.entries()) {
    if (plan.pipefail && state.status !== 0) break;
    await run(step, 'container', index);
  }
  for (const [index, step] of plan.postContainers.entries()) await run(step, 'post_container', index);
  return state;
}

const SIGNAL_MEANINGS: Record<number, string> = {
  2: 'SIGINT: interrupted',
  4: 'SIGILL: an illegal instruction',
  6: 'SIGABRT: it aborted',
  7: 'SIGBUS: a bus error',
  8: 'SIGFPE: an arithmetic fault',
  9: "SIGKILL: killed; the kernel's OOM killer does this when memory runs out, and says so above",
  11: 'SIGSEGV: a segmentation fault',
  15: 'SIGTERM: asked to stop',
};

/**
 * What a step's exit status says beyond its number, for the console: podman's
 * own statuses, and 128 + N for a process killed by signal N.
 */
export function exitStatusMeaning(status: number): string | undefined {
  if (status === 125) return "podman's own error: the container did not run";
  if (status === 126) return 'the command could not be run';
  if (status === 127) return 'the command was not found';
  if (status > 128 && status < 160) return SIGNAL_MEANINGS[status - 128] ?? `killed by signal ${status - 128}`;
  return undefined;
}
