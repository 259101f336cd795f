// The gateway's registries of `b2c serve`, planned: options read, docker-registry's and nginx's configurations written, their logs read.

import { parseDocument } from 'yaml';
import type { B2cConfig } from '../cmdline/config.ts';
import { logField, type RegistryCredentials } from '../docker-registry.ts';

/** `--registry-cache PORT=UPSTREAM_URL`: the upstream's images, under the same names, on the gateway's PORT. */
export interface RegistryCacheSpec {
  port: number;
  /** The upstream's origin, `https://host[:port]`, without a trailing slash. */
  upstream: string;
}

function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/** A TCP port of the gateway, or why not. */
export function parseRegistryPort(text: string): number | string {
  return parsePort(text) ?? `${text} is not a TCP port (1 to 65535)`;
}

/**
 * An upstream registry's URL, reduced to its origin, or why it cannot be one.
 * Credentials in the URL are refused: a process's arguments are readable by
 * every user of the gateway; they go in the credentials file.
 */
export function parseUpstreamUrl(text: string): string | { error: string } {
  // What a message may repeat of the text: anything before an @ may be a password.
  const shown = text.includes('@') ? 'the URL given (not repeated: it holds an @, which may be a login)' : text;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { error: `${shown} is not a URL: give one such as https://registry.freedesktop.org` };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return { error: `${shown}: a registry is reached over https:// or http://, not ${text.includes('@') ? 'that' : url.protocol}` };
  if (url.username !== '' || url.password !== '') {
    url.password = url.password === '' ? '' : '***';
    return { error: `${url.href}: put the login in --registry-credentials, not in the URL (every user of this machine can read a program's arguments)` };
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '')
    return { error: `${shown}: give the registry's address only (images keep their names under it), without a path` };
  return url.origin;
}

/** `PORT=UPSTREAM_URL`, or why not. */
export function parseRegistryCacheOption(text: string): RegistryCacheSpec | string {
  const match = /^(\d+)=(.+)$/.exec(text);
  // A URL may hold a password: no message repeats the text whole.
  if (match === null) return `give PORT=UPSTREAM_URL, e.g. 8002=https://registry.freedesktop.org`;
  const port = parsePort(match[1] as string);
  if (port === undefined) return `${match[1]} is not a TCP port (1 to 65535)`;
  const upstream = parseUpstreamUrl(match[2] as string);
  if (typeof upstream !== 'string') return upstream.error;
  return { port, upstream };
}

/** `ADDRESS:PORT=UPSTREAM_URL`: a cache b2c serve runs on a gateway, as `b2c cmdline` is told of it; or why not. */
export function parseGatewayCacheOption(text: string): { gateway: string; cache: RegistryCacheSpec } | string {
  const match = /^([^=]+):(\d+)=(.+)$/.exec(text);
  if (match === null) return 'give ADDRESS:PORT=UPSTREAM_URL, e.g. 10.77.0.1:8002=https://registry.freedesktop.org';
  const cache = parseRegistryCacheOption(`${match[2]}=${match[3]}`);
  return typeof cache === 'string' ? cache : { gateway: match[1] as string, cache };
}

/** Every port given twice among the caches and the plain registries, said once each. */
export function portClashes(caches: readonly RegistryCacheSpec[], registries: readonly number[], otherPorts: ReadonlyMap<number, string>): string[] {
  const owners = new Map<number, string[]>();
  for (const [port, owner] of otherPorts) owners.set(port, [owner]);
  for (const cache of caches) owners.set(cache.port, [...(owners.get(cache.port) ?? []), `--registry-cache ${cache.port}=${cache.upstream}`]);
  for (const port of registries) owners.set(port, [...(owners.get(port) ?? []), `--registry ${port}`]);
  return [...owners].filter(([, names]) => names.length > 1).map(([port, names]) => `port ${port} is given to ${names.join(' and to ')}`);
}

/**
 * The credentials file: YAML (or JSON) from an upstream's URL to its
 * `username` and `password`. Every error names the entry, never a password.
 */
