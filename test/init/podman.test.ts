import { describe, expect, it } from 'vitest';
import { parseContainerStep } from '../../src/cmdline/container.ts';
import { podmanRunArgs } from '../../src/init/podman.ts';

describe('podmanRunArgs', () => {
  it('puts b2c flags and the environment before the user ARGS, which stay one word each', () => {
    const result = parseContainerStep(`-ti docker://r/i sh -c 'echo a b; exit 5'`);
    if (!result.ok) throw new Error(result.error);
    expect(podmanRunArgs(result.step, { B2C_PIPELINE_STATUS: '0', B2C_PIPELINE_FAILED_BY: 'a b; $(x)' })).toEqual([
      'podman', 'run', '--privileged', '--network=host', '--pull=always',
      '--env', 'B2C_PIPELINE_STATUS=0',
      '--env', 'B2C_PIPELINE_FAILED_BY=a b; $(x)',
      '-ti', 'docker://r/i', 'sh', '-c', 'echo a b; exit 5',
    ]);
  });
});
