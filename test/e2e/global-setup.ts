// Shared by every end-to-end test: one build of the image, one local registry holding the test images.

import { spawnSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { busyboxImage } from '../../src/testbed/images.ts';
import { LocalRegistry } from '../../src/testbed/registry.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    registryPort: number;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const build = spawnSync(process.execPath, ['bin/b2c.js', 'build'], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (build.status !== 0) throw new Error(`b2c build failed with status ${build.status}`);
  const registry = await LocalRegistry.start();
  await registry.push('b2c-test/busybox', '1', await busyboxImage('/bin/busybox', 'amd64'));
  project.provide('registryPort', registry.port);
  return () => registry.stop();
}
