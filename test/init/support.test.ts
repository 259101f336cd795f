import { describe, expect, it } from 'vitest';
import { parseCmdline } from '../../src/cmdline/parse.ts';
import { optionsNotActedOn } from '../../src/init/support.ts';

describe('optionsNotActedOn', () => {
  it('names nothing this init acts on', () => {
    expect(optionsNotActedOn(parseCmdline('b2c.container=docker://i b2c.cache_device=auto b2c.swap=1G b2c.hostname=x b2c.modules=e1000e'))).toEqual([]);
    expect(optionsNotActedOn(parseCmdline('b2c.ntp_peer=auto b2c.iface=eth0,dhcp b2c.extra_args_url=http://farm/x'))).toEqual([]);
    expect(optionsNotActedOn(parseCmdline('b2c.minio="s3,http://s3:9000,a,b" b2c.volume=job,mirror=s3/jobs/1,push_on=changes,remove,exclude=*.tmp'))).toEqual([]);
    expect(optionsNotActedOn(parseCmdline('b2c.filesystem="data,src=/dev/vdb1" b2c.volume=job,filesystem=data'))).toEqual([]);
  });

  it('names the volume options it leaves alone, with their volume', () => {
    expect(optionsNotActedOn(parseCmdline('b2c.minio="s3,http://s3:9000,a,b" b2c.volume=job,mirror=s3/jobs/1,preserve,encrypt_key=abc'))).toEqual(['b2c.volume=job: encrypt_key']);
  });
});