export function readRegistryCredentials(text: string): { credentials: Map<string, RegistryCredentials>; errors: string[] } {
  const credentials = new Map<string, RegistryCredentials>();
  const document = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  if (document.errors.length > 0) return { credentials, errors: [`the file does not parse: ${document.errors[0]?.message.split('\n')[0] ?? ''}`] };
  const root: unknown = document.toJS();
  if (root === null || typeof root !== 'object' || Array.isArray(root))
    return { credentials, errors: ['give a mapping from each upstream URL to its username and password'] };
  const errors: string[] = [];
  for (const [key, value] of Object.entries(root as Record<string, unknown>)) {
    const origin = parseUpstreamUrl(key);
    if (typeof origin !== 'string') {
      errors.push(origin.error);
      continue;
    }
    const entry = value as Record<string, unknown> | null;
    const username = entry?.username;
    const password = entry?.password;
    if (typeof username !== 'string' || username === '' || typeof password !== 'string' || password === '') {
      errors.push(`${key}: give both username and password, as text`);
      continue;
    }
    credentials.set(origin, { username, password });
  }
  return { credentials, errors };
}

/**
 * nginx between a cache's docker-registry and its upstream. docker-registry
 * 2.8 fetches an uncached blob from its upstream once to keep it and once
 * more for each machine that asks meanwhile (one machine alone costs two
 * fetches); nginx turns all of those into one.
 */
export interface UpstreamHopPlan {
  /** The loopback port docker-registry names as its upstream. */
  port: number;
  /** The upstream's origin. */
  upstream: string;
  /** Where nginx keeps the blobs it is fetching. */
  cacheDir: string;
  /** Sent to an upstream that asks for a plain login (docker-registry 2.8 answers only token logins itself). */
  credentials?: RegistryCredentials;
}

/**
 * Blobs are fetched from the upstream, and kept, while nginx holds a lock on
 * them: a request for a blob another is already fetching waits for it instead
 * of fetching it again. A layer of several GB on a slow link takes long, so
 * the lock and the reads time out after hours, not seconds.
 */
export const BLOB_LOCK_SECONDS = 6 * 3600;
/** nginx's copy of a blob goes when nothing asked for it this long: docker-registry keeps its own. */
export const NGINX_BLOB_INACTIVE = '1h';

/** The name servers of a resolv.conf, for nginx to find upstreams and the hosts they redirect blobs to. */
export function nameServers(resolvConf: string): string[] {
  return resolvConf
    .split('\n')
    .map((line) => /^\s*nameserver\s+(\S+)/.exec(line)?.[1])
    .filter((address): address is string => address !== undefined)
    .map((address) => (address.includes(':') ? `[${address}]` : address));
}

/**
 * nginx's configuration: one server per cache on 127.0.0.1, blobs through
 * its cache, kept by digest whatever repository asked (following a redirect
 * to the upstream's storage itself, so that the bytes are fetched, and kept,
 * once), everything else straight through. Upstreams are named through
 * variables: a name is resolved when it is needed, so nginx starts while an
 * upstream is out of reach.
 */
