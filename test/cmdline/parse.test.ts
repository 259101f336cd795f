import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { configToJson, type B2cConfig } from '../../src/cmdline/config.ts';
import { closestName, KNOWN_OPTIONS, parseCmdline, parseCmdlineWithExtraArgs } from '../../src/cmdline/parse.ts';
import { explainConfig } from '../../src/cmdline/explain.ts';

describe('parseCmdline on lines as farms write them', () => {
  it('reads a full line with services, steps, post containers, volumes and kernel parameters mixed in', () => {
    const config = parseCmdline(
      [
        'BOOT_IMAGE=/vmlinuz console=ttyS0,115200 earlyprintk=serial quiet',
        'b2c.extra_args_url=https://farm.example/dut-7/secrets',
        'b2c.cache_device=auto b2c.swap=4G b2c.ntp_peer=auto b2c.hostname=dut-7 b2c.keymap=de',
        'b2c.insmods=e1000e b2c.modules=r8169,nvme',
        'b2c.iface=eth1,address=192.168.8.2/24,route=10.42.0.0/16:192.168.8.1,nameserver=192.168.8.1,nameserver=9.9.9.9,forward',
        `b2c.volume="job-7,mirror=farm/jobs/7,pull_on=pipeline_start,push_on=changes,exclude=*.tmp,exclude=cache/*,expiration=pipeline_end,overwrite,remove"`,
        `b2c.filesystem="nfs,type=nfs,src=10.0.0.1:/export,opts=ro|vers=4"`,
        `b2c.volume="ref,filesystem=nfs,preserve"`,
        `b2c.run_service="-v /dev:/dev docker://registry:5000/logger:1"`,
        `b2c.container="-ti --name=setup docker://registry:5000/mesa/tests:42 sh -c 'echo it'\\''s; exit 3'"`,
        `b2c.run="-e DEQP_SUITE=gles3 -v job-7:/results docker://registry:5000/mesa/deqp:42 deqp-runner --suite /suites/gles3.toml"`,
        `b2c.post_container="-v job-7:/results docker://registry:5000/upload:1"`,
        'b2c.pipefail b2c.poweroff_delay=15 b2c.shutdown_cmd="poweroff -f" b2c.reboot_cmd="reboot -f"',
      ].join(' '),
    );
    expect(config.errors).toEqual([]);
    // The volume's alias comes from the extra arguments: only a warning for now.
    expect(config.warnings).toEqual(['b2c.volume=job-7: no b2c.minio defines the alias farm (unless b2c.extra_args_url defines it)']);
    expect(config.services.map((step) => step.image)).toEqual(['docker://registry:5000/logger:1']);
    expect(config.containers.map((step) => step.image)).toEqual(['docker://registry:5000/mesa/tests:42', 'docker://registry:5000/mesa/deqp:42']);
    expect(config.containers[0]?.command).toEqual(['sh', '-c', "echo it's; exit 3"]);
    expect(config.containers[1]?.argv).toEqual([
      '-e',
      'DEQP_SUITE=gles3',
      '-v',
      'job-7:/results',
      'docker://registry:5000/mesa/deqp:42',
      'deqp-runner',
      '--suite',
      '/suites/gles3.toml',
    ]);
    expect(config.postContainers).toHaveLength(1);
    expect(config).toMatchObject({
      pipefail: true,
      cacheDevice: { kind: 'auto' },
      swap: { kind: 'file', bytes: 4 * 1024 ** 3 },
      ntpPeer: { kind: 'auto' },
      hostname: 'dut-7',
      keymap: 'de',
      modules: ['e1000e', 'r8169', 'nvme'],
      extraArgsUrl: 'https://farm.example/dut-7/secrets',
      poweroffDelay: 15,
    });
    expect(config.ifaces).toEqual([
      {
        name: 'eth1',
        addresses: ['192.168.8.2/24'],
        nameservers: ['192.168.8.1', '9.9.9.9'],
        routes: [{ network: '10.42.0.0/16', gateway: '192.168.8.1' }],
        forward: true,
        dhcp: false,
      },
    ]);
    expect(config.volumes[0]).toMatchObject({
      name: 'job-7',
      pullFrom: 'farm/jobs/7',
      pushTo: 'farm/jobs/7',
      pullOn: ['pipeline_start'],
      pushOn: ['changes'],
      exclude: ['*.tmp', 'cache/*'],
      expiration: 'pipeline_end',
      overwrite: true,
      remove: true,
    });
    expect(config.volumes[1]).toMatchObject({ name: 'ref', filesystem: 'nfs', preserve: true, pullOn: [], pushOn: [] });
    expect(config.filesystems).toEqual([{ name: 'nfs', type: 'nfs', src: '10.0.0.1:/export', opts: ['ro', 'vers=4'] }]);
  });

  it('reads a SYSLINUX-era line: b2c.container with upstream spelling, ip= from the kernel', () => {
    const config = parseCmdline('initrd=initramfs.linux_amd64.cpio.xz ip=dhcp b2c.container="docker://registry.local/job:1" b2c.ntp_peer=10.0.0.1');
    expect(config.errors).toEqual([]);
    expect(config.ipKernelConfig).toBe('dhcp');
    expect(config.ntpPeer).toEqual({ kind: 'host', host: '10.0.0.1' });
  });

  it('has the documented defaults', () => {
    expect(configToJson(parseCmdline('console=ttyS0'))).toEqual({
      containers: [],
      postContainers: [],
      services: [],
      pipefail: false,
      cacheDevice: { kind: 'none' },
      swap: null,
      ntpPeer: { kind: 'none' },
      ifaces: [],
      ipKernelConfig: null,
      hostname: 'boot2container',
      keymap: null,
      modules: [],
      extraArgsUrl: null,
      minio: [],
      volumes: [],
      filesystems: [],
      nbds: [],
      storage: { additionalImageStores: [] },
      shutdownCmd: 'poweroff -f',
      rebootCmd: 'reboot -f',
      proxy: null,
      poweroffDelay: 0,
      warnings: [],
      errors: [],
    });
  });

  it('reads every cache device form', () => {
    const cache = (value: string): unknown => parseCmdline(`b2c.cache_device=${value} b2c.filesystem="fast,src=/dev/nvme0n1p3"`).cacheDevice;
    expect(cache('none')).toEqual({ kind: 'none' });
    expect(cache('reset')).toEqual({ kind: 'reset' });
    expect(cache('/dev/sda2')).toEqual({ kind: 'device', path: '/dev/sda2' });
    expect(cache('fast')).toEqual({ kind: 'filesystem', name: 'fast' });
  });

  it('marks secrets so that nothing prints them, and warns when they sit on the kernel line', () => {
    const config = parseCmdline(
      `b2c.minio="farm,https://s3.farm:9000,AKIAKEY,verysecret" b2c.volume="v,mirror=farm/b/p,fscrypt_key=c2VjcmV0a2V5,encrypt_key=hush"`,
    );
    expect(config.errors).toEqual([]);
    const printed = JSON.stringify(configToJson(config)) + String(config.minio[0]?.secretKey) + String(config.volumes[0]?.fscryptKey);
    for (const secret of ['AKIAKEY', 'verysecret', 'c2VjcmV0a2V5', 'hush']) expect(printed).not.toContain(secret);
    expect(config.minio[0]?.secretKey.reveal()).toBe('verysecret');
    expect((configToJson(config) as { volumes: Array<{ encrypted: boolean }> }).volumes[0]?.encrypted).toBe(true);
    expect(config.warnings.filter((warning) => warning.includes('b2c.extra_args_url downloads'))).toHaveLength(2);
    expect(parseCmdline(`b2c.minio="farm,https://s3.farm:9000,A,B"`, { source: 'extra_args' }).warnings).toEqual([]);
  });

  it('warns before the boot that a volume with encrypt_key will be refused', () => {
    const config = parseCmdline(`b2c.minio="farm,https://s3.farm:9000,A,B" b2c.volume="v,mirror=farm/b/p,encrypt_key=hush"`, { source: 'extra_args' });
    expect(config.warnings).toEqual([
      'b2c.volume=v: encrypt_key (S3 server-side encryption with a customer key) is not supported by this b2c: ' +
        'the volume will be refused at boot rather than synced in the clear',
    ]);
  });
});

