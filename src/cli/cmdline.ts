// `b2c cmdline`: checks a command line and says what a machine booted with it would do.

import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { kernelArgumentsOf } from '../cmdline/bootloader.ts';
import { configToJson } from '../cmdline/config.ts';
import { explainConfig } from '../cmdline/explain.ts';
import { parseCmdline, parseCmdlineWithExtraArgs } from '../cmdline/parse.ts';
import { parseGatewayCacheOption, upstreamWarnings, type RegistryCacheSpec } from '../serve/registries-plan.ts';
import { ExitError } from './errors.ts';
import { collect } from './options.ts';

type GatewayCache = { gateway: string; cache: RegistryCacheSpec };

function gatewayCaches(values: readonly string[]): GatewayCache[] {
  return values.map((value) => {
    const parsed = parseGatewayCacheOption(value);
    if (typeof parsed === 'string') throw new ExitError(2, `--registry-cache: ${parsed}`);
    return parsed;
  });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

export function registerCmdlineCommand(program: Command): void {
  program
    .command('cmdline')
    .description('check a kernel command line and explain what a machine booted with it will do')
    .argument('[line]', 'the command line (quote it); read from --file or stdin when absent')
    .option('--file <file>', 'read it from a file: /proc/cmdline, or an iPXE, GRUB or SYSLINUX script whose kernel line is taken')
    .option('--extra-args <file>', 'the file b2c.extra_args_url serves, parsed after the line as the machine does (a farm template rendered)')
    .option('--json', 'print the parsed configuration as one JSON document (secrets as ***)', false)
    // Read in the action, not by commander: its message would repeat a URL that may hold a password.
    .option(
      '--registry-cache <address:port=url>',
      'a registry cache b2c serve runs (repeatable): an image named from its upstream directly is warned about, e.g. 10.77.0.1:8002=https://registry.freedesktop.org',
      collect,
      [],
    )
    .addHelpText(
      'after',
      `
What the line does goes to stdout, even when some of it is wrong; errors and
warnings go to stderr, errors first. The exit status is 1 when the line has
errors (a machine booted with it would run nothing), 0 otherwise.

Examples:
  npx b2c cmdline 'b2c.container="-ti docker://registry:5000/tests:42" b2c.cache_device=auto'
  npx b2c cmdline --file /proc/cmdline
  npx b2c cmdline --file boot.ipxe --json
  npx b2c cmdline --file kernel-line.txt --extra-args b2c-extra-args`,
    )
    .action(async (line: string | undefined, options: { file?: string; extraArgs?: string; json: boolean; registryCache: string[] }) => {
      const text = line ?? (options.file ? await readFile(options.file, 'utf8') : await readStdin());
      const picked = line === undefined ? kernelArgumentsOf(text) : { line, source: 'the command line as given', notes: [] };
      const extraArgs = options.extraArgs === undefined ? undefined : await readFile(options.extraArgs, 'utf8');
      const config = extraArgs === undefined ? parseCmdline(picked.line) : parseCmdlineWithExtraArgs(picked.line, extraArgs);
      for (const note of picked.notes) process.stderr.write(`note: ${note}\n`);
      for (const error of config.errors) process.stderr.write(`error: ${error}\n`);
      const cacheWarnings = gatewayCaches(options.registryCache).flatMap(({ gateway, cache }) => upstreamWarnings(config, [cache], gateway));
      for (const warning of [...config.warnings, ...cacheWarnings]) process.stderr.write(`warning: ${warning}\n`);
      if (options.json) {
        process.stdout.write(`${JSON.stringify(configToJson(config), null, 2)}\n`);
      } else {
        if (line === undefined)
          process.stdout.write(`Checked ${picked.source}${extraArgs === undefined ? '' : `, with the extra arguments of ${options.extraArgs}`}.\n`);
        // What the rest of the line does helps to fix it: one bad option should not hide the others' meaning.
        if (config.errors.length > 0) {
          const count = config.errors.length === 1 ? 'an error' : `${config.errors.length} errors`;
          process.stdout.write(`The line has ${count}: a machine booted with it runs no container. The rest of it says:\n`);
        }
        process.stdout.write(`${explainConfig(config).join('\n')}\n`);
      }
      if (config.errors.length > 0) throw new ExitError(1);
    });
}
