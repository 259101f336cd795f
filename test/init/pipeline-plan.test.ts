import { describe, expect, it } from 'vitest';
import type { ContainerStep } from '../../src/cmdline/container.ts';
import { parseContainerStep } from '../../src/cmdline/container.ts';
import { afterStep, afterVolumeFailure, exitStatusMeaning, initialPipelineState, runSteps, type StepKind } from '../../src/init/pipeline-plan.ts';

function stepOf(args: string): ContainerStep {
  const result = parseContainerStep(args);
  if (!result.ok) throw new Error(result.error);
  return result.step;
}

/** Runs the pipeline with each step's exit code taken from its command, recording what each step saw. */
async function simulate(containers: string[], postContainers: string[], pipefail: boolean) {
  const seen: Array<{ kind: StepKind; args: string; env: Record<string, string> }> = [];
  const state = await runSteps(
    { containers: containers.map(stepOf), postContainers: postContainers.map(stepOf), pipefail },
    async (step, kind, _index, env) => {
      seen.push({ kind, args: step.args, env });
      return Number(step.command[0]);
    },
  );
  return { state, seen };
}

describe('runSteps', () => {
  it('keeps the first failure as the status and runs everything without pipefail', async () => {
    const { state, seen } = await simulate(['docker://i 0', 'docker://i 5', 'docker://i 3'], ['docker://i 7'], false);
    expect(state.status).toBe(5);
    expect(state.failedBy).toBe('docker://i 5');
    expect(seen.map((entry) => entry.args)).toEqual(['docker://i 0', 'docker://i 5', 'docker://i 3', 'docker://i 7']);
    expect(seen[2]?.env).toEqual({
      B2C_PIPELINE_STATUS: '5',
      B2C_PIPELINE_FAILED_BY: 'docker://i 5',
      B2C_PIPELINE_PREV_CONTAINER: 'docker://i 5',
      B2C_PIPELINE_PREV_CONTAINER_EXIT_CODE: '5',
      B2C_PIPELINE_SHUTDOWN_MODE: 'poweroff',
    });
    expect(seen[0]?.env.B2C_PIPELINE_PREV_CONTAINER_EXIT_CODE).toBe('');
  });

  it('stops at the first failure under pipefail, but still runs post containers', async () => {
    const { state, seen } = await simulate(['docker://i 0', 'docker://i 4', 'docker://i 0'], ['docker://i 0', 'docker://i 9'], true);
    expect(state.status).toBe(4);
    expect(seen.map((entry) => `${entry.kind}:${entry.args}`)).toEqual([
      'container:docker://i 0',
      'container:docker://i 4',
      'post_container:docker://i 0',
      'post_container:docker://i 9',
    ]);
  });

  it('never lets a post container change the status', async () => {
    const { state } = await simulate(['docker://i 0'], ['docker://i 1'], false);
    expect(state.status).toBe(0);
    expect(state.failedBy).toBe('');
  });

  it('takes the shutdown mode from 129 (reboot) and 130 (poweroff), the last one winning', () => {
    const step = stepOf('docker://i x');
    let state = afterStep(initialPipelineState(), step, 'container', 129);
    expect(state).toMatchObject({ shutdownMode: 'reboot', status: 129 });
    state = afterStep(state, step, 'post_container', 130);
    expect(state).toMatchObject({ shutdownMode: 'poweroff', status: 129 });
  });

  it('runs the hooks around every step; a volume failing before a step fails the pipeline, which pipefail then stops', async () => {
    const events: string[] = [];
    const state = await runSteps(
      { containers: ['docker://i 0', 'docker://i 0'].map(stepOf), postContainers: ['docker://i 0'].map(stepOf), pipefail: true },
      async (step, kind, _index, env) => {
        events.push(`${kind} sees ${env.B2C_PIPELINE_STATUS} ${env.B2C_PIPELINE_FAILED_BY}`);
        return Number(step.command[0]);
      },
      initialPipelineState(),
      {
        beforeStep: async (current) => {
          events.push('before');
          return current;
        },
        afterStep: async (current) => {
          events.push('after');
          return afterVolumeFailure(current, 'results');
        },
      },
    );
    expect(state).toMatchObject({ status: 1, failedBy: 'volume results' });
    expect(events).toEqual(['before', 'container sees 0 ', 'after', 'before', 'post_container sees 1 volume results', 'after']);
  });
});

describe('afterVolumeFailure', () => {
  it('does not replace the failure of a step that came first', () => {
    const failed = { ...initialPipelineState(), status: 3, failedBy: 'docker://i 3' };
    expect(afterVolumeFailure(failed, 'results')).toEqual(failed);
  });
});

describe('exitStatusMeaning', () => {
  it("names podman's statuses and the signal behind 128 + N, and adds nothing to a job's own status", () => {
    expect(exitStatusMeaning(137)).toMatch(/^SIGKILL: .*OOM killer/);
    expect(exitStatusMeaning(139)).toBe('SIGSEGV: a segmentation fault');
    expect(exitStatusMeaning(125)).toMatch(/podman's own error/);
    expect(exitStatusMeaning(127)).toBe('the command was not found');
    expect(exitStatusMeaning(128 + 10)).toBe('killed by signal 10');
    for (const status of [0, 1, 3, 128, 160, 255]) expect(exitStatusMeaning(status)).toBeUndefined();
  });
});
