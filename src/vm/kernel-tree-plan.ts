// `b2c run --kernel-tree`, planned: the kernel image a built tree holds for an architecture, and where its modules come from.

import { ARCHITECTURES, type Architecture } from '../architectures.ts';

/** How a tree's modules reach the image: a `modules_install` output already in the tree, or one b2c makes into the host cache. */
export type TreeModules = { kind: 'installed'; root: string } | { kind: 'make'; tree: string };

export interface KernelTreePlan {
  /** The image the tree's build left, e.g. `arch/x86/boot/bzImage`. */
  image: string;
  modules: TreeModules;
}

/**
 * Reads what a tree has (`exists` answers for a path inside it) into a plan,
 * or says what is wrong: no built kernel, one of another architecture, no
 * modules at all.
 */
export function planKernelTree(tree: string, arch: Architecture, exists: (relative: string) => boolean, modulesInstalled: boolean): KernelTreePlan | string {
  if (!exists(arch.kernelHeader.built)) {
    const other = Object.values(ARCHITECTURES).find((candidate) => candidate.debian !== arch.debian && exists(candidate.kernelHeader.built));
    if (other !== undefined)
      return `${tree} holds a kernel built for ${other.debian} (${other.kernelHeader.built}), not ${arch.debian}: give --arch ${other.debian}`;
    return `${tree} holds no built kernel for ${arch.debian}: ${arch.kernelHeader.built} is missing (run make in the tree first)`;
  }
  const image = `${tree}/${arch.kernelHeader.built}`;
  // make modules_install INSTALL_MOD_PATH=TREE puts them in TREE/lib/modules/RELEASE.
  if (modulesInstalled) return { image, modules: { kind: 'installed', root: tree } };
  if (exists('modules.order')) return { image, modules: { kind: 'make', tree } };
  return `${tree} has no modules: build them (make modules), or install them into it (make modules_install INSTALL_MOD_PATH=${tree})`;
}
