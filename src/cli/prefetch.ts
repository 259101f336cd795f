// `b2c prefetch`: fetches into the host cache what b2c serve, its registries and b2c run --netboot run, for a gateway without internet.

import type { Command } from 'commander';
import { describeError } from '../errors.ts';
import { REGISTRY_PACKAGES } from '../serve/registries.ts';
import { SERVE_PACKAGES } from '../serve/server.ts';
import { UEFI_PACKAGES } from '../vm/firmware.ts';
import { ExitError } from './errors.ts';

/** Everything the gateway's side of b2c runs from Debian. */
export const GATEWAY_PACKAGES = [...SERVE_PACKAGES, ...REGISTRY_PACKAGES, ...UEFI_PACKAGES];

export function registerPrefetchCommand(program: Command): void {
  program
    .command('prefetch')
    .description('fetch what b2c serve, its registries and b2c run --netboot run (dnsmasq, iPXE, docker-registry, nginx, OVMF, AAVMF) into the host cache')
    .option('--check', 'only say what is still to fetch; exit status 1 if anything is', false)
    .addHelpText(
      'after',
      `
Run it where Debian's mirror is reachable, before the gateway goes offline or
before b2c serve runs inside a network namespace; b2c build fetches the image's
packages itself. Nothing is installed on the host.`,
    )
    .action(async (options: { check: boolean }) => {
      // Loaded here: the apt code stays out of every other command's start.
      const { debianPackagesToFetch, describeFetch, DebianTools } = await import('../debian/tools.ts');
      const needs = describeFetch(await debianPackagesToFetch(GATEWAY_PACKAGES));
      if (needs === undefined) {
        process.stdout.write('b2c prefetch: everything b2c serve and b2c run --netboot run is in the host cache\n');
        return;
      }
      process.stdout.write(`b2c prefetch: ${options.check ? 'still to fetch' : 'fetching'}: ${needs}\n`);
      if (options.check) throw new ExitError(1);
      try {
        await DebianTools.prepare(GATEWAY_PACKAGES);
      } catch (error) {
        throw new ExitError(1, `cannot fetch from Debian: ${describeError(error)}`);
      }
      process.stdout.write('b2c prefetch: done; b2c serve and b2c run --netboot now start without the internet\n');
    });
}
