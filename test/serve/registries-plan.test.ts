// The plan of `b2c serve`'s registries, without running them: options read, docker-registry's and nginx's configurations written, their logs read.

import { describe, expect, it } from 'vitest';
import { parseCmdline } from '../../src/cmdline/parse.ts';
import {
  BLOB_LOCK_SECONDS,
  goDurationSeconds,
  imageRegistry,
  nameServers,
  nginxConfig,
  parseMachineRequest,
  parseRegistryCacheOption,
  parseRegistryPort,
  parseUpstreamAccess,
  portClashes,
  readRegistryCredentials,
  registryLogProblem,
  upstreamWarnings,
  type UpstreamHopPlan,
} from '../../src/serve/registries-plan.ts';

const digest = `sha256:${'0123456789abcdef'.repeat(4)}`;

describe('the --registry-cache option', () => {
  it('reads a port and an upstream origin', () => {
    expect(parseRegistryCacheOption('8002=https://registry.freedesktop.org')).toEqual({ port: 8002, upstream: 'https://registry.freedesktop.org' });
    expect(parseRegistryCacheOption('5000=http://10.0.0.2:5000')).toEqual({ port: 5000, upstream: 'http://10.0.0.2:5000' });
  });

  it('drops a trailing slash from the upstream', () => {
    expect(parseRegistryCacheOption('8002=https://registry.freedesktop.org/')).toEqual({ port: 8002, upstream: 'https://registry.freedesktop.org' });
  });

  it('refuses a value without an equals sign', () => {
    const answer = parseRegistryCacheOption('https://registry.freedesktop.org');
    expect(typeof answer).toBe('string');
    expect(answer).toContain('PORT=UPSTREAM_URL');
  });

  it('refuses a port that is not a TCP port', () => {
    for (const port of ['0', '70000', 'abc']) {
      const answer = parseRegistryCacheOption(`${port}=https://registry.freedesktop.org`);
      expect(typeof answer, port).toBe('string');
      if (port !== 'abc') expect(answer, port).toContain(`${port} is not a TCP port`);
    }
  });

  it('refuses an upstream that is not a URL, or not reached over http or https', () => {
    const notUrl = parseRegistryCacheOption('8002=registry freedesktop');
    expect(typeof notUrl).toBe('string');
    expect(notUrl).toContain('is not a URL');
    const ftp = parseRegistryCacheOption('8002=ftp://registry.freedesktop.org');
    expect(typeof ftp).toBe('string');
    expect(ftp).toContain('not ftp:');
  });

  it('refuses a login in the URL, sending it to --registry-credentials', () => {
    const answer = parseRegistryCacheOption('8002=https://someone:hunter2@registry.example.org');
    expect(typeof answer).toBe('string');
    expect(answer).toContain('--registry-credentials');
    expect(answer).not.toContain('hunter2');
    // Without its scheme, the login reads as one: still never repeated.
    expect(parseRegistryCacheOption('8002=someone:hunter2@registry.example.org')).not.toContain('hunter2');
    expect(parseRegistryCacheOption('8002=https://bot:se/cret@registry.example.org')).not.toContain('se/cret');
    expect(readRegistryCredentials('"https://u:hunter2@a.org":\n  username: u\n  password: p\n').errors.join(' ')).not.toContain('hunter2');
  });

  it('refuses an upstream with a path, a query or a fragment', () => {
    for (const url of ['https://registry.freedesktop.org/v2', 'https://registry.freedesktop.org/?a=1', 'https://registry.freedesktop.org/#top']) {
      const answer = parseRegistryCacheOption(`8002=${url}`);
      expect(typeof answer, url).toBe('string');
      expect(answer, url).toContain('without a path');
    }
  });
});

describe('the --registry option', () => {
  it('reads a TCP port', () => {
    expect(parseRegistryPort('5000')).toBe(5000);
    expect(parseRegistryPort('1')).toBe(1);
    expect(parseRegistryPort('65535')).toBe(65535);
  });

  it('refuses anything else, saying why', () => {
    for (const text of ['0', '65536', '-1', '5000a', '', ' 5000', '123456'])
      expect(parseRegistryPort(text), text).toBe(`${text} is not a TCP port (1 to 65535)`);
  });
});

