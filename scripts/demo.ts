// The README's demo: build the image, serve a busybox image from a local registry, boot a two-step pipeline in QEMU.

import { spawn } from 'node:child_process';
import { LocalRegistry } from '../src/testbed/registry.ts';
import { busyboxImage } from '../src/testbed/images.ts';

function b2c(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/b2c.js', ...args], { stdio: 'inherit' });
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
}

const built = await b2c(['build']);
if (built !== 0) process.exit(built);

const registry = await LocalRegistry.start();
try {
  await registry.push('demo/busybox', '1', await busyboxImage('/bin/busybox', 'amd64'));
  const image = `docker://10.0.2.100:${registry.port}/demo/busybox:1`;
  const status = await b2c([
    'run',
    '--forward',
    String(registry.port),
    `b2c.container="--tls-verify=false ${image} sh -c 'echo Hello from a container on Linux $(uname -r)'"`,
    `b2c.container="--tls-verify=false ${image} sh -c 'echo The previous step exited with $B2C_PIPELINE_PREV_CONTAINER_EXIT_CODE'"`,
  ]);
  process.stdout.write(`\nDemo pipeline status: ${status}\n`);
  process.exitCode = status;
} finally {
  await registry.stop();
}