export function nginxConfig(workDir: string, hops: readonly UpstreamHopPlan[], accessLogPort: number, resolvers: readonly string[]): string {
  const temp = (name: string): string => `${workDir}/nginx/${name}`;
  const zones = hops.map(
    (hop) => `  proxy_cache_path ${hop.cacheDir} levels=1:2 keys_zone=blobs_${hop.port}:10m inactive=${NGINX_BLOB_INACTIVE} use_temp_path=off;`,
  );
  const maps = hops.map((hop) => {
    const login = hop.credentials === undefined ? '""' : `"Basic ${Buffer.from(`${hop.credentials.username}:${hop.credentials.password}`).toString('base64')}"`;
    // docker-registry's own Authorization (a token) goes through; a request without one gets the plain login, if any.
    return [
      `  map $http_authorization $authorization_${hop.port} { "" ${login}; default $http_authorization; }`,
      `  map $upstream_http_location $storage_${hop.port} { ~^/ ${hop.upstream}$upstream_http_location; default $upstream_http_location; }`,
    ].join('\n');
  });
  // Blobs may take hours on a slow link; manifests and tags must fail fast, so that docker-registry falls back to the tag it saw last.
  const blobTimeouts = ['proxy_connect_timeout 30s;', `proxy_read_timeout ${BLOB_LOCK_SECONDS}s;`, `proxy_send_timeout ${BLOB_LOCK_SECONDS}s;`];
  const apiTimeouts = ['proxy_connect_timeout 10s;', 'proxy_read_timeout 30s;', 'proxy_send_timeout 30s;'];
  const cache = (hop: UpstreamHopPlan): string[] => [
    `proxy_cache blobs_${hop.port};`,
    // By digest alone: a layer shared by two repositories of the upstream (a farm's images share their base) leaves it once.
    'proxy_cache_key $blob_digest;',
    // A blob by its digest never changes: kept whatever the upstream's or its storage's caching headers say (a CDN's 302 with a max-age
    // would be kept in its place, an S3 Expires in the past would keep nothing, and the lock would then let each waiter fetch it again).
    'proxy_cache_valid 200 30d;',
    'proxy_ignore_headers Cache-Control Expires Set-Cookie Vary X-Accel-Expires X-Accel-Redirect X-Accel-Buffering;',
    'proxy_hide_header Set-Cookie;',
    // docker-registry asks with HEAD first; nginx turns it into the one GET that holds the lock (proxy_cache_convert_head, on by default).
    'proxy_cache_lock on;',
    `proxy_cache_lock_timeout ${BLOB_LOCK_SECONDS}s;`,
    `proxy_cache_lock_age ${BLOB_LOCK_SECONDS}s;`,
  ];
  const tls = [
    'proxy_ssl_server_name on;',
    'proxy_ssl_verify on;',
    'proxy_ssl_verify_depth 4;',
    'proxy_ssl_trusted_certificate /etc/ssl/certs/ca-certificates.crt;',
  ];
  const indent = (lines: string[]): string[] => lines.map((line) => `      ${line}`);
  const servers = hops.flatMap((hop) => {
    const toUpstream = [
      `set $upstream ${hop.upstream};`,
      'proxy_pass $upstream;',
      'proxy_http_version 1.1;',
      `proxy_set_header Host ${new URL(hop.upstream).host};`,
      `proxy_set_header Authorization $authorization_${hop.port};`,
      ...(hop.upstream.startsWith('https:') ? tls : []),
    ];
    // Pulls only: the login this hop adds must not carry a push or a delete from another program on this host.
    const pullsOnly = ['limit_except GET HEAD { deny all; }'];
    return [
      '  server {',
      `    listen 127.0.0.1:${hop.port};`,
      '    location ~ "^/v2/.+/blobs/sha256:[0-9a-f]{64}$" {',
      ...indent([
        ...pullsOnly,
        ...toUpstream,
        ...blobTimeouts,
        ...cache(hop),
        'proxy_intercept_errors on;',
        `error_page 301 302 303 307 308 = @storage_${hop.port};`,
      ]),
      '    }',
      // The upstream's storage (a CDN, S3) at the address it redirected to (made absolute when the upstream gave a path): signed
      // already, so no login goes with it. A second redirect goes back to docker-registry, which follows it itself.
      `    location @storage_${hop.port} {`,
      ...indent([`proxy_pass $storage_${hop.port};`, 'proxy_http_version 1.1;', 'proxy_set_header Authorization "";', ...blobTimeouts, ...tls, ...cache(hop)]),
      '    }',
      // b2c serve's own question whether nginx listens, answered without asking the upstream.
      '    location = /.b2c-ready { return 204; }',
      '    location / {',
      ...indent([...pullsOnly, ...toUpstream, ...apiTimeouts, 'proxy_buffering off;']),
      '    }',
      '  }',
    ];
  });
  return [
    'daemon off;',
    'master_process on;',
    // The blobs it keeps live in the host cache, under root's home, which no other user may enter.
    'user root root;',
    'worker_processes 2;',
    `pid ${workDir}/nginx.pid;`,
    'error_log stderr warn;',
    'events { worker_connections 1024; }',
    'http {',
    `  client_body_temp_path ${temp('body')};`,
    `  proxy_temp_path ${temp('proxy')};`,
    `  fastcgi_temp_path ${temp('fastcgi')};`,
    `  uwsgi_temp_path ${temp('uwsgi')};`,
    `  scgi_temp_path ${temp('scgi')};`,
    ...(resolvers.length > 0 ? [`  resolver ${resolvers.join(' ')} valid=60s;`, '  resolver_timeout 10s;'] : []),
    // One JSON object per request, sent to b2c serve as syslog over UDP on the loopback: nginx cannot open a pipe from Node as a file.
    '  log_format b2c escape=json \'{"port":$server_port,"method":"$request_method","uri":"$uri","status":$status,\'',
    '                             \'"bytes":$body_bytes_sent,"received":"$upstream_bytes_received","cache":"$upstream_cache_status",\'',
    '                             \'"seconds":$request_time}\';',
    `  access_log syslog:server=127.0.0.1:${accessLogPort},tag=b2c,nohostname b2c;`,
    ...zones,
    '  map $uri $blob_digest { "~/blobs/(?<digest_in_uri>sha256:[0-9a-f]{64})$" $digest_in_uri; default $uri; }',
    ...maps,
    ...servers,
    '}',
    '',
  ].join('\n');
}