describe('forms a farm already boots with are carried out, with a warning', () => {
  const cases: Array<[string, (config: B2cConfig) => unknown, unknown, RegExp]> = [
    [
      'b2c.insmods=amdgpu.ko,/lib/modules/x/r8169.ko.xz',
      (config) => config.modules,
      ['amdgpu', 'r8169'],
      /^b2c.insmods: amdgpu.ko is a file name: the module amdgpu is loaded$/,
    ],
    ['b2c.hostname=dut_42', (config) => config.hostname, 'dut_42', /^b2c.hostname=dut_42 is not a DNS host name/],
    [
      'b2c.ntp_peer=ntp_server',
      (config) => config.ntpPeer,
      { kind: 'host', host: 'ntp_server' },
      /^b2c.ntp_peer=ntp_server is not a DNS host name: asked as given/,
    ],
    [
      'b2c.iface=eth0,address=10.0.0.2,colour=blue',
      (config) => config.ifaces[0]?.addresses,
      ['10.0.0.2/32'],
      /address=10.0.0.2 has no prefix length: 10.0.0.2\/32 is assumed/,
    ],
    [
      'b2c.iface=eth0,address=10.0.0.2/24,colour=blue',
      (config) => config.ifaces[0]?.addresses,
      ['10.0.0.2/24'],
      /^b2c.iface=eth0: unknown option colour ignored/,
    ],
    ['b2c.iface=eth0,dhcp,mtu=9000', (config) => config.ifaces[0]?.mtu, 9000, /^$/],
    ['b2c.volume="v,colour=blue"', (config) => config.volumes[0]?.name, 'v', /^b2c.volume=v: unknown option colour ignored$/],
    ['b2c.filesystem="f,src=/dev/sdb1,colour=blue"', (config) => config.filesystems[0]?.src, '/dev/sdb1', /^b2c.filesystem=f: unknown option colour ignored/],
    [
      'b2c.poweroff_delay=soon',
      (config) => config.poweroffDelay,
      0,
      /^b2c.poweroff_delay=soon is not a number of seconds \(e.g. b2c.poweroff_delay=5\): no delay$/,
    ],
  ];
  it.each(cases)('%s', (line, read, value, warning) => {
    const config = parseCmdline(line);
    expect(config.errors).toEqual([]);
    expect(read(config)).toEqual(value);
    if (warning.source === '^$') expect(config.warnings).toEqual([]);
    else expect(config.warnings.some((text) => warning.test(text))).toBe(true);
  });
});

