import { describe, expect, it } from 'vitest';
import { configureFromLease, parseLease, prefixLengthOf } from '../../src/init/network.ts';

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