/** A request for a blob or a manifest: one a machine made of docker-registry, or one nginx made of the upstream. */
export interface RegistryRequest {
  method: string;
  /** The repository, e.g. `mesa/mesa/debian/x86_64_test-gl`. */
  repository: string;
  kind: 'blob' | 'manifest';
  /** The digest or tag. */
  reference: string;
  status: number;
  bytes: number;
  seconds: number;
}

function requestOf(uri: string, fields: Omit<RegistryRequest, 'repository' | 'kind' | 'reference'>): RegistryRequest | undefined {
  const match = /^\/v2\/(.+)\/(blobs|manifests)\/([^/?]+)/.exec(uri);
  if (match === null) return undefined;
  return { ...fields, repository: match[1] as string, kind: match[2] === 'blobs' ? 'blob' : 'manifest', reference: match[3] as string };
}

/**
 * nginx's line for a request toward the upstream (a syslog message: the JSON
 * after its header): the port it came in on, nginx's cache word (MISS: not
 * in its cache) and the bytes that came from the upstream for it (one figure
 * per upstream asked, a redirect's target too).
 */
export function parseUpstreamAccess(line: string): (RegistryRequest & { port: number; cache: string; received: number }) | undefined {
  let record: Record<string, string | number | undefined>;
  try {
    record = JSON.parse(line.slice(line.indexOf('{'))) as Record<string, string | number | undefined>;
  } catch {
    return undefined;
  }
  const request = requestOf(String(record.uri ?? ''), {
    method: String(record.method),
    status: Number(record.status),
    bytes: Number(record.bytes),
    seconds: Number(record.seconds),
  });
  const received = String(record.received ?? '')
    .split(/[,:]/)
    .reduce((sum, part) => sum + (Number(part.trim()) || 0), 0);
  return request === undefined ? undefined : { ...request, port: Number(record.port), cache: String(record.cache ?? ''), received };
}

/** docker-registry's "response completed" line for a machine's request of a blob or a manifest, with the machine's address. */
export function parseMachineRequest(line: string): (RegistryRequest & { client: string }) | undefined {
  if (!/msg="response completed/.test(line)) return undefined;
  const uri = logField(line, 'http.request.uri');
  if (uri === undefined) return undefined;
  const request = requestOf(uri, {
    method: logField(line, 'http.request.method') ?? '',
    status: Number(logField(line, 'http.response.status')),
    bytes: Number(logField(line, 'http.response.written') ?? 0),
    seconds: goDurationSeconds(logField(line, 'http.response.duration') ?? ''),
  });
  const client = (logField(line, 'http.request.remoteaddr') ?? '').replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
  return request === undefined ? undefined : { ...request, client };
}

/** A Go duration as it prints (`1.5s`, `12.3ms`, `850µs`, `1m2.5s`), in seconds. */
export function goDurationSeconds(text: string): number {
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 1e-3, µs: 1e-6, us: 1e-6, ns: 1e-9 };
  let total = 0;
  for (const match of text.matchAll(/([\d.]+)(h|ms|m|s|µs|us|ns)/g)) total += Number(match[1]) * (units[match[2] as string] ?? 0);
  return total;
}

export type RegistryProblem = { kind: 'disk-full'; detail: string } | { kind: 'upstream-unreachable'; detail: string } | { kind: 'error'; detail: string };

const NETWORK_FAILURE = /dial tcp|connection refused|no such host|i\/o timeout|network is unreachable|no route to host|TLS handshake|server misbehaving|EOF$/;

