// Mirrors a volume's folder with its S3 location, one way per call: list both sides, plan, then get, put and delete file by file.

import { B2cError } from '../errors.ts';
import type { System } from '../system/system.ts';
import { planMirror, type MirrorEntry, type MirrorOptions, type MirrorPlan } from './mirror-plan.ts';
import { PARTIAL_SUFFIX, type S3Client, type S3Location } from './client.ts';
import type { RemoteObject } from './listing.ts';

/** The mirror's options, and whether file modes travel with the files (b2c.volume's `preserve`). */
export interface SyncOptions extends MirrorOptions {
  preserve?: boolean;
}

/** What one sync did, for the console. */
export interface SyncReport {
  copied: number;
  bytes: number;
  removed: number;
  /** Entries that differ but were left alone, since overwrite is off. */
  kept: number;
  /** Local entries that are neither files nor folders (links, devices), which S3 cannot hold. */
  skipped: string[];
}

/** Every regular file below `root`, with paths relative to it; links and special files are reported, not followed. */
export async function listLocal(system: System, root: string): Promise<{ files: Array<MirrorEntry & { mode: number }>; skipped: string[] }> {
  const files: Array<MirrorEntry & { mode: number }> = [];
  const skipped: string[] = [];
  const walk = async (relative: string): Promise<void> => {
    for (const name of await system.listDir(relative === '' ? root : `${root}/${relative}`)) {
      const path = relative === '' ? name : `${relative}/${name}`;
      const info = await system.stat(`${root}/${path}`);
      if (info === undefined) continue;
      if (info.kind === 'directory') await walk(path);
      else if (info.kind === 'file' && !name.endsWith(PARTIAL_SUFFIX)) files.push({ path, mode: info.mode, size: info.size, modified: info.modified });
      else if (info.kind !== 'file') skipped.push(path);
    }
  };
  await walk('');
  return { files, skipped };
}

function parentOf(path: string): string {
  return path.slice(0, Math.max(0, path.lastIndexOf('/')));
}

function remoteEntries(remote: readonly RemoteObject[]): MirrorEntry[] {
  return remote.map((object) => ({ path: object.path, size: object.size, modified: object.lastModified }));
}

function emptyReport(plan: MirrorPlan, skipped: string[]): SyncReport {
  return { copied: 0, bytes: 0, removed: 0, kept: plan.kept.length, skipped };
}

/** Makes the folder match the bucket as the options allow. Throws on the first request (S3Error) or chmod (SyncError) that fails. */
export async function pullVolume(system: System, client: S3Client, location: S3Location, root: string, options: SyncOptions): Promise<SyncReport> {
  const remote = await client.list(location);
  const local = await listLocal(system, root);
  const plan = planMirror(remoteEntries(remote), local.files, options);
  const report = emptyReport(plan, local.skipped);
  const sizes = new Map(remote.map((object) => [object.path, object.size]));
  for (const path of plan.copy) {
    const parent = parentOf(path);
    await system.makeDirectory(parent === '' ? root : `${root}/${parent}`);
    const file = `${root}/${path}`;
    const { mode } = await client.get(location, path, file);
    // busybox chmod per file: QuickJS has no chmod, and most objects carry the mode a new file gets anyway.
    if (options.preserve && mode !== undefined && mode !== (await system.stat(file))?.mode) {
      const changed = await system.run(['chmod', mode.toString(8), file], { captureStderr: true });
      if (changed.status !== 0) throw new B2cError(`chmod ${mode.toString(8)} ${path}: ${changed.stderr.trim()}`);
    }
    report.copied++;
    report.bytes += sizes.get(path) ?? 0;
  }
  for (const path of plan.remove) {
    await system.remove(`${root}/${path}`);
    report.removed++;
  }
  return report;
}

/** Makes the bucket match the folder as the options allow. Throws S3Error on the first request that fails. */
export async function pushVolume(system: System, client: S3Client, location: S3Location, root: string, options: SyncOptions): Promise<SyncReport> {
  const local = await listLocal(system, root);
  const remote = await client.list(location);
  const plan = planMirror(local.files, remoteEntries(remote), options);
  const report = emptyReport(plan, local.skipped);
  const byPath = new Map(local.files.map((entry) => [entry.path, entry]));
  for (const path of plan.copy) {
    const entry = byPath.get(path);
    await client.put(location, path, `${root}/${path}`, options.preserve ? entry?.mode : undefined);
    report.copied++;
    report.bytes += entry?.size ?? 0;
  }
  for (const path of plan.remove) {
    await client.delete(location, path);
    report.removed++;
  }
  return report;
}

/** `3 files copied (1.2 MB), 1 removed, 2 kept as they were (no overwrite)`. */
export function describeReport(report: SyncReport): string {
  const megabytes = report.bytes / 1_000_000;
  const size = report.bytes === 0 ? '' : megabytes >= 0.1 ? ` (${megabytes.toFixed(1)} MB)` : ` (${report.bytes} bytes)`;
  const parts = [`${report.copied} file${report.copied === 1 ? '' : 's'} copied${size}`];
  if (report.removed > 0) parts.push(`${report.removed} removed`);
  if (report.kept > 0) parts.push(`${report.kept} that differ kept as they were (no overwrite)`);
  if (report.skipped.length > 0) {
    const examples = `${report.skipped.slice(0, 3).join(', ')}${report.skipped.length > 3 ? ', …' : ''}`;
    parts.push(`${report.skipped.length} links or special files left out (${examples})`);
  }
  return parts.join(', ');
}
