// `b2c serve`: netboots a farm's machines, each with the command line the machines file gives its MAC address.

import { InvalidArgumentError, type Command } from 'commander';
import { eventJson, formatEvent, type ServeEvent } from '../serve/events.ts';
import { BootServer } from '../serve/server.ts';
import { parseDhcpRange, parseSubnet, type Subnet } from '../serve/subnet.ts';
import { ExitError } from './errors.ts';

interface ServeCliOptions {
  interface: string;
  address: Subnet;
  dhcpRange?: string;
  proxyDhcp: boolean;
  machines: string;
  httpPort: number;
  out: string;
  json: boolean;
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
      const report = (event: ServeEvent): void => {
        process.stdout.write(`${options.json ? eventJson(event) : formatEvent(event)}\n`);
      };
      // A ServeError or a taken port reaches the top as a message; nothing was started.
      const server = await BootServer.start({
        interface: options.interface,
        subnet: options.address,
        dhcp,
        machinesFile: options.machines,
        outDir: options.out,
        httpPort: options.httpPort,
        report,
      });
      const signalled = new Promise<string>((resolve) => {
        for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve(signal));
      });
      const why = await Promise.race([signalled.then((signal) => ({ signal })), server.ended.then((message) => ({ message }))]);
      await server.stop();
      if ('message' in why) throw new ExitError(1, why.message);
      report({ time: new Date().toISOString(), step: 'stop', message: `stopped by ${why.signal}` });
    });
}
