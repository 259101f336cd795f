import { describe, expect, it } from 'vitest';
import { explainConfig } from '../../src/cmdline/explain.ts';
import { parseCmdline } from '../../src/cmdline/parse.ts';

describe('explainConfig', () => {
  it('says what the machine will do, in order', () => {
    const lines = explainConfig(
      parseCmdline(
        `b2c.minio="s3,http://10.0.0.1:9000,a,b" b2c.volume="job,mirror=s3/jobs/1,push_on=changes" b2c.cache_device=/dev/sdb b2c.swap=1G ` +
          `b2c.service="docker://r/svc:1" b2c.container="docker://r/t:1 run" b2c.post_container="docker://r/up:1" b2c.poweroff_delay=3`,
      ),
    );
    expect(lines).toEqual([
      'Cache: /dev/sdb; a 1 GiB swap file on it',
      'Network: DHCP on every eth* and en* interface until one gets a lease',
      'Clock: left as the machine has it',
      'Host name: boot2container',
      'S3 endpoint s3: http://10.0.0.1:9000',
      'Volume job, kept across boots',
      '    never pulled from s3/jobs/1: no pull_on names when',
      '    pushed to s3/jobs/1 at every change and at pipeline end',
      'Service 1 (runs during the pipeline): docker://r/svc:1',
      '    argv: ["docker://r/svc:1"]',
      'Step 1: docker://r/t:1',
      '    argv: ["docker://r/t:1","run"]',
      '    command: ["run"]',
      'Post container 1 (always runs): docker://r/up:1',
      '    argv: ["docker://r/up:1"]',
      'Then: wait 3 s, then poweroff -f (reboot -f, at once, when a container asks for a reboot).',
    ]);
  });

  it('says that a swap file needs a cache, as the machine does, and the parser warns of it', () => {
    const config = parseCmdline('b2c.swap=1G b2c.container=docker://r/t:1');
    expect(config.errors).toEqual([]);
    expect(explainConfig(config)[0]).toBe('Cache: none: images and volumes live in RAM; no swap (b2c.swap=1 GiB needs a cache partition)');
    expect(config.warnings).toEqual(['b2c.swap needs a cache partition (b2c.cache_device): with b2c.cache_device=none the machine gets no swap']);
    // The extra arguments may still name a cache.
    expect(parseCmdline('b2c.swap=1G b2c.extra_args_url=https://farm/dut').warnings).toEqual([
      'b2c.swap needs a cache partition (b2c.cache_device): with b2c.cache_device=none the machine gets no swap ' +
        '(unless b2c.extra_args_url sets b2c.cache_device)',
    ]);
    expect(parseCmdline('b2c.swap=1G b2c.cache_device=auto').warnings).toEqual([]);
  });
});
