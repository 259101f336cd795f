// The pipeline's volumes: created (or reused) as podman volumes, synced with S3 at the events b2c.volume names, and dropped when they expire.

import type { B2cConfig, VolumeConfig } from '../cmdline/config.ts';
import { proxyEnvironment } from '../cmdline/proxy.ts';
import { B2cError, describeError } from '../errors.ts';
import { B2C_RUN_DIRECTORY } from '../image-layout.ts';
import { resolveBucketPath, S3Client, type S3Location } from '../s3/client.ts';
import { describeReport, pullVolume, pushVolume } from '../s3/mirror.ts';
import { runChecked, type System } from '../system/system.ts';
import type { Log } from './console.ts';
import { applyFscryptKey, filesystemTypeOf } from './fscrypt.ts';
import { parseVolumeList, PODMAN_VOLUMES_ARGS, podmanVolumeCreateArgs } from './podman.ts';
import { continuouslyPushed, expiringVolumes, syncActionsAt, type PipelineEvent, type SyncAction } from './volumes-plan.ts';

/** S3 keys go to files here (a tmpfs), read by curl, never on a command line. */
const CREDENTIALS_DIRECTORY = `${B2C_RUN_DIRECTORY}/s3`;

/** A volume that could not be set up or synced: the pipeline fails, and the message says why. */
export interface VolumeFailure {
  volume: string;
  message: string;
}

interface ReadyVolume {
  config: VolumeConfig;
  /** The folder containers see, as podman reports it. */
  directory: string;
  pullFrom?: S3Location;
  pushTo?: S3Location;
  /** A pull of it failed: it is never pushed, so a half-pulled folder does not replace the bucket's content. */
  pullFailed: boolean;
}

function lines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

export class Volumes {
  private readonly ready = new Map<string, ReadyVolume>();
  /** Volumes backed by a b2c.filesystem that b2c mounted, to unmount at the end. */
  private readonly mounted = new Set<string>();
  private readonly client: S3Client;
  /** Messages of continuous pushes already shown, so that a pass that keeps failing the same way says it once. */
  private readonly continuousFailuresShown = new Set<string>();

  constructor(
    private readonly system: System,
    private readonly output: Log,
    private readonly config: B2cConfig,
  ) {
    this.client = new S3Client(system, CREDENTIALS_DIRECTORY, { environment: proxyEnvironment(config.proxy) });
  }

  get any(): boolean {
    return this.config.volumes.length > 0;
  }

  /** Some volume backed by a b2c.filesystem is mounted now. */
  get filesystemsMounted(): boolean {
    return this.mounted.size > 0;
  }

  /** Some volume is pushed while containers run. */
  get pushedContinuously(): boolean {
    return continuouslyPushed(this.config.volumes).length > 0;
  }

  /**
   * Removes expiring volumes a crashed boot left behind, then creates or
   * reuses each volume. A volume that cannot be set up is a failure; the
   * others still are. podman takes most of a second per call under
   * emulation, so volumes and their folders are listed all at once.
   */
  async setUp(): Promise<VolumeFailure[]> {
    const listed = parseVolumeList((await runChecked(this.system, PODMAN_VOLUMES_ARGS, { captureStdout: true, context: 'listing the volumes' })).stdout);
    for (const leftover of listed.filter((volume) => volume.expiring)) {
      await this.output.log(`Removing the volume ${leftover.name}, which an earlier boot left behind although it expired with its pipeline`);
      await this.removeVolume(leftover.name);
    }
    const existing = new Set(listed.filter((volume) => !volume.expiring).map((volume) => volume.name));
    const failures: VolumeFailure[] = [];
    const fail = (volume: VolumeConfig, error: unknown): void => {
      failures.push({ volume: volume.name, message: `could not set up the volume ${volume.name}: ${describeError(error)}` });
    };
    const created = new Map<string, boolean>();
    for (const volume of this.config.volumes) {
      try {
        if (!existing.has(volume.name)) await this.create(volume);
        created.set(volume.name, !existing.has(volume.name));
      } catch (error) {
        fail(volume, error);
      }
    }
    const plain = this.config.volumes.filter((volume) => created.has(volume.name) && volume.filesystem === undefined).map((volume) => volume.name);
    const mountpoints = await this.mountpoints(plain);
    for (const volume of this.config.volumes) {
      const wasCreated = created.get(volume.name);
      if (wasCreated === undefined) continue;
      try {
        const directory = mountpoints.get(volume.name) ?? (await this.mount(volume.name));
        this.ready.set(volume.name, await this.finishSetUp(volume, directory, wasCreated));
      } catch (error) {
        fail(volume, error);
      }
    }
    return failures;
  }

