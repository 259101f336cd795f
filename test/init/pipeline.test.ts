import { describe, expect, it } from 'vitest';
import type { ContainerStep } from '../../src/cmdline/container.ts';
import { parseContainerStep } from '../../src/cmdline/container.ts';
import { afterStep, initialPipelineState, runPipeline, type StepKind } from '../../src/init/pipeline.ts';

function stepOf(args: string): ContainerStep {
  const result = parseContainerStep(args);
  if (!result.ok) throw new Error(result.error);
  return result.step;
}

/** Runs the pipeline with each step's exit code taken from its command, recording what each step saw. */
async function simulate(containers: string[], postContainers: string[], pipefail: boolean) {
  const seen: Array<{ kind: StepKind; args: string; env: Record<string, string> }> = [];
  const state = await runPipeline(
    { containers: containers.map(stepOf), postContainers: postContainers.map(stepOf), pipefail },
    async (step, kind, _index, env) => {
      seen.push({ kind, args: step.args, env });
      return Number(step.command[0]);
    },
  );
  return { state, seen };
}

describe('runPipeline', () => {
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
});
