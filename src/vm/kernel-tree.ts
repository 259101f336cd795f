// `b2c run --kernel-tree`: a kernel developer's tree, its image and modules made into b2c's archives, rebuilt only when they changed.

import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import type { Architecture } from '../architectures.ts';
import { describeError } from '../errors.ts';
import { HostToolError } from './machine.ts';
import { planKernelTree } from './kernel-tree-plan.ts';

export interface KernelTreeBoot {
  kernel: string;
  /** The initramfs, then the modules add-on. */
  initrds: string[];
}

/** A digest of what says the tree's modules changed: the files its `make modules` writes last, by size and time. */
function modulesDigest(tree: string): string {
  const hash = createHash('sha256');
  for (const file of ['modules.order', 'Module.symvers', 'modules.builtin']) {
    const path = join(tree, file);
    if (existsSync(path)) hash.update(`${file} ${statSync(path).size} ${statSync(path).mtimeMs}`);
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * Builds (or keeps, when nothing changed) the image for the tree's kernel in
 * the host cache, with its modules: those the tree has installed, or a
 * `make modules_install` of it into the cache when its modules changed.
 */
export async function prepareKernelTree(
  treeArgument: string,
  arch: Architecture,
  options: { cacheDir: string; version: string; say: (line: string) => void },
): Promise<KernelTreeBoot> {
  const { cacheDir, version, say } = options;
  const tree = resolve(treeArgument);
  if (!existsSync(tree) || !statSync(tree).isDirectory()) throw new HostToolError(`--kernel-tree ${treeArgument} is not a folder`);
  const installedRoot = join(tree, 'lib/modules');
  const installed = existsSync(installedRoot) && readdirSync(installedRoot).length > 0;
  const plan = planKernelTree(tree, arch, (relative) => existsSync(join(tree, relative)), installed);
  if (typeof plan === 'string') throw new HostToolError(plan);
  const key = createHash('sha256').update(`${tree}\0${arch.debian}`).digest('hex').slice(0, 16);
  const work = join(cacheDir, 'kernel-trees', key);
  let modulesRoot: string;
  if (plan.modules.kind === 'installed') modulesRoot = plan.modules.root;
  else {
    modulesRoot = join(work, 'modules');
    const stamp = join(work, 'modules.digest');
    const digest = modulesDigest(tree);
    if (existsSync(stamp) && (await readFile(stamp, 'utf8')) === digest) say(`--kernel-tree: the modules did not change: keeping ${modulesRoot}`);
    else {
      say(`--kernel-tree: make modules_install INSTALL_MOD_PATH=${modulesRoot}`);
      await rm(modulesRoot, { recursive: true, force: true });
      await mkdir(modulesRoot, { recursive: true });
      const make = spawnSync('make', ['-C', tree, 'modules_install', `INSTALL_MOD_PATH=${modulesRoot}`], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
      if (make.error !== undefined) throw new HostToolError(`cannot run make: ${make.error.message} (apt-get install make)`);
      if (make.status !== 0) throw new HostToolError(`make modules_install failed in ${tree}:\n${make.stderr.trim().split('\n').slice(-10).join('\n')}`);
      await writeFile(stamp, digest);
    }
  }
  say(`--kernel-tree: the image for ${plan.image} and its modules (kept when nothing changed)`);
  // Loaded here: the image builder stays out of every other b2c run.
  const [{ buildImage }, { streamProgress }, { nodeSystem }] = await Promise.all([
    import('../image/build.ts'),
    import('../image/progress.ts'),
    import('../system/node.ts'),
  ]);
  try {
    const result = await buildImage(
      nodeSystem,
      {
        arch: arch.debian,
        suite: 'trixie',
        cacheDir,
        outDir: join(work, 'out'),
        compressions: ['none'],
        developerRun: true,
        refresh: false,
        sourceDateEpoch: 0,
        version,
        addons: ['modules'],
        kernel: { path: modulesRoot, image: plan.image },
      },
      streamProgress(process.stderr, 'b2c'),
    );
    const initramfs = result.initramfs.none;
    const modules = result.addons.modules?.path;
    if (initramfs === undefined || modules === undefined) throw new HostToolError('the build of the tree left no uncompressed archive or modules add-on');
    return { kernel: result.kernel, initrds: [initramfs, modules] };
  } catch (error) {
    if (error instanceof HostToolError) throw error;
    throw new HostToolError(`cannot make the image for ${tree}: ${describeError(error)}`);
  }
}