  private async create(volume: VolumeConfig): Promise<void> {
    const filesystem = volume.filesystem === undefined ? undefined : this.config.filesystems.find((candidate) => candidate.name === volume.filesystem);
    await runChecked(this.system, podmanVolumeCreateArgs(volume, filesystem), { captureStdout: true, context: `podman volume create ${volume.name}` });
  }

  /** The folders of volumes that need no mounting, in one podman call. */
  private async mountpoints(names: readonly string[]): Promise<Map<string, string>> {
    if (names.length === 0) return new Map();
    const result = await runChecked(this.system, ['podman', 'volume', 'inspect', '--format', '{{.Name}} {{.Mountpoint}}', ...names], {
      captureStdout: true,
      context: 'podman volume inspect',
    });
    return new Map(lines(result.stdout).map((line) => [line.slice(0, line.indexOf(' ')), line.slice(line.indexOf(' ') + 1)]));
  }

  /** Mounts a volume backed by a b2c.filesystem; podman keeps it mounted until `podman volume unmount`. */
  private async mount(name: string): Promise<string> {
    const mounted = await runChecked(this.system, ['podman', 'volume', 'mount', name], { captureStdout: true, context: `podman volume mount ${name}` });
    this.mounted.add(name);
    return mounted.stdout.trim();
  }

  private async finishSetUp(volume: VolumeConfig, directory: string, created: boolean): Promise<ReadyVolume> {
    if (volume.encryptKey !== undefined) {
      // s3rver, the only S3 server that runs here, ignores SSE-C: it could not be tested, and silently storing in the clear is worse than refusing.
      throw new B2cError(
        'encrypt_key (S3 server-side encryption with a customer key) is not supported by this b2c: the volume is refused rather than sent unencrypted',
      );
    }
    if (volume.fscryptKey !== undefined) {
      const type = filesystemTypeOf((await this.system.readText('/proc/mounts')) ?? '', directory);
      if (type !== 'ext4')
        throw new B2cError(`fscrypt_key needs the volume on the ext4 cache disk (b2c.cache_device), but it is on ${type ?? 'an unknown filesystem'}`);
      let outcome = await applyFscryptKey(this.system, directory, volume.fscryptKey);
      if ((outcome.kind === 'other-key' || outcome.kind === 'not-empty') && volume.fscryptResetKey) {
        const state = outcome.kind === 'other-key' ? 'encrypted with another key' : 'not encrypted';
        await this.output.log(`Volume ${volume.name}: ${state}; fscrypt_reset_key empties it and encrypts it with the key given`);
        if (this.mounted.delete(volume.name)) await this.system.run(['podman', 'volume', 'unmount', volume.name], { captureStdout: true, captureStderr: true });
        await runChecked(this.system, ['podman', 'volume', 'rm', '--force', volume.name], { captureStdout: true, context: `podman volume rm ${volume.name}` });
        await this.create(volume);
        created = true;
        directory = (await this.mountpoints([volume.name])).get(volume.name) ?? (await this.mount(volume.name));
        outcome = await applyFscryptKey(this.system, directory, volume.fscryptKey);
      }
      if (outcome.kind === 'other-key')
        throw new B2cError(
          'it is encrypted with another key: fscrypt_key does not match (its content is kept; add fscrypt_reset_key to empty it and start over with this key)',
        );
      if (outcome.kind === 'not-empty')
        throw new B2cError('it holds files that are not encrypted, and only an empty folder can be (add fscrypt_reset_key to empty it)');
      if (outcome.kind === 'failed') throw new B2cError(`e4crypt could not apply the key: ${outcome.detail}`);
    }
    const ready: ReadyVolume = { config: volume, directory, pullFailed: false };
    if (volume.pullFrom !== undefined) ready.pullFrom = resolveBucketPath(volume.pullFrom, this.config.minio);
    if (volume.pushTo !== undefined) ready.pushTo = resolveBucketPath(volume.pushTo, this.config.minio);
    const notes = [created ? 'created' : 'reused', `at ${directory}`];
    if (volume.fscryptKey !== undefined) notes.push('encrypted with fscrypt');
    if (volume.expiration === 'pipeline_end') notes.push('removed when the pipeline ends');
    await this.output.log(`Volume ${volume.name}: ${notes.join(', ')}`);
    return ready;
  }

