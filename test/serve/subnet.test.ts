import { describe, expect, it } from 'vitest';
import { interfaceSubnets, isHostOf, parseDhcpRange, parseSubnet, type Subnet } from '../../src/serve/subnet.ts';

describe('subnets', () => {
  const subnet = parseSubnet('10.77.0.1/24') as Subnet;

  it('reads an address with its prefix', () => {
    expect(subnet).toEqual({ address: '10.77.0.1', prefixLength: 24, netmask: '255.255.255.0', network: '10.77.0.0' });
    expect(parseSubnet('192.168.5.130/26')).toMatchObject({ netmask: '255.255.255.192', network: '192.168.5.128' });
    for (const bad of ['10.77.0.1', '10.77.0.256/24', '10.77.0.1/31', 'lan/24']) expect(parseSubnet(bad)).toMatch(/is not an IPv4 address with its prefix/);
  });

  it('takes a DHCP range inside the subnet that leaves the server out', () => {
    expect(parseDhcpRange('10.77.0.100,10.77.0.200', subnet)).toEqual({ first: '10.77.0.100', last: '10.77.0.200' });
    expect(parseDhcpRange('10.77.0.100', subnet)).toMatch(/not a range/);
    expect(parseDhcpRange('10.77.1.100,10.77.1.200', subnet)).toBe('10.77.1.100 is not in 10.77.0.1/24, the subnet of --address');
    expect(parseDhcpRange('10.77.0.100,10.77.0.255', subnet)).toMatch(/10\.77\.0\.255 is not in/);
    expect(parseDhcpRange('10.77.0.200,10.77.0.100', subnet)).toMatch(/give the lower address first/);
    expect(parseDhcpRange('10.77.0.1,10.77.0.100', subnet)).toMatch(/server's own address 10\.77\.0\.1/);
    expect(isHostOf(subnet, '10.77.0.0')).toBe(false);
  });

  it("reads an interface's IPv4 addresses from ip's JSON", () => {
    const json = JSON.stringify([
      {
        addr_info: [
          { family: 'inet', local: '10.77.0.1', prefixlen: 24 },
          { family: 'inet6', local: 'fe80::1', prefixlen: 64 },
        ],
      },
    ]);
    expect(interfaceSubnets(json)).toEqual(['10.77.0.1/24']);
  });
});
