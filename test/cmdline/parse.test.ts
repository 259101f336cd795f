import { describe, expect, it } from 'vitest';
import { closestName, parseCmdline } from '../../src/cmdline/parse.ts';

describe('parseCmdline', () => {
  it('reads a farm line with steps, post containers and non-b2c parameters', () => {
    const config = parseCmdline(
      `BOOT_IMAGE=/vmlinuz console=ttyS0,115200 b2c.pipefail b2c.container="-ti docker://r:5000/a:1" ` +
        `b2c.run="docker://r:5000/b:1 sh -c 'echo a b; exit 5'" b2c.post_container="docker://r:5000/c:1 true" ` +
        `b2c.poweroff_delay=5 b2c.shutdown_cmd="echo bye" quiet`,
    );
    expect(config.errors).toEqual([]);
    expect(config.warnings).toEqual([]);
    expect(config.pipefail).toBe(true);
    expect(config.containers.map((step) => step.image)).toEqual(['docker://r:5000/a:1', 'docker://r:5000/b:1']);
    expect(config.containers[1]?.command).toEqual(['sh', '-c', 'echo a b; exit 5']);
    expect(config.postContainers.map((step) => step.argv)).toEqual([['docker://r:5000/c:1', 'true']]);
    expect(config.poweroffDelay).toBe(5);
    expect(config.shutdownCmd).toEqual(['echo', 'bye']);
    expect(config.rebootCmd).toEqual(['reboot', '-f']);
  });

  it('has the documented defaults', () => {
    const config = parseCmdline('console=ttyS0');
    expect(config).toMatchObject({
      containers: [],
      postContainers: [],
      pipefail: false,
      shutdownCmd: ['poweroff', '-f'],
      rebootCmd: ['reboot', '-f'],
      poweroffDelay: 0,
      errors: [],
    });
  });

  it('rejects bad values, naming the parameter', () => {
    expect(parseCmdline('b2c.poweroff_delay=soon').errors).toEqual([
      'b2c.poweroff_delay=soon is not a number of seconds (e.g. b2c.poweroff_delay=5)',
    ]);
    expect(parseCmdline('b2c.container="-ti"').errors[0]).toMatch(/^b2c.container: no image/);
    expect(parseCmdline(`b2c.container="docker://i sh -c 'x"`).errors[0]).toMatch(/single quote is not closed/);
    expect(parseCmdline('b2c.container').errors[0]).toMatch(/needs a value/);
    expect(parseCmdline('b2c.shutdown_cmd=').errors[0]).toMatch(/^b2c.shutdown_cmd: it is empty/);
    expect(parseCmdline('b2c.container="docker://i').errors[0]).toMatch(/cannot be split/);
  });

  it('warns about unknown options with the closest name', () => {
    expect(parseCmdline('b2c.contianer=docker://i').warnings).toEqual([
      'unknown option b2c.contianer: ignored (did you mean b2c.container?)',
    ]);
    expect(parseCmdline('b2c.zzzzzzzzzzzzzzzz=1').warnings).toEqual(['unknown option b2c.zzzzzzzzzzzzzzzz: ignored']);
  });
});

describe('closestName', () => {
  it('suggests only plausible corrections', () => {
    expect(closestName('b2c.pipefial', ['b2c.pipefail', 'b2c.run'])).toBe('b2c.pipefail');
    expect(closestName('b2c.x', ['b2c.pipefail'])).toBeUndefined();
  });
});
