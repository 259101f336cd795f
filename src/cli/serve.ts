// `b2c serve`: netboots a farm's machines, each with the command line the machines file gives its MAC address.

import { InvalidArgumentError, type Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RegistryCredentials } from '../docker-registry.ts';
import { describeError } from '../errors.ts';
import { hostCacheDir } from '../host-cache.ts';
import { eventJson, formatEvent, type ServeEvent } from '../serve/events.ts';
import { parseRegistryCacheOption, parseRegistryPort, portClashes, readRegistryCredentials, type RegistryCacheSpec } from '../serve/registries-plan.ts';
import { BootServer } from '../serve/server.ts';
import { parseDhcpRange, parseSubnet, type Subnet } from '../serve/subnet.ts';
import { ExitError } from './errors.ts';
import { collect } from './options.ts';

interface ServeCliOptions {
  interface: string;
  address: Subnet;
  dhcpRange?: string;
  proxyDhcp: boolean;
  machines: string;
  httpPort: number;
  out: string;
  json: boolean;
  registryCache: string[];
  registry: number[];
  registryDir?: string;
  registryCredentials?: string;
}

function subnet(value: string): Subnet {
  const parsed = parseSubnet(value);
  if (typeof parsed === 'string') throw new InvalidArgumentError(parsed);
  return parsed;
}

function httpPort(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 65535) throw new InvalidArgumentError(`${value} is not a TCP port`);
  return Number(value);
}

function registryCaches(values: readonly string[]): RegistryCacheSpec[] {
  return values.map((value) => {
    const parsed = parseRegistryCacheOption(value);
    if (typeof parsed === 'string') throw new ExitError(2, `--registry-cache: ${parsed}`);
    return parsed;
  });
}

function registryPort(value: string, previous: number[]): number[] {
  const parsed = parseRegistryPort(value);
  if (typeof parsed === 'string') throw new InvalidArgumentError(parsed);
  return [...previous, parsed];
}

