// `b2c cmdline`: checks a command line and says what a machine booted with it would do.

import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import type { ContainerStep } from '../cmdline/container.ts';
import { parseCmdline, type B2cConfig } from '../cmdline/parse.ts';
import { ExitError } from './errors.ts';

function describeStep(label: string, step: ContainerStep): string[] {
  return [`${label}: ${step.image}`, `    argv: ${JSON.stringify(step.argv)}`, ...(step.command.length > 0 ? [`    command: ${JSON.stringify(step.command)}`] : [])];
}

/** The plain-words explanation of a parsed line. */
export function explainConfig(config: B2cConfig): string[] {
  const lines: string[] = [];
  if (config.containers.length === 0) lines.push('No pipeline step: the machine boots, runs nothing and shuts down.');
  config.containers.forEach((step, index) => lines.push(...describeStep(`Step ${index + 1}`, step)));
  if (config.pipefail) lines.push('The pipeline stops at the first failing step (b2c.pipefail).');
  config.postContainers.forEach((step, index) => lines.push(...describeStep(`Post container ${index + 1} (always runs)`, step)));
  lines.push(`Then: ${config.poweroffDelay > 0 ? `wait ${config.poweroffDelay} s, ` : ''}${config.shutdownCmd.join(' ')} (or ${config.rebootCmd.join(' ')} when a container asks for a reboot).`);
  return lines;
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
    .option('--file <file>', 'read the line from a file, e.g. /proc/cmdline')
    .option('--json', 'print the parsed configuration as JSON', false)
    .action(async (line: string | undefined, options: { file?: string; json: boolean }) => {
      const text = line ?? (options.file ? await readFile(options.file, 'utf8') : await readStdin());
      const config = parseCmdline(text);
      for (const error of config.errors) process.stderr.write(`error: ${error}\n`);
      for (const warning of config.warnings) process.stderr.write(`warning: ${warning}\n`);
      if (options.json) process.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
      else if (config.errors.length === 0) process.stdout.write(`${explainConfig(config).join('\n')}\n`);
      if (config.errors.length > 0) throw new ExitError(1);
    });
}
