// The plan of `b2c run --kernel-tree`: the image a built tree holds for the machine's architecture, and where its modules come from.

import { describe, expect, it } from 'vitest';
import { architecture } from '../../src/architectures.ts';
import { planKernelTree } from '../../src/vm/kernel-tree-plan.ts';

const inTree =
  (files: string[]) =>
  (relative: string): boolean =>
    files.includes(relative);

describe('a kernel tree', () => {
  it('boots its own image with the modules it installed, or with those b2c installs from its build', () => {
    expect(planKernelTree('/src/linux', architecture('amd64'), inTree(['arch/x86/boot/bzImage']), true)).toEqual({
      image: '/src/linux/arch/x86/boot/bzImage',
      modules: { kind: 'installed', root: '/src/linux' },
    });
    expect(planKernelTree('/src/linux', architecture('arm64'), inTree(['arch/arm64/boot/Image', 'modules.order']), false)).toEqual({
      image: '/src/linux/arch/arm64/boot/Image',
      modules: { kind: 'make', tree: '/src/linux' },
    });
  });

  it('says a tree of another architecture, a tree not built, and one without modules', () => {
    expect(planKernelTree('/src/linux', architecture('amd64'), inTree(['arch/arm64/boot/Image']), false)).toBe(
      '/src/linux holds a kernel built for arm64 (arch/arm64/boot/Image), not amd64: give --arch arm64',
    );
    expect(planKernelTree('/src/linux', architecture('amd64'), inTree([]), false)).toMatch(/no built kernel for amd64: arch\/x86\/boot\/bzImage is missing/);
    expect(planKernelTree('/src/linux', architecture('amd64'), inTree(['arch/x86/boot/bzImage']), false)).toMatch(/has no modules: build them/);
  });
});
