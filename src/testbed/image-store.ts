// A podman image store made on the host, as a farm's gateway makes one: podman pulls into a graphroot of its own, which a test then serves read-only.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { B2cError } from '../errors.ts';

/** podman on the host with its storage in `directory` (overlay, as in the image) and no system service or configuration of the host's own. */
function hostPodman(directory: string, args: string[]): string {
  const argv = [
    '--root',
    join(directory, 'storage'),
    '--runroot',
    join(directory, 'run'),
    '--storage-driver',
    'overlay',
    '--cgroup-manager',
    'cgroupfs',
    '--events-backend',
    'file',
    ...args,
  ];
  const result = spawnSync('podman', argv, { encoding: 'utf8' });
  if (result.error) throw new B2cError('cannot run podman on the host: install the podman package', { cause: result.error });
  if (result.status !== 0) throw new B2cError(`podman ${args.join(' ')} failed with status ${result.status}: ${result.stderr.trim()}`);
  return result.stdout;
}

/**
 * Pulls `reference` (from the test registry, over plain HTTP) into an image
 * store under `directory`, and returns the store's folder (the graphroot a
 * machine names in additionalimagestores) and the image's full ID.
 */
export function fillImageStore(directory: string, reference: string): { store: string; imageId: string } {
  hostPodman(directory, ['pull', '--quiet', '--tls-verify=false', reference]);
  const imageId = hostPodman(directory, ['image', 'inspect', '--format', '{{.Id}}', reference]).trim();
  if (!/^[0-9a-f]{64}$/.test(imageId)) throw new B2cError(`podman gave no image ID for ${reference}: "${imageId}"`);
  return { store: join(directory, 'storage'), imageId };
}
