// Plans the network: a DHCP lease (as the udhcpc hook writes it) or a b2c.iface setting, into the commands that configure it.

import type { IfaceConfig } from '../cmdline/config.ts';

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
  return { commands, prefixLength, resolvConf: resolvConf(lease.dns, lease.domain) };
}

/** `mtu N` for `ip link set` when b2c.iface names one; the driver's own otherwise. */
export function mtuArgs(iface: IfaceConfig): string[] {
  return iface.mtu === undefined ? [] : ['mtu', String(iface.mtu)];
}

/** The commands that give an interface its `b2c.iface` addresses and routes, and the sysctl files `forward` sets. */
export function staticInterfacePlan(iface: IfaceConfig): { commands: string[][]; sysctls: Array<{ path: string; value: string }> } {
  const family = (address: string): string[] => (address.includes(':') ? ['-6'] : []);
  const commands = [['ip', 'link', 'set', iface.name, ...mtuArgs(iface), 'up']];
  for (const address of iface.addresses) commands.push(['ip', ...family(address), 'addr', 'add', address, 'dev', iface.name]);
  if (iface.gateway !== undefined) commands.push(['ip', ...family(iface.gateway), 'route', 'replace', 'default', 'via', iface.gateway, 'dev', iface.name]);
  for (const route of iface.routes) commands.push(['ip', ...family(route.gateway), 'route', 'replace', route.network, 'via', route.gateway, 'dev', iface.name]);
  const sysctls = iface.forward
    ? [
        { path: `/proc/sys/net/ipv4/conf/${iface.name}/forwarding`, value: '1' },
        { path: `/proc/sys/net/ipv6/conf/${iface.name}/forwarding`, value: '1' },
      ]
    : [];
  return { commands, sysctls };
}

/** resolv.conf for these servers, each once, in the order given. */
export function resolvConf(nameservers: readonly string[], domain?: string): string {
  const lines = [...(domain ? [`search ${domain}`] : []), ...[...new Set(nameservers)].map((server) => `nameserver ${server}`)];
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