/**
 * What a line of docker-registry's or nginx's log says that a farm admin
 * must hear: a full disk, an upstream out of reach, or another error.
 * Requests a machine made for an image that does not exist are the
 * machine's line's business and stay out of it.
 */
export function registryLogProblem(line: string): RegistryProblem | undefined {
  // nginx's short write to its cache file is how a full disk shows there.
  if (/no space left on device/i.test(line) || /\bENOSPC\b|\(28: |has written only \d+ of \d+/.test(line)) return { kind: 'disk-full', detail: line.trim() };
  // nginx: "2026/12/06 09:00:00 [crit] 12#12: *3 pwrite() ... failed (28: ...)"
  const nginx = /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d \[(emerg|alert|crit|error)\] \d+#\d+: (?:\*\d+ )?(.*)$/.exec(line);
  if (nginx !== null) {
    const detail = nginx[2] as string;
    // A machine that went away mid-download is no fault of the gateway.
    if (/while connecting to upstream|upstream timed out|could not be resolved|no live upstreams|while (reading|SSL handshaking to) upstream/.test(detail))
      return { kind: 'upstream-unreachable', detail };
    if (/prematurely closed connection|Connection reset by peer|Broken pipe|client timed out/.test(detail)) return undefined;
    return { kind: 'error', detail };
  }
  const level = logField(line, 'level');
  if (level !== 'error' && level !== 'fatal' && level !== 'panic') return undefined;
  const message = [logField(line, 'msg'), logField(line, 'err.message') ?? logField(line, 'error') ?? logField(line, 'err.detail')]
    .filter((part) => part !== undefined && part !== '')
    .join(': ');
  const code = logField(line, 'err.code');
  if (code === 'manifest unknown' || code === 'blob unknown' || code === 'name unknown' || code === 'unauthorized' || code === 'denied') return undefined;
  if (NETWORK_FAILURE.test(line)) return { kind: 'upstream-unreachable', detail: message || line.trim() };
  return { kind: 'error', detail: message || line.trim() };
}

/** The registry host a `docker://` image names, as a line writes it (`host[:port]`), or undefined for a name with no registry. */
export function imageRegistry(image: string): string | undefined {
  const name = image.replace(/^docker:\/\//, '');
  const first = name.split('/')[0] ?? '';
  if (!name.includes('/') || !(first.includes('.') || first.includes(':') || first === 'localhost')) return undefined;
  return first;
}

/** The `host[:port]` of an upstream's origin as images name it (Docker Hub's registry is `docker.io` in names). */
function upstreamName(origin: string): string {
  const url = new URL(origin);
  const host = url.host === 'registry-1.docker.io' ? 'docker.io' : url.host;
  return host;
}

/**
 * The name of `image` through the gateway's cache at `address`. Docker Hub's
 * official images need their `library/` there: podman adds it only for
 * names on docker.io, and the cache is not docker.io.
 */
function throughGateway(image: string, registry: string, address: string): string {
  const scheme = image.startsWith('docker://') ? 'docker://' : '';
  const path = image.slice(scheme.length + registry.length + 1);
  return `${scheme}${address}/${registry === 'docker.io' && !path.includes('/') ? `library/${path}` : path}`;
}

/**
 * A warning for each step of a line whose image names an upstream that
 * b2c serve caches: every machine fetching it directly defeats the cache.
 */
export function upstreamWarnings(
  config: Pick<B2cConfig, 'containers' | 'postContainers' | 'services'>,
  caches: readonly RegistryCacheSpec[],
  gateway: string,
): string[] {
  const warnings: string[] = [];
  const byName = new Map(caches.map((cache) => [upstreamName(cache.upstream), cache]));
  for (const [option, steps] of [
    ['b2c.container', config.containers],
    ['b2c.post_container', config.postContainers],
    ['b2c.service', config.services],
  ] as const) {
    for (const step of steps) {
      const registry = imageRegistry(step.image);
      const cache = registry === undefined ? undefined : byName.get(registry);
      if (registry === undefined || cache === undefined) continue;
      const local = throughGateway(step.image, registry, `${gateway}:${cache.port}`);
      warnings.push(`${option} pulls ${step.image} from ${registry} directly, past the gateway's cache of it: name ${local}`);
    }
  }
  return warnings;
}
