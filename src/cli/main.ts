// The `b2c` command line: one subcommand per job, and the single place where errors become exit statuses.

import { Command, InvalidArgumentError } from 'commander';
import { resolve } from 'node:path';
import { buildImage, megabytes, type Compression } from '../build/build.ts';
import { streamProgress } from '../build/progress.ts';
import { nodeSystem } from '../system/node.ts';
import { describeError, ExitError } from './errors.ts';
import { registerCmdlineCommand } from './cmdline.ts';
import { defaultCacheDir } from './paths.ts';
import { registerRunCommand } from './run.ts';
import { B2C_VERSION } from './version.ts';

function parseCompressions(value: string, previous: Compression[] = []): Compression[] {
  const result = [...previous];
  for (const name of value.split(',')) {
    if (name !== 'xz' && name !== 'zstd' && name !== 'none') throw new InvalidArgumentError(`${name} is not one of xz, zstd, none`);
    result.push(name);
  }
  return result;
}

const program = new Command()
  .name('b2c')
  .description('boot2container: boot machines straight into containers')
  .version(B2C_VERSION)
  .showHelpAfterError();

program
  .command('build')
  .description('build the initramfs and kernel from Debian packages into the output folder')
  .option('--arch <arch>', 'target architecture', 'amd64')
  .option('--suite <suite>', 'Debian suite the packages come from', 'trixie')
  .option('--mirror <url>', 'Debian mirror')
  .option('--keyring <file>', 'keyring that signs the archive')
  .option('--cache-dir <dir>', 'where package lists and downloads are kept between builds', defaultCacheDir())
  .option('--out <dir>', 'output folder', 'out')
  .option('--compress <list>', 'also write these compressions (xz is always written): zstd, none', parseCompressions, [])
  .option('--refresh', 'fetch the package lists again even when cached', false)
  .action(async (options: { arch: string; suite: string; mirror?: string; keyring?: string; cacheDir: string; out: string; compress: Compression[]; refresh: boolean }) => {
    const epoch = process.env.SOURCE_DATE_EPOCH;
    if (epoch !== undefined && !/^\d+$/.test(epoch)) throw new ExitError(2, `SOURCE_DATE_EPOCH=${epoch} is not a number of seconds`);
    const result = await buildImage(
      nodeSystem,
      {
        arch: options.arch,
        suite: options.suite,
        mirror: options.mirror,
        keyring: options.keyring,
        cacheDir: resolve(options.cacheDir),
        outDir: resolve(options.out),
        compressions: options.compress,
        refresh: options.refresh,
        sourceDateEpoch: epoch === undefined ? 0 : Number(epoch),
        version: B2C_VERSION,
      },
      streamProgress(process.stderr),
    );
    for (const [compression, path] of Object.entries(result.initramfs)) {
      if (path) process.stdout.write(`${path} (${megabytes(result.sizes[compression as Compression] ?? 0)})\n`);
    }
    process.stdout.write(`${result.kernel}\n${result.manifest}\n`);
  });

registerRunCommand(program);
registerCmdlineCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof ExitError) {
    if (error.message !== `exit status ${error.code}`) process.stderr.write(`b2c: ${error.message}\n`);
    process.exitCode = error.code;
  } else {
    process.stderr.write(`b2c: ${describeError(error)}\n`);
    process.exitCode = 1;
  }
}