/** The logins of --registry-credentials, each for an upstream that --registry-cache names. */
async function loadCredentials(file: string | undefined, caches: readonly RegistryCacheSpec[]): Promise<Map<string, RegistryCredentials>> {
  if (file === undefined) return new Map();
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ExitError(2, `--registry-credentials: cannot read ${file}: ${describeError(error)}`);
  }
  const { credentials, errors } = readRegistryCredentials(text);
  for (const origin of credentials.keys()) {
    if (!caches.some((cache) => cache.upstream === origin)) errors.push(`${origin}: no --registry-cache names this upstream`);
  }
  if (errors.length > 0) throw new ExitError(2, `--registry-credentials ${file}:\n  ${errors.join('\n  ')}`);
  return credentials;
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description("netboot a network's machines: DHCP (or proxyDHCP), TFTP and HTTP, with each machine's command line from a machines file")
    .requiredOption('--interface <name>', 'the interface the machines are on, e.g. a second NIC with nothing else on it')
    .requiredOption('--address <ip/prefix>', 'the address the interface already has, e.g. 10.77.0.1/24: the server answers there only', subnet)
    .option('--dhcp-range <first,last>', 'hand out these addresses (the network has no other DHCP server)')
    .option('--proxy-dhcp', "offer only the boot, next to the network's own DHCP server", false)
    .requiredOption('--machines <file>', 'YAML (or JSON): a default entry and one entry per MAC address, each with cmdline and optional arch, kernel, initrd')
    .option('--http-port <port>', 'the HTTP port for the iPXE scripts, kernels and archives', httpPort, 8080)
    .option('--out <dir>', 'where b2c build wrote the files an entry boots when it names none', 'out')
    .option('--json', 'one JSON object per event instead of a line of text', false)
    // Read in the action, not by commander: its message would repeat a URL that may hold a password.
    .option(
      '--registry-cache <port=url>',
      "cache an upstream registry's images on this port of --address, under the same names (repeatable): 8002=https://registry.freedesktop.org",
      collect,
      [],
    )
    .option('--registry <port>', 'a registry of its own on this port of --address, for images pushed to it (repeatable)', registryPort, [])
    .option('--registry-dir <dir>', 'where the registries keep images (default: the host cache, ~/.cache/b2c/registries)')
    .option('--registry-credentials <file>', "YAML: each upstream's URL with its username and password, for upstreams that ask for a login")
    .addHelpText(
      'after',
      `
A machines file:

  default:
    cmdline: console=ttyS0 b2c.container="docker://10.77.0.1:5000/tests:42"
  "52:54:00:12:34:56":
    arch: arm64
    cmdline: console=ttyAMA0 b2c.container="docker://10.77.0.1:5000/tests:42" b2c.cache_device=auto
    initrd: [out/initramfs.linux_arm64.cpio.xz, out/linux-arm64.modules.cpio.xz]

With --registry-cache, machines pull docker://ADDRESS:PORT/NAME:TAG (with
--tls-verify=false, or the registry named insecure): each layer leaves the
upstream once, however many machines ask for it at once; tags are asked of
the upstream each time, and while it is unreachable the images cached here
are served. b2c prefetch fetches the programs serve runs ahead of time.

A machine the file does not name, when it has no default, is offered no boot.
Every command line is checked as 'b2c cmdline' checks it; a file with errors is
refused. The file is read again when it changes; a bad change keeps the last
good file. Stop with Ctrl-C.`,
    )
    .action(async (options: ServeCliOptions) => {
      if ((options.dhcpRange === undefined) === !options.proxyDhcp) throw new ExitError(2, 'give either --dhcp-range FIRST,LAST or --proxy-dhcp');
      let dhcp: { kind: 'dhcp'; first: string; last: string } | { kind: 'proxy' } = { kind: 'proxy' };
      if (options.dhcpRange !== undefined) {
        const range = parseDhcpRange(options.dhcpRange, options.address);
        if (typeof range === 'string') throw new ExitError(2, `--dhcp-range: ${range}`);
        dhcp = { kind: 'dhcp', ...range };
      }
      const caches = registryCaches(options.registryCache);
      const clashes = portClashes(caches, options.registry, new Map([[options.httpPort, '--http-port']]));
      if (clashes.length > 0) throw new ExitError(2, clashes.join('; '));
      const credentials = await loadCredentials(options.registryCredentials, caches);
      const registries =
        caches.length === 0 && options.registry.length === 0
          ? undefined
          : {
              caches,
              registries: options.registry,
              dataDir: options.registryDir ?? join(hostCacheDir(), 'registries'),
              credentials,
            };
      const report = (event: ServeEvent): void => {
        process.stdout.write(`${options.json ? eventJson(event) : formatEvent(event)}\n`);
      };
      // Taken before the start: a Ctrl-C while the registries start must not leave them running (they are in process groups of
      // their own); the server stops as soon as it has started.
      const signalled = new Promise<string>((resolve) => {
        for (const signal of ['SIGINT', 'SIGTERM'] as const)
          process.once(signal, () => {
            report({ time: new Date().toISOString(), step: 'stop', message: `${signal}: stopping` });
            resolve(signal);
          });
      });
      // A ServeError or a taken port reaches the top as a message; nothing was started.
      const server = await BootServer.start({
        interface: options.interface,
        subnet: options.address,
        dhcp,
        machinesFile: options.machines,
        outDir: options.out,
        httpPort: options.httpPort,
        report,
        ...(registries === undefined ? {} : { registries }),
      });
      const why = await Promise.race([signalled.then((signal) => ({ signal })), server.ended.then((message) => ({ message }))]);
      await server.stop();
      if ('message' in why) throw new ExitError(1, why.message);
      report({ time: new Date().toISOString(), step: 'stop', message: `stopped by ${why.signal}` });
    });
}
