// Turns a DHCP lease, as written by the udhcpc hook, into the commands that configure the interface.

export interface DhcpLease {
  interface: string;
  ip: string;
  /** Prefix length or dotted mask; udhcpc gives `mask` (bits) and `subnet` (dotted). */
  mask?: string;
  subnet?: string;
  router?: string;
  dns: string[];
  domain?: string;
}

export interface NetworkPlan {
  commands: string[][];
  prefixLength: number;
  resolvConf: string;
}

/** Reads the `key=value` lines of the udhcpc hook; undefined when there is no usable lease. */
export function parseLease(text: string): DhcpLease | undefined {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const equals = line.indexOf('=');
    if (equals > 0) values.set(line.slice(0, equals), line.slice(equals + 1).trim());
  }
  const ip = values.get('ip');
  const name = values.get('interface');
  if (!ip || !name) return undefined;
  const optional = (key: string): string | undefined => values.get(key) || undefined;
  return {
    interface: name,
    ip,
    mask: optional('mask'),
    subnet: optional('subnet'),
    // udhcpc lists several routers separated by spaces: the first is the gateway.
    router: optional('router')?.split(/\s+/)[0],
    dns: (values.get('dns') ?? '').split(/\s+/).filter((server) => server !== ''),
    domain: optional('domain'),
  };
}

export function prefixLengthOf(mask: string): number {
  if (/^\d+$/.test(mask)) return Number(mask);
  return mask
    .split('.')
    .map((octet) => Number(octet).toString(2).replace(/0/g, '').length)
    .reduce((sum, bits) => sum + bits, 0);
}

export function configureFromLease(lease: DhcpLease): NetworkPlan {
  const prefixLength = prefixLengthOf(lease.mask ?? lease.subnet ?? '24');
  const commands = [
    ['ip', 'addr', 'flush', 'dev', lease.interface],
    ['ip', 'addr', 'add', `${lease.ip}/${prefixLength}`, 'dev', lease.interface],
  ];
  if (lease.router) commands.push(['ip', 'route', 'replace', 'default', 'via', lease.router, 'dev', lease.interface]);
  const resolvConf = [
    ...(lease.domain ? [`search ${lease.domain}`] : []),
    ...lease.dns.map((server) => `nameserver ${server}`),
  ].join('\n');
  return { commands, prefixLength, resolvConf: resolvConf === '' ? '' : `${resolvConf}\n` };
}