describe('ports given twice', () => {
  const caches = [
    { port: 8002, upstream: 'https://registry.freedesktop.org' },
    { port: 8003, upstream: 'https://registry-1.docker.io' },
  ];

  it('names nothing when every port is given once', () => {
    expect(portClashes(caches, [5000], new Map([[8080, '--http-port 8080']]))).toEqual([]);
  });

  it('names a port given to a cache and to a plain registry', () => {
    expect(portClashes(caches, [8003, 5000], new Map())).toEqual([
      'port 8003 is given to --registry-cache 8003=https://registry-1.docker.io and to --registry 8003',
    ]);
  });

  it('names a port given to a cache and to the HTTP server', () => {
    expect(portClashes(caches, [], new Map([[8002, '--http-port 8002']]))).toEqual([
      'port 8002 is given to --http-port 8002 and to --registry-cache 8002=https://registry.freedesktop.org',
    ]);
  });

  it('names a port given twice to plain registries once', () => {
    expect(portClashes([], [5000, 5000], new Map())).toEqual(['port 5000 is given to --registry 5000 and to --registry 5000']);
  });
});

describe('the credentials file', () => {
  it('reads a login for each upstream, by its origin', () => {
    const reading = readRegistryCredentials(
      [
        'https://registry.freedesktop.org/:',
        '  username: mesa-ci',
        '  password: first-secret',
        '"https://registry-1.docker.io":',
        '  username: farm',
        '  password: second-secret',
      ].join('\n'),
    );
    expect(reading.errors).toEqual([]);
    expect([...reading.credentials]).toEqual([
      ['https://registry.freedesktop.org', { username: 'mesa-ci', password: 'first-secret' }],
      ['https://registry-1.docker.io', { username: 'farm', password: 'second-secret' }],
    ]);
  });

  it('reads JSON, which is YAML too', () => {
    const reading = readRegistryCredentials(JSON.stringify({ 'https://registry.example.org': { username: 'u', password: 'p' } }));
    expect(reading.errors).toEqual([]);
    expect(reading.credentials.get('https://registry.example.org')).toEqual({ username: 'u', password: 'p' });
  });

  it('refuses an entry without a password, naming the entry and not the other password', () => {
    const reading = readRegistryCredentials(
      ['https://registry.example.org:', '  username: someone', 'https://other.example.org:', '  username: u', '  password: hunter2'].join('\n'),
    );
    expect(reading.errors).toEqual(['https://registry.example.org: give both username and password, as text']);
    expect(reading.credentials.has('https://registry.example.org')).toBe(false);
    expect(reading.credentials.get('https://other.example.org')).toEqual({ username: 'u', password: 'hunter2' });
  });

  it('refuses a password that is not text, without saying it', () => {
    const reading = readRegistryCredentials('https://registry.example.org:\n  username: someone\n  password: 271828\n');
    expect(reading.errors).toEqual(['https://registry.example.org: give both username and password, as text']);
    expect(reading.errors.join('\n')).not.toContain('271828');
  });

  it('refuses a root that is not a mapping', () => {
    for (const text of ['- https://registry.example.org\n- hunter2\n', 'hunter2\n', '']) {
      const reading = readRegistryCredentials(text);
      expect(reading.errors, text).toEqual(['give a mapping from each upstream URL to its username and password']);
      expect(reading.credentials.size, text).toBe(0);
    }
  });

  it('refuses a key that is not an upstream URL, naming the key and not the password', () => {
    const reading = readRegistryCredentials('registry.example.org:\n  username: someone\n  password: hunter2\n');
    expect(reading.errors).toHaveLength(1);
    expect(reading.errors[0]).toContain('registry.example.org');
    expect(reading.errors[0]).toContain('is not a URL');
    expect(reading.errors[0]).not.toContain('hunter2');
    expect(reading.credentials.size).toBe(0);
  });

  it('says a file that does not parse without quoting its passwords', () => {
    for (const text of [
      'https://registry.example.org:\n  username: someone\n  password: "hunter2\n',
      'https://registry.example.org:\n  username: someone\n  password: hunter2\nhttps://registry.example.org:\n  username: someone\n  password: hunter2\n',
    ]) {
      const reading = readRegistryCredentials(text);
      expect(reading.errors, text).toHaveLength(1);
      expect(reading.errors[0], text).toMatch(/^the file does not parse: /);
      expect(reading.errors[0], text).not.toContain('hunter2');
    }
  });
});

