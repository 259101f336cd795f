import { describe, expect, it } from 'vitest';
import { parseContainerStep } from '../../src/cmdline/container.ts';

describe('parseContainerStep', () => {
  const cases: Array<[string, string, string[]]> = [
    ['docker://r:5000/i:1', 'docker://r:5000/i:1', []],
    ['-ti docker://r/i:1 sh -c true', 'docker://r/i:1', ['sh', '-c', 'true']],
    ['-v /dev:/dev -e A=1 --name job docker://r/i uname -a', 'docker://r/i', ['uname', '-a']],
    ['--tls-verify=false --entrypoint=/bin/sh docker://r/i -c x', 'docker://r/i', ['-c', 'x']],
    ['--entrypoint /bin/sh docker://r/i', 'docker://r/i', []],
    ['-eA=1 -it docker://r/i', 'docker://r/i', []],
    ['-te A=1 docker://r/i', 'docker://r/i', []],
    ['--privileged --rm -- docker://r/i -x', 'docker://r/i', ['-x']],
  ];
  it.each(cases)('finds the image in %s', (args, image, command) => {
    const result = parseContainerStep(args);
    expect(result).toMatchObject({ ok: true, step: { args, image, command } });
  });

  it('keeps the whole argv', () => {
    expect(parseContainerStep(`-e 'A=x y' docker://r/i sh -c 'echo a b; exit 5'`)).toEqual({
      ok: true,
      step: {
        args: `-e 'A=x y' docker://r/i sh -c 'echo a b; exit 5'`,
        argv: ['-e', 'A=x y', 'docker://r/i', 'sh', '-c', 'echo a b; exit 5'],
        image: 'docker://r/i',
        command: ['sh', '-c', 'echo a b; exit 5'],
      },
    });
  });

  it('says so when there is no image', () => {
    for (const args of ['', '-ti', '-v /a:/b', '--name x']) {
      const result = parseContainerStep(args);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.error).toMatch(/no image/);
    }
  });
});
