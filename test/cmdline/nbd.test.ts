import { describe, expect, it } from 'vitest';
import { nbdDeviceOf, parseNbd } from '../../src/cmdline/nbd.ts';

describe('parseNbd', () => {
  it("reads a farm's line", () => {
    expect(parseNbd('/dev/nbd0,host=ci-gateway,port=10809,connections=5')).toEqual({
      value: { device: '/dev/nbd0', host: 'ci-gateway', port: 10809, connections: 5 },
      errors: [],
      warnings: [],
    });
  });

  it('takes the NBD port and one connection when the line names neither', () => {
    expect(parseNbd('/dev/nbd3,host=10.42.0.1').value).toEqual({ device: '/dev/nbd3', host: '10.42.0.1', port: 10809, connections: 1 });
    expect(parseNbd('/dev/nbd15,host=gw').errors).toEqual([]);
    expect(parseNbd('/dev/nbd16,host=gw').errors).toHaveLength(1);
  });

  it('refuses what cannot be connected, and warns of keys it does not know', () => {
    expect(parseNbd('/dev/sda,host=gw').errors).toEqual([
      'b2c.nbd: "/dev/sda" is not an NBD device (/dev/nbd0 to /dev/nbd15); start with it, e.g. b2c.nbd=/dev/nbd0,host=gateway,port=10809',
    ]);
    expect(parseNbd('/dev/nbd0,port=10809').errors).toEqual(['b2c.nbd=/dev/nbd0 needs host= (the NBD server)']);
    expect(parseNbd('/dev/nbd0,host=gw,port=70000').errors).toEqual(['b2c.nbd=/dev/nbd0: port=70000 is not a TCP port (1 to 65535)']);
    expect(parseNbd('/dev/nbd0,host=gw,connections=0').errors).toEqual(['b2c.nbd=/dev/nbd0: connections=0 is not a number of connections (1 or more)']);
    expect(parseNbd('/dev/nbd0,host=bad host').errors).toEqual(['b2c.nbd=/dev/nbd0: host=bad host is not a host name or an IP address']);
    const unknown = parseNbd('/dev/nbd0,host=gw,timeout=30');
    expect(unknown.value?.host).toBe('gw');
    expect(unknown.warnings).toEqual(['b2c.nbd=/dev/nbd0: unknown option timeout ignored; b2c knows host=, port= and connections=']);
  });

  it('finds the NBD device under a cache partition, and no other device', () => {
    expect(nbdDeviceOf('/dev/nbd0p1')).toBe('/dev/nbd0');
    expect(nbdDeviceOf('/dev/nbd12')).toBe('/dev/nbd12');
    expect(nbdDeviceOf('/dev/nvme0n1p1')).toBeUndefined();
  });
});