describe('errors name the parameter and what would be valid', () => {
  const cases: Array<[string, RegExp]> = [
    [`b2c.container="docker://i sh -c 'x"`, /^b2c.container: a single quote is not closed/],
    ['b2c.container="-ti"', /^b2c.container: no image/],
    ['b2c.service="-v /a:/b"', /^b2c.service: no image/],
    ['b2c.container', /^b2c.container needs a value/],
    ['b2c.cache_device=/tmp/x', /^b2c.cache_device=\/tmp\/x is not valid/],
    ['b2c.cache_device=fast', /^b2c.cache_device=fast: no b2c.filesystem has that name/],
    ['b2c.swap=lots', /^b2c.swap=lots is not a size or a device/],
    ['b2c.swap=8G,swappiness=300', /^b2c.swap: swappiness=300 is not a number from 0 to 200/],
    ['b2c.swap=/dev/../sda', /^b2c.swap=\/dev\/..\/sda is not a device path/],
    ['b2c.swap=999999T', /^b2c.swap=999999T is more than a swap area can be \(16T/],
    ['b2c.container="docker://"', /^b2c.container: docker:\/\/ names no image in "docker:\/\/": write the reference after it/],
    ['b2c.run="-ti oci: sh"', /^b2c.run: oci: names no image/],
    ['b2c.cache_device=/dev/../../etc', /^b2c.cache_device=\/dev\/..\/..\/etc is not a device path: give one below \/dev without \. or \.\./],
    ['b2c.cache_device=/dev/disk/by-id/./x', /is not a device path/],
    ['b2c.ntp_peer=not_a_host!', /^b2c.ntp_peer=not_a_host! is not valid/],
    ['b2c.shutdown_cmd=', /^b2c.shutdown_cmd: it is empty/],
    ['b2c.hostname=-bad-', /^b2c.hostname=-bad- is not a host name/],
    ['b2c.extra_args_url=ftp://x/y', /^b2c.extra_args_url: ftp:\/\/x\/y is not an http/],
    ['b2c.minio="farm,https://s3:9000,key"', /^b2c.minio needs four fields/],
    ['b2c.minio="farm,s3:9000,key,secret"', /is not an http:\/\/ or https:\/\/ URL/],
    ['b2c.filesystem="data,type=ext4"', /^b2c.filesystem=data needs src=/],
    ['b2c.volume="v,expiration=tomorrow"', /^b2c.volume=v: expiration=tomorrow is not valid; use never or pipeline_end/],
    ['b2c.volume="v,mirror=farm/b,pull_on=boot"', /^b2c.volume=v: pull_on=boot is not a condition/],
    ['b2c.volume="v,push_on=pipeline_end"', /^b2c.volume=v: push_on needs push_to= or mirror=/],
    ['b2c.volume="v,mirror=nowhere/b/p"', /^b2c.volume=v: no b2c.minio defines the alias nowhere$/],
    ['b2c.volume="v,fscrypt_key=not base64!"', /fscrypt_key must be base64/],
    ['b2c.iface=eth0,address=banana', /^b2c.iface=eth0: address=banana is not an IP address/],
    ['b2c.iface=eth0,mtu=20', /^b2c.iface=eth0: mtu=20 is not an MTU/],
    ['b2c.iface=eth0,route=10.0.0.0/8', /^b2c.iface=eth0: route=10.0.0.0\/8 is not NETWORK\/PREFIX:GATEWAY/],
    ['b2c.iface=eth0,dhcp,address=10.0.0.2/24', /either dhcp \(or auto\) or address=/],
    ['b2c.modules=e1000e,bad/name', /^b2c.modules: "bad\/name" is not a module name/],
  ];
  it.each(cases)('%s', (line, message) => {
    const config = parseCmdline(line);
    expect(config.errors.length).toBeGreaterThan(0);
    expect(config.errors[0]).toMatch(message);
  });
});

describe('warnings keep the line', () => {
  it('names the closest known option for a typo', () => {
    expect(parseCmdline('b2c.contianer=docker://i').warnings).toEqual(['unknown option b2c.contianer: ignored (did you mean b2c.container?)']);
    expect(parseCmdline('b2c.cache_devise=auto').warnings[0]).toMatch(/did you mean b2c.cache_device\?/);
    expect(parseCmdline('b2c.zzzzzzzzzzzzzzzz=1').warnings).toEqual(['unknown option b2c.zzzzzzzzzzzzzzzz: ignored']);
  });

  it('says that changes makes other push conditions moot', () => {
    const config = parseCmdline('b2c.minio="s3,http://127.0.0.1:9000,a,b" b2c.volume="v,mirror=s3/b,push_on=changes|container_end"');
    expect(config.volumes[0]?.pushOn).toEqual(['changes']);
    expect(config.warnings).toContain('b2c.volume=v: push_on=changes already syncs continuously and at pipeline end; container_end ignored');
  });

  it('warns that b2c.ntp_peer=none leaves the clock alone, and about a single option given twice', () => {
    expect(parseCmdline('b2c.ntp_peer=none').warnings[0]).toMatch(/clock is not set/);
    const config = parseCmdline('b2c.hostname=a b2c.hostname=b');
    expect(config.hostname).toBe('b');
    expect(config.warnings).toEqual(['b2c.hostname is given more than once: the last one counts']);
  });
});

describe('parseCmdlineWithExtraArgs', () => {
  const kernel = 'console=ttyS0 b2c.extra_args_url=https://farm/dut-7 b2c.hostname=dut b2c.container=docker://a b2c.volume=job,mirror=s3/jobs/42';

  it('adds repeated options after the kernel line’s, and lets a later single option win', () => {
    const config = parseCmdlineWithExtraArgs(kernel, 'b2c.container=docker://b\nb2c.hostname=dut-7 b2c.minio="s3,https://s3.farm,ACCESS,SECRET"\n');
    expect(config.errors).toEqual([]);
    expect(config.containers.map((step) => step.image)).toEqual(['docker://a', 'docker://b']);
    expect(config.hostname).toBe('dut-7');
    expect(config.minio[0]?.alias).toBe('s3');
    // Setting again what the kernel line set is what the file is for; twice within the file is still worth a word.
    expect(config.warnings.join('\n')).not.toMatch(/more than once/);
    expect(parseCmdlineWithExtraArgs(kernel, 'b2c.hostname=a b2c.hostname=b').warnings).toContain('b2c.hostname is given more than once: the last one counts');
  });

  it('resolves what the kernel line left to the extra arguments, and makes a still missing alias an error', () => {
    expect(parseCmdline(kernel).errors).toEqual([]);
    expect(parseCmdline(kernel).warnings.join('\n')).toMatch(/unless b2c.extra_args_url defines it/);
    expect(parseCmdlineWithExtraArgs(kernel, '').errors).toEqual(['b2c.volume=job: no b2c.minio defines the alias s3']);
  });

  it('does not warn about secrets that came through the extra arguments, but still about those on the kernel line', () => {
    const fromExtra = parseCmdlineWithExtraArgs(kernel, 'b2c.minio="s3,https://s3.farm,ACCESS,SECRET"');
    expect(fromExtra.warnings.join('\n')).not.toMatch(/secret/);
    const onKernel = parseCmdlineWithExtraArgs(`${kernel} b2c.minio="s3,https://s3.farm,ACCESS,SECRET"`, '');
    expect(onKernel.warnings.join('\n')).toMatch(/b2c.minio=s3 puts a secret on the kernel command line/);
  });

  it('ignores what only the kernel line may set, and runs a quote left open to the end of its line', () => {
    const config = parseCmdlineWithExtraArgs(kernel, 'b2c.extra_args_url=http://elsewhere ip=dhcp');
    expect(config.extraArgsUrl).toBe('https://farm/dut-7');
    expect(config.ipKernelConfig).toBeUndefined();
    expect(config.warnings.filter((warning) => /only the kernel/.test(warning))).toHaveLength(2);
    const open = parseCmdlineWithExtraArgs(kernel, 'b2c.container="docker://a\nb2c.pipefail');
    expect(open.warnings).toContain('the extra arguments leave a double quote open on line 1: that option takes the rest of the line');
    expect(open.containers.map((step) => step.image)).toContain('docker://a');
    expect(open.pipefail).toBe(true);
  });
});

describe('parseCmdline never throws', () => {
  const pieces = fc.constantFrom(
    'b2c.container=',
    'b2c.volume=',
    'b2c.minio=',
    'b2c.iface=',
    'b2c.swap=',
    'b2c.cache_device=',
    '"',
    "'",
    '\\',
    ' ',
    ',',
    '=',
    '|',
    'docker://i',
    '-v',
    '/dev/',
    '\n',
    '\t',
    'b2c.',
    ':',
    '$(',
    '%',
  );
  const assertConfig = (line: string): void => {
    const config = parseCmdline(line);
    expect(Array.isArray(config.errors)).toBe(true);
    expect(Array.isArray(config.warnings)).toBe(true);
    expect(() => JSON.stringify(configToJson(config))).not.toThrow();
  };

  it('on any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (line) => assertConfig(line)),
      { numRuns: 2000 },
    );
  });

  it('on lines made of the parser’s own delimiters and option names', () => {
    fc.assert(
      fc.property(
        fc.array(pieces, { maxLength: 80 }).map((parts) => parts.join('')),
        (line) => assertConfig(line),
      ),
      { numRuns: 3000 },
    );
  });

  it('on very long lines', () => {
    assertConfig(`b2c.container="docker://i ${"sh -c 'x' ".repeat(20000)}"`);
    assertConfig('"'.repeat(100001));
  });
});

