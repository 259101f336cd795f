// Checks a built image's modules against its kernel's own index: the policy's modules, their soft dependencies, the PHY drivers of the MACs.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { hostCacheDir } from '../../src/host-cache.ts';
import { ARCHITECTURE_MODULE_FAMILIES, imageModules, MODULE_FAMILIES, MODULES_SOME_KERNELS_LACK } from '../../src/image/contents.ts';
import { moduleName, parseModulesDep } from '../../src/image/modules.ts';
import { outputNames } from '../../src/image/output-names.ts';
import { canonicalModuleName, indexLineWords, parseSoftDependencies } from '../../src/module-index.ts';

export function expectModulePolicyShipped(arch: string): void {
  const manifest = JSON.parse(readFileSync(join('out', outputNames(arch).manifest), 'utf8')) as {
    kernel: { package: string; version: string; release: string };
    files: Array<{ path: string }>;
  };
  const kernelModules = join(
    hostCacheDir(),
    'extracted',
    `${manifest.kernel.package}_${manifest.kernel.version}_${arch}`,
    'usr/lib/modules',
    manifest.kernel.release,
  );
  const index = (file: string): string => readFileSync(join(kernelModules, file), 'utf8');
  const inKernel = new Set([...parseModulesDep(index('modules.dep')).keys()].map(moduleName));
  const builtIn = new Set(index('modules.builtin').split('\n').filter(Boolean).map(moduleName));
  const shipped = new Set(manifest.files.filter((file) => file.path.endsWith('.ko')).map((file) => moduleName(file.path)));

  const policy = imageModules(arch).map(canonicalModuleName);
  const absent = policy.filter((name) => !shipped.has(name) && !builtIn.has(name) && !MODULES_SOME_KERNELS_LACK.includes(name));
  expect(absent, `modules of the ${arch} policy the image lacks`).toEqual([]);

  // busybox's modprobe does not read modules.softdep: /init loads them, and only what the image ships can load.
  const softDependencies = parseSoftDependencies(index('modules.softdep'));
  const unmet: string[] = [];
  for (const module of shipped) {
    const soft = softDependencies.get(module);
    for (const dependency of [...(soft?.pre ?? []), ...(soft?.post ?? [])].map(canonicalModuleName)) {
      if (inKernel.has(dependency) && !shipped.has(dependency)) unmet.push(`${module} → ${dependency}`);
    }
  }
  expect(unmet, `soft dependencies of shipped ${arch} modules the image lacks`).toEqual([]);

  // The PHY drivers the policy names are what the kernel's mdio: aliases bind to PHY chips.
  const phyDrivers = new Set(
    index('modules.alias')
      .split('\n')
      .map(indexLineWords)
      .filter((words) => words[0] === 'alias' && words[1]?.startsWith('mdio:') === true)
      .map((words) => canonicalModuleName(words[2] as string)),
  );
  const phys = [...(MODULE_FAMILIES.phys ?? []), ...(ARCHITECTURE_MODULE_FAMILIES[arch]?.['board phys'] ?? [])];
  expect(
    phys.filter((name) => !phyDrivers.has(name) || !shipped.has(name)),
    `PHY drivers of the ${arch} policy that are not shipped PHY drivers`,
  ).toEqual([]);
}
