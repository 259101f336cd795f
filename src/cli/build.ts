// `b2c build`: builds the image of each architecture asked for; the builder (and esbuild) load only when this command runs.

import { InvalidArgumentError, type Command } from 'commander';
import { resolve } from 'node:path';
import { ARCHITECTURES, parseArchitectureList, type Architecture } from '../architectures.ts';
import { ADDONS, type Addon, type Compression } from '../image/output-names.ts';
import { describeError } from '../errors.ts';
import { ExitError } from './errors.ts';
import { hostCacheDir } from '../host-cache.ts';
import { B2C_VERSION } from './version.ts';

function parseCompressions(value: string, previous: Compression[] = []): Compression[] {
  const result = [...previous];
  for (const name of value.split(',')) {
    if (name !== 'xz' && name !== 'zstd' && name !== 'none') throw new InvalidArgumentError(`${name} is not one of xz, zstd, none`);
    result.push(name);
  }
  return result;
}

function parseAddons(value: string, previous: Addon[] = []): Addon[] {
  const result = [...previous];
  for (const name of value.split(',')) {
    const addon = ADDONS.find((known) => known === name);
    if (addon === undefined) throw new InvalidArgumentError(`${name} is not an add-on b2c builds (${ADDONS.join(', ')})`);
    result.push(addon);
  }
  return result;
}

interface BuildCommandOptions {
  arch: string;
  suite: string;
  mirror?: string;
  keyring?: string;
  cacheDir: string;
  out: string;
  compress: Compression[];
  refresh: boolean;
  addons: Addon[];
  kernel?: string;
  kernelImage?: string;
}

export function registerBuildCommand(program: Command): void {
  program
    .command('build')
    .description('build the initramfs and kernel from Debian packages into the output folder')
    .option('--arch <list>', `target architectures, comma-separated, or all (${Object.keys(ARCHITECTURES).join(', ')})`, 'amd64')
    .option('--suite <suite>', 'Debian suite the packages come from', 'trixie')
    .option('--mirror <url>', 'Debian mirror')
    .option('--keyring <file>', 'keyring that signs the archive')
    .option('--cache-dir <dir>', 'the host cache: package lists, downloads and extracted packages kept between builds', hostCacheDir())
    .option('--out <dir>', 'output folder', 'out')
    .option('--compress <list>', 'also write these compressions (xz is always written): zstd, none', parseCompressions, [])
    .option('--refresh', 'fetch the package lists again, and build even when nothing changed', false)
    .option(
      '--addons <list>',
      `also write these beside the image: archives a bootloader loads after the initramfs, and the device trees (${ADDONS.join(', ')})`,
      parseAddons,
      [],
    )
    .option(
      '--kernel <deb-or-folder>',
      "a farm's own kernel instead of the suite's: a linux-image .deb, or the folder of make modules_install INSTALL_MOD_PATH=…",
    )
    .option('--kernel-image <file>', "the image of that kernel, when the folder has no boot/IMAGE-RELEASE (the build's arch/…/boot/ image)")
    .action(async (options: BuildCommandOptions) => {
      const epoch = process.env.SOURCE_DATE_EPOCH;
      if (epoch !== undefined && !/^\d+$/.test(epoch)) throw new ExitError(2, `SOURCE_DATE_EPOCH=${epoch} is not a number of seconds`);
      let architectures: Architecture[];
      try {
        architectures = parseArchitectureList(options.arch);
      } catch (error) {
        throw new ExitError(2, describeError(error));
      }
      if (options.kernelImage !== undefined && options.kernel === undefined) throw new ExitError(2, '--kernel-image goes with --kernel');
      if (options.kernel !== undefined && architectures.length > 1) throw new ExitError(2, '--kernel is one kernel: give one --arch, the one it was built for');
      const [{ buildImage }, { megabytes }, { streamProgress }, { nodeSystem }] = await Promise.all([
        import('../image/build.ts'),
        import('../image/manifest.ts'),
        import('../image/progress.ts'),
        import('../system/node.ts'),
      ]);
      // Each architecture is built even when another failed, so one missing package does not cost the others' work.
      const failed: string[] = [];
      for (const arch of architectures) {
        const prefix = architectures.length > 1 ? `b2c[${arch.debian}]` : 'b2c';
        try {
          const result = await buildImage(
            nodeSystem,
            {
              arch: arch.debian,
              suite: options.suite,
              mirror: options.mirror,
              keyring: options.keyring,
              cacheDir: resolve(options.cacheDir),
              outDir: resolve(options.out),
              compressions: options.compress,
              refresh: options.refresh,
              sourceDateEpoch: epoch === undefined ? 0 : Number(epoch),
              version: B2C_VERSION,
              addons: options.addons,
              ...(options.kernel === undefined
                ? {}
                : { kernel: { path: resolve(options.kernel), ...(options.kernelImage === undefined ? {} : { image: resolve(options.kernelImage) }) } }),
            },
            streamProgress(process.stderr, prefix),
          );
          for (const [compression, path] of Object.entries(result.initramfs) as Array<[Compression, string | undefined]>) {
            if (path) process.stdout.write(`${path} (${megabytes(result.sizes[compression] ?? 0)})\n`);
          }
          for (const addon of Object.values(result.addons)) process.stdout.write(`${addon.path} (${megabytes(addon.bytes)})\n`);
          process.stdout.write(`${result.kernel}\n${result.manifest}\n`);
        } catch (error) {
          if (architectures.length === 1) throw error;
          process.stderr.write(`${prefix}: ${describeError(error)}\n`);
          failed.push(arch.debian);
        }
      }
      if (failed.length > 0) throw new ExitError(1, `the build failed for ${failed.join(', ')} (the others are in ${options.out})`);
    });
}
