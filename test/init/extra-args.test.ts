import { describe, expect, it } from 'vitest';
import { CA_BUNDLE } from '../../src/image-layout.ts';
import { curlDownloadArgs } from '../../src/init/extra-args.ts';

describe('curlDownloadArgs', () => {
  it('fails on HTTP errors, verifies against the image bundle, stays on http(s), and writes to a file, not the console', () => {
    const argv = curlDownloadArgs('https://farm/dut-7', '/run/b2c/extra_args');
    expect(argv[0]).toBe('curl');
    expect(argv).toContain('--fail');
    expect(argv).not.toContain('--insecure');
    expect(argv[argv.indexOf('--cacert') + 1]).toBe(CA_BUNDLE);
    expect(argv[argv.indexOf('--proto') + 1]).toBe('=http,https');
    expect(argv[argv.indexOf('--proto-redir') + 1]).toBe('=http,https');
    expect(argv.slice(-3)).toEqual(['--output', '/run/b2c/extra_args', 'https://farm/dut-7']);
    expect(Number(argv[argv.indexOf('--max-time') + 1])).toBeGreaterThan(0);
  });
});
