import { describe, expect, it } from 'vitest';
import { parseProxy, proxyEnvironment } from '../../src/cmdline/proxy.ts';

describe('parseProxy', () => {
  it("reads ci-tron's https= and the other schemes, with hosts reached directly", () => {
    expect(parseProxy('https=http://ci-gateway:8100')).toEqual({ value: { https: 'http://ci-gateway:8100', noProxy: [] }, errors: [], warnings: [] });
    expect(parseProxy('https=http://gw:3128,http=http://gw:3128,no=ci-gateway|10.42.0.1').value).toEqual({
      https: 'http://gw:3128',
      http: 'http://gw:3128',
      noProxy: ['ci-gateway', '10.42.0.1'],
    });
  });

  it('refuses what is no proxy URL, warns of empty values and unknown schemes, and keeps the rest', () => {
    expect(parseProxy('https=gateway:3128').errors).toEqual(['b2c.proxy: https=gateway:3128 is not an http:// or https:// URL of a proxy']);
    expect(parseProxy('https').errors).toEqual(['b2c.proxy: https needs a value, e.g. https=http://gateway:3128']);
    expect(parseProxy('https=,ftp=http://gw:21,http=http://gw:3128')).toEqual({
      value: { http: 'http://gw:3128', noProxy: [] },
      errors: [],
      warnings: [
        'b2c.proxy: https= is empty (a template left it unset?): ignored',
        'b2c.proxy: unknown option ftp ignored; b2c knows https=URL, http=URL and no=HOST|HOST',
      ],
    });
  });
});

describe('proxyEnvironment', () => {
  it('gives curl its lower-case names and Go both, and nothing without a proxy', () => {
    expect(proxyEnvironment({ https: 'http://gw:8100', noProxy: ['ci-gateway'] })).toEqual({
      https_proxy: 'http://gw:8100',
      HTTPS_PROXY: 'http://gw:8100',
      no_proxy: 'ci-gateway',
      NO_PROXY: 'ci-gateway',
    });
    expect(proxyEnvironment(undefined)).toEqual({});
  });
});
