// `b2c serve` refusing bad input before it starts anything: a real process, its message and its exit status. Serving machines is tested in e2e.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'b2c-serve-cli-'));
writeFileSync(join(dir, 'linux-amd64'), 'kernel');
writeFileSync(join(dir, 'initramfs.linux_amd64.cpio.xz'), 'archive');
const goodLine = 'console=ttyS0 b2c.container="docker://registry:5000/tests:42"';

function machinesFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const good = machinesFile('good.yaml', `default:\n  cmdline: '${goodLine}'\n`);

function serve(args: string[]): { status: number | null; stderr: string } {
  return spawnSync(process.execPath, ['bin/b2c.js', 'serve', '--out', dir, ...args], { encoding: 'utf8', timeout: 30_000 });
}

describe('b2c serve, given bad input', () => {
  const servers: Server[] = [];
  afterAll(() => servers.forEach((server) => server.close()));

  it('wants a DHCP range inside the subnet, or proxyDHCP, but not both', () => {
    const base = ['--interface', 'lo', '--address', '127.0.0.1/8', '--machines', good];
    expect(serve(base)).toMatchObject({ status: 2, stderr: expect.stringContaining('give either --dhcp-range FIRST,LAST or --proxy-dhcp') as unknown });
    expect(serve([...base, '--proxy-dhcp', '--dhcp-range', '127.0.0.10,127.0.0.20']).status).toBe(2);
    expect(serve([...base, '--dhcp-range', '10.0.0.10,10.0.0.20']).stderr).toContain('--dhcp-range: 10.0.0.10 is not in 127.0.0.1/8');
    expect(serve(['--interface', 'lo', '--address', '127.0.0.1', '--proxy-dhcp', '--machines', good]).stderr).toContain(
      '127.0.0.1 is not an IPv4 address with its prefix length',
    );
  });

  it('names an interface that does not exist, or lacks the address', () => {
    expect(serve(['--interface', 'nosuch0', '--address', '10.77.0.1/24', '--proxy-dhcp', '--machines', good])).toMatchObject({
      status: 1,
      stderr: expect.stringContaining('there is no network interface nosuch0') as unknown,
    });
    const result = serve(['--interface', 'lo', '--address', '10.77.0.1/24', '--proxy-dhcp', '--machines', good]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/lo does not have the address 10\.77\.0\.1\/24 \(it has 127\.0\.0\.1\/8\): ip addr add 10\.77\.0\.1\/24 dev lo/);
  });

  it('lists every problem of the machines file, by machine: parse errors, MACs, command lines, files', () => {
    const base = ['--interface', 'lo', '--address', '127.0.0.1/8', '--proxy-dhcp', '--machines'];
    expect(serve([...base, machinesFile('broken.yaml', 'default: [')]).stderr).toMatch(/broken\.yaml has an error:\n {2}the file does not parse/);
    expect(serve([...base, join(dir, 'absent.yaml')]).stderr).toContain(`cannot read the machines file ${join(dir, 'absent.yaml')}`);
    const bad = machinesFile(
      'bad.yaml',
      [
        `52:54:00:12:34:5:\n  cmdline: '${goodLine}'`,
        `"52:54:00:12:34:56":\n  cmdline: 'b2c.swap=lots'`,
        `"52:54:00:12:34:57":\n  cmdline: '${goodLine}'\n  initrd: [initramfs.linux_amd64.cpio.xz, missing.cpio.xz]`,
      ].join('\n'),
    );
    const result = serve([...base, bad]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('has 3 errors');
    expect(result.stderr).toContain('52:54:00:12:34:5: neither default nor a MAC address');
    expect(result.stderr).toContain('52:54:00:12:34:56: cmdline: b2c.swap=lots is not a size');
    expect(result.stderr).toContain(`52:54:00:12:34:57: ${join(dir, 'missing.cpio.xz')} does not exist`);
  });

  it('names a port in use before it starts anything', async () => {
    const taken = createServer();
    servers.push(taken);
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    // Asynchronous: the port's holder is this process, which must keep answering while b2c serve tries it.
    const result = await new Promise<{ status: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [
        'bin/b2c.js',
        'serve',
        '--out',
        dir,
        '--interface',
        'lo',
        '--address',
        '127.0.0.1/8',
        '--proxy-dhcp',
        '--machines',
        good,
        '--http-port',
        String(port),
      ]);
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('close', (status) => resolve({ status, stderr }));
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`cannot serve HTTP on 127.0.0.1:${port}: it is in use`);
  });
});