describe('closestName', () => {
  it('suggests only plausible corrections', () => {
    expect(closestName('b2c.pipefial', ['b2c.pipefail', 'b2c.run'])).toBe('b2c.pipefail');
    expect(closestName('b2c.x', ['b2c.pipefail'])).toBeUndefined();
  });
});

describe('bad values of every option', () => {
  it('give errors that name the option', () => {
    let errors = 0;
    fc.assert(
      fc.property(fc.constantFrom(...KNOWN_OPTIONS), fc.string({ maxLength: 30 }), (option, value) => {
        const config = parseCmdline(`${option}="${value.replace(/["\\]/g, '')}"`);
        errors += config.errors.length;
        for (const error of config.errors) expect(error).toContain(option);
        expect(() => explainConfig(config)).not.toThrow();
      }),
      { numRuns: 5000 },
    );
    // Random values are mostly wrong: the property was checked on many errors.
    expect(errors).toBeGreaterThan(1000);
  });

  it('never print a secret, however the quoting and commas around it go wrong', () => {
    const noise = fc.string({ maxLength: 12, unit: fc.constantFrom('"', "'", ',', ' ', '=', '\\', 'a', '/', ':', '\n') });
    // A key may hold a comma, which splits it: neither half may be printed.
    const secret = fc
      .tuple(fc.stringMatching(/^[A-Za-z0-9]{16}$/), fc.option(fc.stringMatching(/^[A-Za-z0-9]{12}$/)))
      .map(([first, second]) => (second === null ? `Zq${first}` : `Zq${first},Zr${second}`));
    const lines = [
      (a: string, b: string, c: string, token: string) => `b2c.minio="${a}s3,http://s3:9000,${b}key,${token}${c}"`,
      (a: string, b: string, c: string, token: string) => `b2c.minio="s3,http://s3:9000,${a}${token}${b},secret${c}"`,
      (a: string, b: string, c: string, token: string) => `b2c.volume="v${a},mirror=s3/b,fscrypt_key=${token}${b}"${c}`,
      (a: string, b: string, c: string, token: string) => `b2c.volume="v,encrypt_key=${a}${token}${b}${c}`,
    ];
    fc.assert(
      fc.property(noise, noise, noise, secret, fc.constantFrom(...lines), (a, b, c, token, form) => {
        const config = parseCmdline(form(a, b, c, token));
        const printed = [...config.errors, ...config.warnings, ...explainConfig(config), JSON.stringify(configToJson(config))].join('\n');
        for (const part of token.split(',')) expect(printed).not.toContain(part);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('b2c.swap as ci-tron writes it', () => {
  it('takes a size or a device, each with a swappiness', () => {
    expect(parseCmdline('b2c.swap=8G,swappiness=60 b2c.cache_device=auto')).toMatchObject({
      swap: { kind: 'file', bytes: 8 * 1024 ** 3, swappiness: 60 },
      errors: [],
      warnings: [],
    });
    expect(parseCmdline('b2c.swap=/dev/sdb2,swappiness=0').swap).toEqual({ kind: 'device', path: '/dev/sdb2', swappiness: 0 });
    expect(parseCmdline('b2c.swap=512M').swap).toEqual({ kind: 'file', bytes: 512 * 1024 ** 2 });
  });

  it('warns of an NBD swap no b2c.nbd connects, of an empty swappiness and of unknown options, and keeps the swap', () => {
    expect(parseCmdline('b2c.swap=/dev/nbd1').warnings).toEqual(['b2c.swap=/dev/nbd1: no b2c.nbd connects it, so the machine gets no swap']);
    const config = parseCmdline('b2c.swap=4G,swappiness=,priority=5 b2c.cache_device=auto');
    expect(config.errors).toEqual([]);
    expect(config.swap).toEqual({ kind: 'file', bytes: 4 * 1024 ** 3 });
    expect(config.warnings).toEqual([
      "b2c.swap: swappiness= is empty (a template left it unset?): the kernel's own is kept",
      'b2c.swap: unknown option priority ignored; b2c knows swappiness=',
    ]);
  });
});

describe('a swap device beside the cache and filesystems', () => {
  it('refuses one that shares a device with the cache or a b2c.filesystem, and takes neighbouring partitions', () => {
    expect(parseCmdline('b2c.swap=/dev/sdb b2c.cache_device=/dev/sdb').errors).toEqual([
      'b2c.swap=/dev/sdb and b2c.cache_device=/dev/sdb share a device: mkswap would erase the cache at each boot; give each its own',
    ]);
    expect(parseCmdline('b2c.swap=/dev/sdb2 b2c.cache_device=/dev/sdb').errors).toHaveLength(1);
    expect(parseCmdline('b2c.swap=/dev/nvme0n1 b2c.cache_device=/dev/nvme0n1p1').errors).toHaveLength(1);
    expect(parseCmdline('b2c.swap=/dev/sdb b2c.filesystem=data,src=/dev/sdb1').errors).toEqual([
      'b2c.swap=/dev/sdb and b2c.filesystem=data (/dev/sdb1) share a device: mkswap would erase it at each boot',
    ]);
    // Other partitions of the same disk, and disks whose names only begin alike, are other storage.
    expect(parseCmdline('b2c.swap=/dev/sdb2 b2c.cache_device=/dev/sdb1 b2c.filesystem=data,src=/dev/sdb3').errors).toEqual([]);
    const nbds = 'b2c.nbd=/dev/nbd1,host=gw b2c.nbd=/dev/nbd10,host=gw';
    expect(parseCmdline(`${nbds} b2c.swap=/dev/nbd1 b2c.cache_device=/dev/nbd10`).errors).toEqual([]);
    expect(parseCmdline(`${nbds} b2c.swap=/dev/nbd1 b2c.cache_device=/dev/nbd1p1`).errors).toHaveLength(1);
  });
});

describe('lines rendered from templates', () => {
  it('reads an extra-arguments file with a #!jinja2 first line, and warns of a quote left open', () => {
    const config = parseCmdlineWithExtraArgs(
      'b2c.extra_args_url=http://ci-gateway/dut b2c.cache_device=auto',
      '#!jinja2\nb2c.container="-ti docker://ci-gateway:8002/mesa:1 sh -c true\nb2c.pipefail\n',
    );
    expect(config.errors).toEqual([]);
    expect(config.containers.map((step) => step.argv)).toEqual([['-ti', 'docker://ci-gateway:8002/mesa:1', 'sh', '-c', 'true']]);
    expect(config.pipefail).toBe(true);
    expect(config.warnings).toEqual(['the extra arguments leave a double quote open on line 2: that option takes the rest of the line']);
  });

  it("warns of the kernel line's open quote and runs the value to the end", () => {
    const config = parseCmdline('quiet b2c.container="docker://r/i:1 sh -c true');
    expect(config.errors).toEqual([]);
    expect(config.containers[0]?.command).toEqual(['sh', '-c', 'true']);
    expect(config.warnings).toEqual(['the command line leaves a double quote open: its last option takes the rest of the line, as the kernel reads it']);
  });
});
