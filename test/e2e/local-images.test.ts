// `b2c run --image`: images of the host's podman storage and of a `podman save` file run in the VM under their own names, with no registry
// set up by hand; a second run after one layer changed moves that layer only. Two boots, about a minute here.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { debianBusybox } from '../../src/testbed/images.ts';
import { bootB2c, expectCleanEnd } from './boot.ts';

const BASE = 'localhost/b2c-e2e-base:1';
const APP = 'localhost/b2c-e2e-app:1';
const SAVED = 'localhost/b2c-e2e-saved:1';

function podman(args: string[], input?: string): string {
  return execFileSync('podman', args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}

describe('b2c run --image', () => {
  const folder = mkdtempSync(join(tmpdir(), 'b2c-local-images-'));
  const archive = join(folder, 'saved.tar');

  /** The app image: the base and one layer of its own holding `payload`. */
  function buildApp(payload: string): void {
    const context = join(folder, 'context');
    mkdirSync(context, { recursive: true });
    writeFileSync(join(context, 'payload'), payload);
    writeFileSync(join(context, 'Containerfile'), `FROM ${BASE}\nCOPY payload /payload\n`);
    podman(['build', '--quiet', '--tag', APP, context]);
  }

  beforeAll(async () => {
    // A base made on this host from Debian's static busybox: nothing is pulled from anywhere.
    const rootfs = join(folder, 'rootfs');
    mkdirSync(join(rootfs, 'bin'), { recursive: true });
    execFileSync('cp', [await debianBusybox('amd64'), join(rootfs, 'bin/busybox')]);
    for (const applet of ['sh', 'cat', 'echo']) symlinkSync('busybox', join(rootfs, 'bin', applet));
    execFileSync('tar', ['-C', rootfs, '-cf', join(folder, 'rootfs.tar'), '.']);
    podman(['import', '--change', 'CMD ["/bin/sh"]', join(folder, 'rootfs.tar'), BASE]);
    buildApp('first-payload\n');
    // An image that exists only in a file, as a CI artifact would.
    podman(['tag', BASE, SAVED]);
    podman(['save', '--format', 'docker-archive', '--output', archive, SAVED]);
    podman(['rmi', SAVED]);
  }, 300_000);

  afterAll(() => {
    for (const image of [APP, BASE]) spawnQuietly(['rmi', '--force', image]);
    rmSync(folder, { recursive: true, force: true });
  });

  function spawnQuietly(args: string[]): void {
    try {
      podman(args);
    } catch {
      // already gone
    }
  }

  it("runs an image of the host's storage and one of a docker-archive file by their names, with b2c run's status the pipeline's", async () => {
    const result = await bootB2c([`b2c.container="${APP} sh -c 'cat /payload'"`, `b2c.container="${SAVED} sh -c 'echo from-the-archive-$((6*7)); exit 7'"`], {
      sharedRegistry: false,
      runOptions: ['--image', APP, '--image', `docker-archive:${archive}`],
    });
    expectCleanEnd(result, 7);
    expect(result.exitCode).toBe(7);
    expect(result.output).toMatch(/^first-payload\r?$/m);
    expect(result.output).toMatch(/^from-the-archive-42\r?$/m);
    expect(result.stderr).toMatch(new RegExp(`--image: ${APP}: \\d+ layers? moved`));
    expect(result.stderr).toMatch(new RegExp(`--image: ${SAVED}: \\d+ layers? moved`));
  });

  it('moves only the layer that changed on the next run', async () => {
    buildApp('second-payload\n');
    const result = await bootB2c([`b2c.container="${APP} sh -c 'cat /payload'"`], { sharedRegistry: false, runOptions: ['--image', APP] });
    expectCleanEnd(result, 0);
    expect(result.output).toMatch(/^second-payload\r?$/m);
    // The base layer was there from the first run; the new COPY layer is the one that moved.
    expect(result.stderr).toMatch(new RegExp(`--image: ${APP}: 1 layer moved \\(0\\.0 MB\\), 1 already there`));
  });

  it('names an image in no store, and one of another architecture, before anything boots', async () => {
    const missing = await bootB2c(['b2c.container="localhost/b2c-e2e-absent:1 true"'], {
      sharedRegistry: false,
      runOptions: ['--image', 'localhost/b2c-e2e-absent:1'],
    });
    expect(missing.exitCode).toBe(254);
    expect(missing.stderr).toContain('localhost/b2c-e2e-absent:1 is in no podman storage of this host');
    expect(missing.console).not.toContain('Linux version');
    // Stand-ins for an arm64 kernel and archive: the image is checked before either is read.
    const standIn = join(folder, 'stand-in');
    writeFileSync(standIn, '');
    const arm = await bootB2c([`b2c.container="${APP} true"`], {
      sharedRegistry: false,
      runOptions: ['--arch', 'arm64', '--kernel', standIn, '--initrd', standIn, '--image', APP],
    });
    expect(arm.exitCode).toBe(254);
    expect(arm.stderr).toContain(`${APP} is an amd64 image, and --arch boots an arm64 machine`);
  });
});
