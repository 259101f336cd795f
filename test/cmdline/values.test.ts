import { describe, expect, it } from 'vitest';
import { isCidr, isHostname, isHttpUrl, isIpAddress, parseSize } from '../../src/cmdline/values.ts';

describe('option values', () => {
  it('reads sizes in powers of 1024', () => {
    expect(parseSize('4G')).toBe(4 * 1024 ** 3);
    expect(parseSize('512M')).toBe(512 * 1024 ** 2);
    expect(parseSize('1.5k')).toBe(1536);
    expect(parseSize('2GiB')).toBe(2 * 1024 ** 3);
    expect(parseSize('100')).toBe(100);
    for (const bad of ['', 'G', '-1G', '0', '4X', 'lots']) expect(parseSize(bad)).toBeUndefined();
  });

  it('knows addresses and networks', () => {
    expect(isIpAddress('10.0.2.2')).toBe(true);
    expect(isIpAddress('fd00::1')).toBe(true);
    expect(isIpAddress('::ffff:10.0.0.1')).toBe(true);
    expect(isIpAddress('256.0.0.1')).toBe(false);
    expect(isIpAddress('1:2:3:4:5:6:7:8:9')).toBe(false);
    expect(isCidr('192.168.1.0/24')).toBe(true);
    expect(isCidr('fd00::/64')).toBe(true);
    expect(isCidr('10.0.0.0/33')).toBe(false);
  });

  it('knows host names and URLs', () => {
    expect(isHostname('pool.ntp.org')).toBe(true);
    expect(isHostname('-x.org')).toBe(false);
    expect(isHttpUrl('https://user@s3.farm.example:9000/bucket')).toBe(true);
    expect(isHttpUrl('http://[fd00::1]:8080/x')).toBe(true);
    expect(isHttpUrl('http://10.0.2.100:5000')).toBe(true);
    expect(isHttpUrl('file:///etc/passwd')).toBe(false);
  });
});
