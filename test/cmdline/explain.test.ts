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
      'Cache: /dev/sdb',
      'Swap: a 1 GiB file on the cache',
      'Network: DHCP on every eth*, en* and usb* interface until one gets a lease',
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
      "Then: wait 3 s, then sh -c 'poweroff -f' (sh -c 'reboot -f', at once, when a container asks for a reboot), " +
        "with the pipeline's B2C_PIPELINE_* variables in their environment.",
    ]);
  });

  it("explains a Mesa farm's image store over NFS and its cache on a network block device", () => {
    const id = '3f0a9c1b2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f90';
    const config = parseCmdline(
      'b2c.filesystem=publicimgstore,type=nfs,src=10.42.0.1:/imgstore/public,opts=ro|nolock b2c.storage="additionalimagestores=publicimgstore" ' +
        `b2c.nbd=/dev/nbd0,host=ci-gateway,port=10809,connections=5 b2c.cache_device=/dev/nbd0 b2c.run="-ti --tls-verify=false ${id} setup"`,
    );
    expect(config.errors).toEqual([]);
    expect(config.warnings).toEqual([]);
    const lines = explainConfig(config);
    expect(lines.slice(0, 2)).toEqual([
      'Network block device /dev/nbd0: ci-gateway:10809 (5 connections asked, b2c opens one); connected before the cache, disconnected after it is unmounted',
      'Cache: /dev/nbd0',
    ]);
    expect(lines).toContain(
      "Filesystem publicimgstore: 10.42.0.1:/imgstore/public (NFSv4 over TCP; needs the modules add-on) with ro,nolock; podman's read-only image store",
    );
    expect(lines).toContain(`Step 1: ${id} (an image ID: taken from the local stores, never pulled)`);
  });

  it('warns of an image ID with no image store, of a store that is no filesystem, and of an NBD cache nothing connects', () => {
    const config = parseCmdline('b2c.container="3f0a9c1b2d3e sh" b2c.cache_device=/dev/nbd1');
    expect(config.errors).toEqual([]);
    expect(config.warnings).toEqual([
      '3f0a9c1b2d3e is an image ID (never pulled) and b2c.storage names no image store: it runs only if the cache kept it from a past boot',
      'b2c.cache_device=/dev/nbd1: no b2c.nbd connects it, so it stays an empty device and the cache stays in RAM',
    ]);
    expect(parseCmdline('b2c.storage=additionalimagestores=store b2c.container="3f0a9c1b2d3e sh"').errors).toEqual([
      'b2c.storage: the image store store is no b2c.filesystem (e.g. b2c.filesystem=store,type=nfs,src=HOST:/path,opts=ro)',
    ]);
    expect(parseCmdline('b2c.nbd=/dev/nbd0,host=a b2c.nbd=/dev/nbd0,host=b').errors).toEqual(['b2c.nbd: the same device is connected twice']);
  });

  it('says that a swap file needs a cache, as the machine does, and the parser warns of it', () => {
    const config = parseCmdline('b2c.swap=1G b2c.container=docker://r/t:1');
    expect(config.errors).toEqual([]);
    expect(explainConfig(config).slice(0, 2)).toEqual(['Cache: none: images and volumes live in RAM', 'Swap: none (b2c.swap=1 GiB needs a cache partition)']);
    expect(config.warnings).toEqual(['b2c.swap needs a cache partition (b2c.cache_device): with b2c.cache_device=none the machine gets no swap']);
    // The extra arguments may still name a cache.
    expect(parseCmdline('b2c.swap=1G b2c.extra_args_url=https://farm/dut').warnings).toEqual([
      'b2c.swap needs a cache partition (b2c.cache_device): with b2c.cache_device=none the machine gets no swap ' +
        '(unless b2c.extra_args_url sets b2c.cache_device)',
    ]);
    expect(parseCmdline('b2c.swap=1G b2c.cache_device=auto').warnings).toEqual([]);
  });

  it("explains ci-tron's swaps: a file with a swappiness, and a network block device", () => {
    expect(explainConfig(parseCmdline('b2c.swap=8G,swappiness=60 b2c.cache_device=auto')).slice(0, 2)).toEqual([
      'Cache: the B2C_CACHE partition, or a blank disk formatted for it',
      'Swap: a 8 GiB file on the cache; vm.swappiness=60',
    ]);
    const diskless = parseCmdline('b2c.nbd=/dev/nbd1,host=ci-gateway,port=10810 b2c.swap=/dev/nbd1');
    expect(diskless.warnings).toEqual([]);
    expect(explainConfig(diskless)).toContain('Swap: on /dev/nbd1, made anew (mkswap) at each boot and switched off before the shutdown');
  });
});
