// IPv4 subnets for `b2c serve`: the server's address with its prefix, and a DHCP range checked against it.

export interface Subnet {
  address: string;
  prefixLength: number;
  netmask: string;
  network: string;
}

function toNumber(address: string): number | undefined {
  const parts = address.split('.');
  if (parts.length !== 4 || parts.some((part) => !/^\d{1,3}$/.test(part) || Number(part) > 255)) return undefined;
  return parts.reduce((value, part) => value * 256 + Number(part), 0);
}

function toAddress(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/** `10.77.0.1/24` as a subnet, or why it is not one. */
export function parseSubnet(text: string): Subnet | string {
  const match = /^([^/]+)\/(\d{1,2})$/.exec(text.trim());
  const value = match === null ? undefined : toNumber(match[1] as string);
  const prefixLength = match === null ? NaN : Number(match[2]);
  if (match === null || value === undefined || prefixLength < 8 || prefixLength > 30) {
    return `${text} is not an IPv4 address with its prefix length (8 to 30), such as 10.77.0.1/24`;
  }
  const mask = 2 ** 32 - 2 ** (32 - prefixLength);
  const network = value - (value % 2 ** (32 - prefixLength));
  return { address: match[1] as string, prefixLength, netmask: toAddress(mask), network: toAddress(network) };
}

/** Whether an address is in the subnet, and is neither its network nor its broadcast address. */
export function isHostOf(subnet: Subnet, address: string): boolean {
  const value = toNumber(address);
  const network = toNumber(subnet.network) as number;
  const size = 2 ** (32 - subnet.prefixLength);
  return value !== undefined && value > network && value < network + size - 1;
}

/** `FIRST,LAST` in the subnet, without the server's own address; or why not. */
export function parseDhcpRange(text: string, subnet: Subnet): { first: string; last: string } | string {
  const [first = '', last = '', ...rest] = text.split(',').map((part) => part.trim());
  if (rest.length > 0 || toNumber(first) === undefined || toNumber(last) === undefined) return `${text} is not a range such as 10.77.0.100,10.77.0.200`;
  for (const end of [first, last]) {
    if (!isHostOf(subnet, end)) return `${end} is not in ${subnet.address}/${subnet.prefixLength}, the subnet of --address`;
  }
  const [low, high, own] = [toNumber(first) as number, toNumber(last) as number, toNumber(subnet.address) as number];
  if (low > high) return `${first} comes after ${last}: give the lower address first`;
  if (own >= low && own <= high) return `the range holds the server's own address ${subnet.address}: start it after or end it before`;
  return { first, last };
}

/** The IPv4 addresses with prefixes that `ip -j addr show` gives for an interface. */
export function interfaceSubnets(ipJson: string): string[] {
  const interfaces = JSON.parse(ipJson) as Array<{ addr_info?: Array<{ family?: string; local?: string; prefixlen?: number }> }>;
  return interfaces.flatMap((item) => (item.addr_info ?? []).filter((info) => info.family === 'inet').map((info) => `${info.local}/${info.prefixlen}`));
}