describe('b2c serve, given bad registry options', () => {
  const base = ['--interface', 'lo', '--address', '127.0.0.1/8', '--proxy-dhcp', '--machines', good];

  it('refuses an upstream that is not a registry URL, a login in the URL, and a port given twice, before it starts anything', () => {
    expect(serve([...base, '--registry-cache', '8002=ftp://registry.example.org']).stderr).toContain(
      'a registry is reached over https:// or http://, not ftp:',
    );
    expect(serve([...base, '--registry-cache', '8002']).stderr).toContain('give PORT=UPSTREAM_URL');
    const login = serve([...base, '--registry-cache', '8002=https://bot:hunter22@registry.example.org']);
    expect(login.stderr).toContain('put the login in --registry-credentials, not in the URL');
    expect(login.stderr).not.toContain('hunter22');
    expect(serve([...base, '--registry-cache', '8080=https://registry.example.org'])).toMatchObject({
      status: 2,
      stderr: expect.stringContaining('port 8080 is given to --http-port and to --registry-cache 8080=https://registry.example.org') as unknown,
    });
  });

  it('refuses a credentials file with a login for no cached upstream, or without a password, and never prints a password', () => {
    const file = join(dir, 'credentials.yaml');
    writeFileSync(file, 'https://elsewhere.example.org:\n  username: bot\n  password: s3cret-pass\nhttps://registry.example.org:\n  username: bot\n');
    const result = serve([...base, '--registry-cache', '8002=https://registry.example.org', '--registry-credentials', file]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('https://elsewhere.example.org: no --registry-cache names this upstream');
    expect(result.stderr).toContain('https://registry.example.org: give both username and password');
    expect(result.stderr).not.toContain('s3cret-pass');
  });
});

describe('b2c run --netboot, given what the server gives', () => {
  function run(args: string[]): { status: number | null; stderr: string } {
    return spawnSync(process.execPath, ['bin/b2c.js', 'run', ...args], { encoding: 'utf8', timeout: 30_000 });
  }

  it('refuses a command line, a kernel or archives, a bad MAC, and --firmware alone', () => {
    expect(run(['--netboot', '--network', 'tap=tap0', 'b2c.container=x']).stderr).toContain(
      '--netboot takes its command line from the server: leave out b2c.container=x',
    );
    expect(run(['--netboot', '--network', 'tap=tap0', '--initrd', 'x.cpio']).stderr).toContain('leave out --kernel, --initrd and --addon');
    expect(run(['--netboot', '--network', 'none']).stderr).toContain("--netboot needs a card on the server's LAN");
    expect(run(['--netboot']).stderr).toContain("--netboot needs a card on the server's LAN: give --network tap=IF");
    expect(run(['--netboot', '--arch', 'arm64', '--network', 'tap=tap0']).stderr).toContain('an arm64 machine netboots through UEFI: add --firmware uefi');
    expect(run(['--netboot', '--arch', 'riscv64', '--network', 'tap=tap0']).stderr).toContain(
      '--netboot boots amd64 and arm64 machines; riscv64 is not done yet',
    );
    expect(run(['--firmware', 'uefi', 'b2c.container=x']).stderr).toContain('--firmware goes with --netboot');
    expect(run(['--netboot', '--mac', '52:54:00:12:34', '--network', 'tap=tap0']).stderr).toContain('is not a MAC address');
    expect(run(['--netboot', '--mac', '53:54:00:12:34:56', '--network', 'tap=tap0']).stderr).toContain('is a multicast address');
    expect(run(['--netboot', '--firmware', 'coreboot', '--network', 'tap=tap0']).stderr).toContain('choose bios or uefi');
  });
});
