// The `b2c` command line: one subcommand per job, and the single place where errors become exit statuses.

import { Command } from 'commander';
import { registerBuildCommand } from './build.ts';
import { registerCmdlineCommand } from './cmdline.ts';
import { describeFailure } from '../errors.ts';
import { ExitError } from './errors.ts';
import { registerPrefetchCommand } from './prefetch.ts';
import { registerRunCommand } from './run.ts';
import { registerServeCommand } from './serve.ts';
import { B2C_VERSION } from './version.ts';

const program = new Command().name('b2c').description('boot2container: boot machines straight into containers').version(B2C_VERSION).showHelpAfterError();

registerBuildCommand(program);
registerRunCommand(program);
registerCmdlineCommand(program);
registerServeCommand(program);
registerPrefetchCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof ExitError) {
    if (error.message !== `exit status ${error.code}`) process.stderr.write(`b2c: ${error.message}\n`);
    process.exitCode = error.code;
  } else {
    process.stderr.write(`b2c: ${describeFailure(error)}\n`);
    process.exitCode = 1;
  }
}
