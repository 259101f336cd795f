import { describe, expect, it } from 'vitest';
import { parseCmdline } from '../../src/cmdline/parse.ts';
import { optionsNotActedOn } from '../../src/init/support.ts';

describe('optionsNotActedOn', () => {
  it('names the options this init leaves alone, and nothing it acts on', () => {
    expect(optionsNotActedOn(parseCmdline('b2c.container=docker://i b2c.cache_device=auto b2c.swap=1G b2c.hostname=x b2c.modules=e1000e'))).toEqual([]);
    expect(optionsNotActedOn(parseCmdline('b2c.ntp_peer=auto b2c.iface=eth0,dhcp b2c.extra_args_url=http://farm/x'))).toEqual([]);
    expect(optionsNotActedOn(parseCmdline('b2c.keymap=de b2c.minio="s3,http://s3:9000,a,b"'))).toEqual(['b2c.minio']);
  });

  it('counts a filesystem used as the cache as acted on', () => {
    expect(optionsNotActedOn(parseCmdline('b2c.filesystem="fast,src=/dev/vdb1" b2c.cache_device=fast'))).toEqual([]);
    expect(optionsNotActedOn(parseCmdline('b2c.filesystem="data,src=/dev/vdb1"'))).toEqual(['b2c.filesystem']);
  });
});