  /** Runs the syncs an event calls for; each failure is returned, and the other volumes still sync. */
  async sync(event: PipelineEvent): Promise<VolumeFailure[]> {
    const failures: VolumeFailure[] = [];
    for (const action of syncActionsAt(this.config.volumes, event)) {
      const failure = await this.runAction(action);
      if (failure) failures.push(failure);
    }
    return failures;
  }

  private async runAction(action: SyncAction, quietWhenIdle = false): Promise<VolumeFailure | undefined> {
    const volume = this.ready.get(action.volume);
    if (volume === undefined) return undefined;
    const pulling = action.direction === 'pull';
    const location = pulling ? volume.pullFrom : volume.pushTo;
    const bucketPath = pulling ? volume.config.pullFrom : volume.config.pushTo;
    if (location === undefined) return undefined;
    if (!pulling && volume.pullFailed) {
      return {
        volume: volume.config.name,
        message: `the volume ${volume.config.name} is not pushed to ${bucketPath}: its pull failed, and its content is not complete`,
      };
    }
    const options = { overwrite: volume.config.overwrite, remove: volume.config.remove, exclude: volume.config.exclude, preserve: volume.config.preserve };
    const started = this.system.now();
    try {
      if (!quietWhenIdle) await this.output.log(`${pulling ? 'Pulling' : 'Pushing'} the volume ${volume.config.name} ${pulling ? 'from' : 'to'} ${bucketPath}`);
      const report = pulling
        ? await pullVolume(this.system, this.client, location, volume.directory, options)
        : await pushVolume(this.system, this.client, location, volume.directory, options);
      if (!quietWhenIdle || report.copied > 0 || report.removed > 0) {
        const seconds = ((this.system.now() - started) / 1000).toFixed(2);
        const done = `${pulling ? 'Pulled' : 'Pushed'} the volume ${volume.config.name} ${pulling ? 'from' : 'to'} ${bucketPath}`;
        await this.output.log(`${done} in ${seconds} s: ${describeReport(report)}`);
      }
      return undefined;
    } catch (error) {
      if (pulling) volume.pullFailed = true;
      const message = `could not ${action.direction} the volume ${volume.config.name} ${pulling ? 'from' : 'to'} ${bucketPath}: ${describeError(error)}`;
      return { volume: volume.config.name, message };
    }
  }

  /**
   * One pass of the continuous pushes (`push_on=changes`), while a container
   * runs. A failure is said once and not counted: the final push at pipeline
   * end is the one that decides.
   */
  async pushChanges(): Promise<void> {
    for (const name of continuouslyPushed(this.config.volumes)) {
      const failure = await this.runAction({ volume: name, direction: 'push' }, true);
      if (failure && !this.continuousFailuresShown.has(failure.message)) {
        this.continuousFailuresShown.add(failure.message);
        await this.output.log(`Warning: ${failure.message} (trying again while the container runs)`);
      }
    }
  }

  /** Unmounts the volumes b2c mounted and removes those that expire with the pipeline. */
  async tearDown(): Promise<void> {
    for (const name of this.mounted) {
      const result = await this.system.run(['podman', 'volume', 'unmount', name], { captureStdout: true, captureStderr: true });
      if (result.status !== 0) await this.output.log(`Could not unmount the volume ${name}: ${result.stderr.trim()}`);
    }
    this.mounted.clear();
    for (const name of expiringVolumes(this.config.volumes)) {
      if (!this.ready.has(name)) continue;
      await this.output.log(`Removing the volume ${name}: it expires with the pipeline`);
      await this.removeVolume(name);
    }
    this.ready.clear();
  }

  private async removeVolume(name: string): Promise<void> {
    const result = await this.system.run(['podman', 'volume', 'rm', '--force', name], { captureStdout: true, captureStderr: true });
    if (result.status !== 0) await this.output.log(`Could not remove the volume ${name}: ${result.stderr.trim()}`);
  }
}
