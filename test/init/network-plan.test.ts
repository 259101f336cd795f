import { describe, expect, it } from 'vitest';
import type { IfaceConfig } from '../../src/cmdline/config.ts';
import { parseIface } from '../../src/cmdline/iface.ts';
import { configureFromLease, parseLease, prefixLengthOf, resolvConf, staticInterfacePlan } from '../../src/init/network-plan.ts';

describe('DHCP lease', () => {
  const leaseText = 'interface=eth0\nip=10.0.2.15\nsubnet=255.255.255.0\nmask=24\nrouter=10.0.2.2 10.0.2.3\ndns=10.0.2.3 10.0.2.4\ndomain=farm\nlease=86400\n';

  it('reads what the udhcpc hook wrote', () => {
    expect(parseLease(leaseText)).toEqual({
      interface: 'eth0',
      ip: '10.0.2.15',
      mask: '24',
      subnet: '255.255.255.0',
      router: '10.0.2.2',
      dns: ['10.0.2.3', '10.0.2.4'],
      domain: 'farm',
    });
    expect(parseLease('interface=eth0\nip=\n')).toBeUndefined();
  });

  it('plans the address, the default route and resolv.conf', () => {
    const lease = parseLease(leaseText);
    if (!lease) throw new Error('no lease');
    expect(configureFromLease(lease)).toEqual({
      commands: [
        ['ip', 'addr', 'flush', 'dev', 'eth0'],
        ['ip', 'addr', 'add', '10.0.2.15/24', 'dev', 'eth0'],
        ['ip', 'route', 'replace', 'default', 'via', '10.0.2.2', 'dev', 'eth0'],
      ],
      prefixLength: 24,
      resolvConf: 'search farm\nnameserver 10.0.2.3\nnameserver 10.0.2.4\n',
    });
  });

  it('turns dotted masks into prefix lengths', () => {
    expect(prefixLengthOf('255.255.240.0')).toBe(20);
    expect(prefixLengthOf('16')).toBe(16);
  });
});

describe('b2c.iface plans', () => {
  const iface = (text: string): IfaceConfig => {
    const parsed = parseIface(text);
    if (!parsed.value) throw new Error(parsed.errors.join('\n'));
    return parsed.value;
  };

  it('brings the interface up with its addresses, gateway and routes, IPv6 included', () => {
    expect(
      staticInterfacePlan(
        iface('eth1,address=192.168.1.10/24,address=2001:db8::10/64,gateway=192.168.1.1,route=10.42.0.0/16:192.168.1.254,route=2001:db8:1::/48:2001:db8::1'),
      ),
    ).toEqual({
      commands: [
        ['ip', 'link', 'set', 'eth1', 'up'],
        ['ip', 'addr', 'add', '192.168.1.10/24', 'dev', 'eth1'],
        ['ip', '-6', 'addr', 'add', '2001:db8::10/64', 'dev', 'eth1'],
        ['ip', 'route', 'replace', 'default', 'via', '192.168.1.1', 'dev', 'eth1'],
        ['ip', 'route', 'replace', '10.42.0.0/16', 'via', '192.168.1.254', 'dev', 'eth1'],
        ['ip', '-6', 'route', 'replace', '2001:db8:1::/48', 'via', '2001:db8::1', 'dev', 'eth1'],
      ],
      sysctls: [],
    });
  });

  it('turns forwarding on for that interface only', () => {
    // The MTU is set as the link comes up, before any address or route depends on it.
    expect(staticInterfacePlan(iface('eth2,address=10.0.0.2/24,mtu=9000')).commands[0]).toEqual(['ip', 'link', 'set', 'eth2', 'mtu', '9000', 'up']);
    expect(staticInterfacePlan(iface('br0,forward')).sysctls.map((sysctl) => sysctl.path)).toEqual([
      '/proc/sys/net/ipv4/conf/br0/forwarding',
      '/proc/sys/net/ipv6/conf/br0/forwarding',
    ]);
  });

  it('writes each name server once, after the search domain', () => {
    expect(resolvConf(['10.0.0.53', '10.0.0.54', '10.0.0.53'], 'farm')).toBe('search farm\nnameserver 10.0.0.53\nnameserver 10.0.0.54\n');
    expect(resolvConf([])).toBe('');
  });
});