describe("nginx's configuration", () => {
  const hops: UpstreamHopPlan[] = [
    {
      port: 40001,
      upstream: 'https://registry.freedesktop.org',
      cacheDir: '/var/cache/b2c/nginx/8002',
      credentials: { username: 'mesa-ci', password: 'hunter2:x' },
    },
    { port: 40002, upstream: 'http://10.0.0.2:5000', cacheDir: '/var/cache/b2c/nginx/8003' },
  ];
  const config = nginxConfig('/run/b2c/registries', hops, 41000, []);

  /** The server block of the hop on PORT, split into its locations by the line that opens each. */
  const serverOf = (text: string, port: number): { whole: string; blobs: string; storage: string; rest: string } => {
    const whole = text.split('\n  server {\n').find((part) => part.startsWith(`    listen 127.0.0.1:${port};`));
    if (whole === undefined) throw new Error(`no server listens on ${port}`);
    const locations = whole.split('\n    location ');
    const find = (start: string): string => {
      const found = locations.find((location) => location.startsWith(start));
      if (found === undefined) throw new Error(`no location ${start} on ${port}`);
      return found;
    };
    return { whole, blobs: find('~ "^/v2/.+/blobs/sha256:'), storage: find(`@storage_${port} {`), rest: find('/ {') };
  };

  it('has one server per hop on the loopback, each with its own cache zone', () => {
    expect(config.match(/^ {2}server \{$/gm)).toHaveLength(2);
    for (const hop of hops) {
      expect(config).toContain(`    listen 127.0.0.1:${hop.port};\n`);
      expect(config).toContain(`  proxy_cache_path ${hop.cacheDir} levels=1:2 keys_zone=blobs_${hop.port}:10m inactive=1h use_temp_path=off;`);
      const server = serverOf(config, hop.port);
      expect(server.blobs).toContain(`proxy_cache blobs_${hop.port};`);
      expect(server.storage).toContain(`proxy_cache blobs_${hop.port};`);
      expect(server.whole).not.toContain(`proxy_cache blobs_${hop.port === 40001 ? 40002 : 40001};`);
    }
  });

  it('fetches each blob once, under a lock held as long as the longest fetch, keyed by its digest whatever the repository', () => {
    for (const hop of hops) {
      const server = serverOf(config, hop.port);
      for (const location of [server.blobs, server.storage]) {
        expect(location).toContain('proxy_cache_lock on;');
        expect(location).toContain('proxy_cache_key $blob_digest;');
        expect(location).toContain(`proxy_cache_lock_timeout ${BLOB_LOCK_SECONDS}s;`);
        expect(location).toContain(`proxy_read_timeout ${BLOB_LOCK_SECONDS}s;`);
      }
    }
    expect(config).toContain('  map $uri $blob_digest { "~/blobs/(?<digest_in_uri>sha256:[0-9a-f]{64})$" $digest_in_uri; default $uri; }');
  });

  it('follows a redirect to the storage itself, without the login', () => {
    for (const hop of hops) {
      const server = serverOf(config, hop.port);
      expect(server.blobs).toContain(`error_page 301 302 303 307 308 = @storage_${hop.port};`);
      expect(server.storage).toContain(`proxy_pass $storage_${hop.port};`);
      expect(server.storage).toContain('proxy_set_header Authorization "";');
      expect(server.storage).not.toContain(`$authorization_${hop.port}`);
      // A redirect to a path is made absolute on the upstream.
      expect(config).toContain(
        `map $upstream_http_location $storage_${hop.port} { ~^/ ${hop.upstream}$upstream_http_location; default $upstream_http_location; }`,
      );
    }
  });

  it("keeps a blob whatever the caching headers of the upstream or its storage say, and lends the hop's login to pulls only", () => {
    for (const hop of hops) {
      const server = serverOf(config, hop.port);
      for (const part of [server.blobs, server.storage]) expect(part).toMatch(/proxy_ignore_headers [^;]*Cache-Control[^;]*Expires[^;]*Set-Cookie/);
      expect(server.blobs).toContain('limit_except GET HEAD { deny all; }');
      expect(config).toMatch(new RegExp(`listen 127\\.0\\.0\\.1:${hop.port};[\\s\\S]*location = /\\.b2c-ready \\{ return 204; \\}`));
    }
  });

  it('passes manifests and everything else straight through, never from its cache', () => {
    for (const hop of hops) {
      const rest = serverOf(config, hop.port).rest;
      expect(rest).toContain(`set $upstream ${hop.upstream};`);
      expect(rest).toContain('proxy_pass $upstream;');
      expect(rest).toContain('proxy_buffering off;');
      expect(rest).not.toContain('proxy_cache');
    }
  });

  it('names the upstream host and checks its certificate only when the upstream is reached over https', () => {
    const https = serverOf(config, 40001);
    const http = serverOf(config, 40002);
    expect(https.blobs).toContain('proxy_set_header Host registry.freedesktop.org;');
    expect(http.blobs).toContain('proxy_set_header Host 10.0.0.2:5000;');
    for (const location of [https.blobs, https.rest]) {
      expect(location).toContain('proxy_ssl_verify on;');
      expect(location).toContain('proxy_ssl_server_name on;');
      expect(location).toContain('proxy_ssl_trusted_certificate /etc/ssl/certs/ca-certificates.crt;');
    }
    for (const location of [http.blobs, http.rest]) expect(location).not.toContain('proxy_ssl');
    // The storage a redirect names is checked whatever the upstream: it is another host.
    expect(http.storage).toContain('proxy_ssl_verify on;');
  });

  it("sends a hop's login to an upstream that asks none of its own, and docker-registry's own login otherwise", () => {
    const basic = Buffer.from('mesa-ci:hunter2:x').toString('base64');
    expect(config).toContain(`  map $http_authorization $authorization_40001 { "" "Basic ${basic}"; default $http_authorization; }`);
    expect(config).toContain('  map $http_authorization $authorization_40002 { "" ""; default $http_authorization; }');
    expect(serverOf(config, 40001).blobs).toContain('proxy_set_header Authorization $authorization_40001;');
    expect(serverOf(config, 40002).rest).toContain('proxy_set_header Authorization $authorization_40002;');
    expect(config).not.toContain('hunter2');
  });

  it('names resolvers only when given some', () => {
    expect(config).not.toMatch(/^\s*resolver/m);
    const resolved = nginxConfig('/run/b2c/registries', hops, 41000, ['10.0.0.53', '[fd00::53]']);
    expect(resolved).toContain('  resolver 10.0.0.53 [fd00::53] valid=60s;\n');
    expect(resolved).toContain('  resolver_timeout 10s;\n');
  });

  it('logs each request as syslog to the port given, and keeps its files under the work folder', () => {
    expect(config).toContain('  access_log syslog:server=127.0.0.1:41000,tag=b2c,nohostname b2c;');
    expect(config).toContain('pid /run/b2c/registries/nginx.pid;');
    expect(config).toContain('  proxy_temp_path /run/b2c/registries/nginx/proxy;');
    expect(config).toContain('daemon off;');
  });
});

describe('name servers of a resolv.conf', () => {
  it('takes IPv4 addresses as they are and IPv6 addresses in brackets, ignoring everything else', () => {
    const resolvConf = [
      '# Generated by NetworkManager',
      'search example.org',
      'nameserver 10.0.0.53',
      '  nameserver   fd00::53  ',
      '#nameserver 10.9.9.9',
      'options edns0 trust-ad',
      'nameserver 127.0.0.53 # systemd-resolved',
      '',
    ].join('\n');
    expect(nameServers(resolvConf)).toEqual(['10.0.0.53', '[fd00::53]', '127.0.0.53']);
    expect(nameServers('')).toEqual([]);
  });
});

describe("nginx's access lines", () => {
  it('reads a blob fetched from the upstream, summing the bytes received from each upstream asked', () => {
    const line =
      `<190>Dec  6 08:51:54 b2c: {"port":40001,"method":"GET","uri":"/v2/mesa/test-gl/blobs/${digest}","status":200,"bytes":1000,` +
      '"received":"1048900 : 1048576","cache":"MISS","seconds":0.5}';
    expect(parseUpstreamAccess(line)).toEqual({
      port: 40001,
      method: 'GET',
      repository: 'mesa/test-gl',
      kind: 'blob',
      reference: digest,
      status: 200,
      bytes: 1000,
      received: 1048900 + 1048576,
      cache: 'MISS',
      seconds: 0.5,
    });
  });

  it('reads a manifest served from the cache, with nothing received', () => {
    const line =
      '<190>Dec  6 08:51:55 b2c: {"port":40002,"method":"HEAD","uri":"/v2/a/b/manifests/latest","status":200,"bytes":0,' +
      '"received":"-","cache":"","seconds":0.001}';
    expect(parseUpstreamAccess(line)).toMatchObject({ port: 40002, method: 'HEAD', repository: 'a/b', kind: 'manifest', reference: 'latest', received: 0 });
  });

  it('leaves out requests for neither a blob nor a manifest, and lines that are not JSON', () => {
    const root = '<190>Dec  6 08:51:54 b2c: {"port":40001,"method":"GET","uri":"/v2/","status":401,"bytes":87,' + '"received":"87","cache":"","seconds":0.1}';
    expect(parseUpstreamAccess(root)).toBeUndefined();
    expect(parseUpstreamAccess('<190>Dec  6 08:51:54 b2c: {"port":40001,')).toBeUndefined();
    expect(parseUpstreamAccess('nothing to see here')).toBeUndefined();
    expect(parseUpstreamAccess('')).toBeUndefined();
  });
});

describe("docker-registry's request lines", () => {
  const completed =
    'time="2026-12-06T08:56:05.86985Z" level=info msg="response completed" go.version=go1.24.4 http.request.host="127.0.0.1:18002" http.request.id=f844 ' +
    'http.request.method=GET http.request.remoteaddr="10.77.0.103:60136" http.request.uri=/v2/a/b/manifests/1 http.request.useragent=node ' +
    'http.response.contenttype=application/vnd.oci.image.manifest.v1+json http.response.duration=21.437898ms ' +
    'http.response.status=200 http.response.written=400';

  it("reads a machine's request of a manifest, with the machine's address", () => {
    const request = parseMachineRequest(completed);
    expect(request).toMatchObject({ client: '10.77.0.103', method: 'GET', repository: 'a/b', kind: 'manifest', reference: '1', status: 200, bytes: 400 });
    expect(request?.seconds).toBeCloseTo(0.021437898, 9);
  });

  it('reads an IPv6 client without its brackets, and a value with an escape Go writes and JSON lacks without throwing', () => {
    const line =
      'time="x" level=info msg="response completed" http.request.method=GET http.request.remoteaddr="[fd00::5]:6000" ' +
      'http.request.uri=/v2/a/b/manifests/1 http.request.useragent="odd \\x01 agent" http.response.duration=1ms ' +
      'http.response.status=200 http.response.written=2';
    expect(parseMachineRequest(line)?.client).toBe('fd00::5');
    expect(() => registryLogProblem('time="x" level=error msg="bad \\x01 thing"')).not.toThrow();
    expect(registryLogProblem('time="x" level=error msg="bad \\x01 thing"')).toMatchObject({ kind: 'error' });
  });

  it('reads a quoted duration', () => {
    const request = parseMachineRequest(completed.replace('http.response.duration=21.437898ms', 'http.response.duration="739.9µs"'));
    expect(request?.seconds).toBeCloseTo(739.9e-6, 10);
  });

  it('reads a request of a blob', () => {
    const request = parseMachineRequest(completed.replace('/v2/a/b/manifests/1', `/v2/mesa/mesa/test-gl/blobs/${digest}`));
    expect(request).toMatchObject({ repository: 'mesa/mesa/test-gl', kind: 'blob', reference: digest });
  });

  it('leaves out other lines, and requests for neither a blob nor a manifest', () => {
    expect(parseMachineRequest(completed.replace('msg="response completed"', 'msg="authorizing request"'))).toBeUndefined();
    expect(parseMachineRequest(completed.replace('/v2/a/b/manifests/1', '/v2/'))).toBeUndefined();
    expect(parseMachineRequest('time="2026-12-06T08:56:05Z" level=info msg="listening on 127.0.0.1:18002"')).toBeUndefined();
  });
});

describe('Go durations', () => {
  it('reads each unit Go prints, and their sums', () => {
    expect(goDurationSeconds('1m2.5s')).toBeCloseTo(62.5, 12);
    expect(goDurationSeconds('850µs')).toBeCloseTo(850e-6, 12);
    expect(goDurationSeconds('850us')).toBeCloseTo(850e-6, 12);
    expect(goDurationSeconds('12ms')).toBeCloseTo(0.012, 12);
    expect(goDurationSeconds('1h')).toBe(3600);
    expect(goDurationSeconds('1h0m0s')).toBe(3600);
    expect(goDurationSeconds('250ns')).toBeCloseTo(250e-9, 15);
    expect(goDurationSeconds('')).toBe(0);
  });
});

describe("problems in the registries' logs", () => {
  it("says a full disk, from nginx's short write to its cache", () => {
    const line = '2026/12/06 08:56:25 [crit] 12#12: *3 pwritev() "/x/y.0000000001" has written only 32768 of 36864 while reading upstream, client: 127.0.0.1';
    expect(registryLogProblem(line)?.kind).toBe('disk-full');
  });

  it("says a full disk, from docker-registry's error", () => {
    const line =
      'time="2026-12-06T08:56:25Z" level=error msg="response completed with error" err.code=unknown ' +
      'err.message="filesystem: write /var/lib/registry/docker/registry/v2/blobs/sha256/01/data: no space left on device" http.request.method=GET';
    expect(registryLogProblem(line)).toEqual({ kind: 'disk-full', detail: line });
  });

  it('says an upstream nginx could not reach, without its timestamp', () => {
    const line =
      '2026/12/06 08:56:25 [error] 12#12: *7 connect() failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1, ' +
      'server: , request: "GET /v2/ HTTP/1.1", upstream: "http://10.0.0.2:5000/v2/", host: "127.0.0.1:40002"';
    const problem = registryLogProblem(line);
    expect(problem?.kind).toBe('upstream-unreachable');
    expect(problem?.detail).toMatch(/^connect\(\) failed \(111: Connection refused\) while connecting to upstream/);
  });

  it('says an upstream docker-registry could not reach, with its message', () => {
    const line =
      'time="2026-12-06T08:56:25Z" level=error msg="response completed with error" err.code=unknown ' +
      'err.message="Get \\"http://127.0.0.1:40002/v2/\\": dial tcp 10.0.0.2:5000: connect: connection refused" http.request.method=GET';
    expect(registryLogProblem(line)).toEqual({
      kind: 'upstream-unreachable',
      detail: 'response completed with error: Get "http://127.0.0.1:40002/v2/": dial tcp 10.0.0.2:5000: connect: connection refused',
    });
  });

  it('says other errors of either', () => {
    expect(registryLogProblem('2026/12/06 08:56:25 [alert] 12#12: worker process 13 exited on signal 9')).toEqual({
      kind: 'error',
      detail: 'worker process 13 exited on signal 9',
    });
    expect(registryLogProblem('time="2026-12-06T08:56:25Z" level=fatal msg="configuration error: bad storage"')).toEqual({
      kind: 'error',
      detail: 'configuration error: bad storage',
    });
  });

  it('leaves out images that do not exist, informations, warnings, and machines that went away', () => {
    for (const code of ['manifest unknown', 'blob unknown', 'name unknown', 'unauthorized', 'denied'])
      expect(
        registryLogProblem(`time="2026-12-06T08:56:25Z" level=error msg="response completed with error" err.code="${code}" err.message="${code}"`),
        code,
      ).toBeUndefined();
    expect(registryLogProblem('time="2026-12-06T08:56:25Z" level=info msg="redis not configured"')).toBeUndefined();
    expect(registryLogProblem('time="2026-12-06T08:56:25Z" level=warning msg="No HTTP secret provided"')).toBeUndefined();
    expect(
      registryLogProblem('2026/12/06 08:56:25 [warn] 12#12: *3 an upstream response is buffered to a temporary file /x/proxy/1/00/0000000001'),
    ).toBeUndefined();
    expect(
      registryLogProblem(
        `2026/12/06 08:56:25 [error] 12#12: *9 writev() failed (32: Broken pipe) while sending to client, client: 127.0.0.1, server: , ` +
          `request: "GET /v2/a/blobs/${digest} HTTP/1.1", upstream: "https://registry.freedesktop.org/v2/a/blobs/${digest}"`,
      ),
    ).toBeUndefined();
    expect(registryLogProblem('')).toBeUndefined();
  });
});

describe('the registry an image names', () => {
  it('is the first part of the name when it looks like a host', () => {
    expect(imageRegistry('docker://registry.freedesktop.org/mesa/mesa/test:1')).toBe('registry.freedesktop.org');
    expect(imageRegistry('docker://10.77.0.1:8002/mesa/x:2')).toBe('10.77.0.1:8002');
    expect(imageRegistry('docker://localhost/x')).toBe('localhost');
    expect(imageRegistry('registry:5000/tests:42')).toBe('registry:5000');
  });

  it('is none for a name without a registry', () => {
    expect(imageRegistry('docker://alpine')).toBeUndefined();
    expect(imageRegistry('docker://alpine:3.20')).toBeUndefined();
    expect(imageRegistry('docker://library/alpine')).toBeUndefined();
  });
});

describe('steps that pull past the cache', () => {
  const caches = [
    { port: 8002, upstream: 'https://registry.freedesktop.org' },
    { port: 8003, upstream: 'https://registry-1.docker.io' },
  ];

  it('warns of each step naming a cached upstream, with the name through the gateway, and of none through it', () => {
    const config = parseCmdline(
      'b2c.container="docker://registry.freedesktop.org/mesa/mesa/test:1 true" b2c.post_container="docker://10.77.0.1:8002/mesa/x:2 true" ' +
        'b2c.service="docker://docker.io/library/alpine sleep 1"',
    );
    expect(config.errors).toEqual([]);
    expect(config.containers).toHaveLength(1);
    expect(config.postContainers).toHaveLength(1);
    expect(config.services).toHaveLength(1);
    expect(upstreamWarnings(config, caches, '10.77.0.1')).toEqual([
      'b2c.container pulls docker://registry.freedesktop.org/mesa/mesa/test:1 from registry.freedesktop.org directly, ' +
        "past the gateway's cache of it: name docker://10.77.0.1:8002/mesa/mesa/test:1",
      'b2c.service pulls docker://docker.io/library/alpine from docker.io directly, ' +
        "past the gateway's cache of it: name docker://10.77.0.1:8003/library/alpine",
    ]);
  });

  it("names Docker Hub's official images with their library/ through the gateway, which podman adds only on docker.io", () => {
    const config = parseCmdline('b2c.container="docker://docker.io/alpine:3.20 true" b2c.container="docker.io/mesa/ci@sha256:abc true"');
    expect(config.errors).toEqual([]);
    expect(upstreamWarnings(config, caches, '10.77.0.1').map((warning) => warning.replace(/.*: name /, ''))).toEqual([
      'docker://10.77.0.1:8003/library/alpine:3.20',
      '10.77.0.1:8003/mesa/ci@sha256:abc',
    ]);
  });

  it('warns of nothing when no upstream is cached', () => {
    const config = parseCmdline('b2c.container="docker://registry.freedesktop.org/mesa/mesa/test:1 true"');
    expect(config.errors).toEqual([]);
    expect(upstreamWarnings(config, [], '10.77.0.1')).toEqual([]);
  });
});
