// docker-registry's configuration as b2c writes it, read back as YAML.

import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { distributionConfig } from '../src/docker-registry.ts';

describe("docker-registry's configuration", () => {
  const plan = { listen: '127.0.0.1:18002', storage: '/var/cache/b2c/registry/8002', secret: 'random-secret' };

  it('listens, stores and signs where the plan says, with no proxy for a plain registry', () => {
    const config = parse(distributionConfig(plan)) as Record<string, Record<string, unknown>>;
    expect(config.http).toEqual({ addr: '127.0.0.1:18002', secret: 'random-secret' });
    expect(config.storage?.filesystem).toEqual({ rootdirectory: '/var/cache/b2c/registry/8002' });
    expect(config.log?.level).toBe('info');
    expect(config.proxy).toBeUndefined();
  });

  it('mirrors an upstream, without a login when it has none', () => {
    const config = parse(distributionConfig({ ...plan, upstream: { url: 'http://127.0.0.1:40001' } })) as Record<string, Record<string, unknown>>;
    expect(config.proxy).toEqual({ remoteurl: 'http://127.0.0.1:40001' });
  });

  it('gives the upstream its login, a password with YAML-special characters kept exactly', () => {
    const password = 'p: #x\'"\n\\ {[*&!|>%@`';
    const config = parse(
      distributionConfig({ ...plan, upstream: { url: 'http://127.0.0.1:40001', credentials: { username: 'mesa-ci', password } } }),
    ) as Record<string, Record<string, unknown>>;
    expect(config.proxy).toEqual({ remoteurl: 'http://127.0.0.1:40001', username: 'mesa-ci', password });
  });
});
