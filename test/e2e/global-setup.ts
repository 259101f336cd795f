// Shared by every end-to-end test: one build of the amd64 image (with its add-ons and its uncompressed archive), one local registry holding the test images.

import { spawnSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { ARCHITECTURES } from '../../src/architectures.ts';
import { busyboxImage, incompressibleBytes, multiArchBusyboxImage } from '../../src/testbed/images.ts';
import { LocalRegistry } from '../../src/testbed/registry.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    registryPort: number;
    /** The registry's storage, for a second registry on a test LAN. */
    registryData: string;
    /** The registry's log, where tests count blob downloads. */
    registryLog: string;
    /** The layer of b2c-test/big:1, an image of about 50 MB. */
    bigLayerDigest: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The uncompressed archive too, which most boots take (test/e2e/boot.ts).
  const build = spawnSync(process.execPath, ['bin/b2c.js', 'build', '--addons', 'modules,firmware', '--compress', 'none'], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (build.status !== 0) throw new Error(`b2c build failed with status ${build.status}`);
  const registry = await LocalRegistry.start();
  // One reference for every architecture: each guest's podman picks its own platform from the index.
  await registry.push('b2c-test/busybox', '1', await multiArchBusyboxImage(Object.keys(ARCHITECTURES)));
  const big = await busyboxImage('/bin/busybox', 'amd64', [
    { path: 'data/', kind: 'dir' },
    { path: 'data/blob', kind: 'file', mode: 0o644, data: incompressibleBytes(48 * 1024 * 1024) },
  ]);
  await registry.push('b2c-test/big', '1', big);
  project.provide('registryPort', registry.port);
  project.provide('registryLog', registry.logFile);
  project.provide('registryData', registry.dataDirectory);
  project.provide('bigLayerDigest', (big.layers[0] as { digest: string }).digest);
  return () => registry.stop();
}
