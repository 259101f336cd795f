// Builds small single-layer OCI images from files on the host, and indexes of them for several platforms, byte-identical for the same inputs.

import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';

export type LayerEntry =
  { path: string; kind: 'file'; mode: number; data: Uint8Array } | { path: string; kind: 'dir' } | { path: string; kind: 'symlink'; target: string };

/** What an OCI index tells platforms apart by; podman picks the entry that matches its machine. */
export interface OciPlatform {
  architecture: string;
  variant?: string;
}

export interface ImageSpec {
  platform: OciPlatform;
  entries: LayerEntry[];
  env?: string[];
  entrypoint?: string[];
  cmd?: string[];
}

export interface Blob {
  digest: string;
  mediaType: string;
  data: Uint8Array;
}

export interface OciImage {
  platform: OciPlatform;
  manifest: Blob;
  config: Blob;
  layers: Blob[];
}

/** One reference for the same image on several platforms. */
export interface OciIndex {
  index: Blob;
  images: OciImage[];
}

export function sha256Digest(data: Uint8Array): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

function blob(mediaType: string, data: Uint8Array): Blob {
  return { mediaType, data, digest: sha256Digest(data) };
}

/** A tar of the entries in the order given, every owner root and every mtime 0. */
export async function layerTar(entries: readonly LayerEntry[]): Promise<Uint8Array> {
  const archive = pack();
  const chunks: Buffer[] = [];
  archive.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
  const ended = new Promise<void>((resolve, reject) => {
    archive.on('end', resolve);
    archive.on('error', reject);
  });
  const common = { uid: 0, gid: 0, uname: 'root', gname: 'root', mtime: new Date(0) };
  for (const entry of entries) {
    if (entry.kind === 'file') {
      archive.entry({ ...common, name: entry.path, type: 'file', mode: entry.mode, size: entry.data.length }, Buffer.from(entry.data));
    } else if (entry.kind === 'dir') {
      archive.entry({ ...common, name: entry.path, type: 'directory', mode: 0o755 });
    } else {
      archive.entry({ ...common, name: entry.path, type: 'symlink', linkname: entry.target, mode: 0o777 });
    }
  }
  archive.finalize();
  await ended;
  return Buffer.concat(chunks);
}

export async function buildOciImage(spec: ImageSpec): Promise<OciImage> {
  const tar = await layerTar(spec.entries);
  // Level 6: small test images stay small, and large incompressible ones do not take long.
  const layer = blob('application/vnd.oci.image.layer.v1.tar+gzip', gzipSync(tar, { level: 6 }));
  const configJson = {
    architecture: spec.platform.architecture,
    ...(spec.platform.variant !== undefined ? { variant: spec.platform.variant } : {}),
    os: 'linux',
    config: {
      Env: spec.env ?? ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'],
      ...(spec.entrypoint ? { Entrypoint: spec.entrypoint } : {}),
      ...(spec.cmd ? { Cmd: spec.cmd } : {}),
    },
    rootfs: { type: 'layers', diff_ids: [sha256Digest(tar)] },
  };
  const config = blob('application/vnd.oci.image.config.v1+json', new TextEncoder().encode(JSON.stringify(configJson)));
  const manifestJson = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: config.mediaType, digest: config.digest, size: config.data.length },
    layers: [{ mediaType: layer.mediaType, digest: layer.digest, size: layer.data.length }],
  };
  const manifest = blob('application/vnd.oci.image.manifest.v1+json', new TextEncoder().encode(JSON.stringify(manifestJson)));
  return { platform: spec.platform, manifest, config, layers: [layer] };
}

export function buildOciIndex(images: readonly OciImage[]): OciIndex {
  const indexJson = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: images.map((image) => ({
      mediaType: image.manifest.mediaType,
      digest: image.manifest.digest,
      size: image.manifest.data.length,
      platform: {
        architecture: image.platform.architecture,
        os: 'linux',
        ...(image.platform.variant !== undefined ? { variant: image.platform.variant } : {}),
      },
    })),
  };
  return { index: blob('application/vnd.oci.image.index.v1+json', new TextEncoder().encode(JSON.stringify(indexJson))), images: [...images] };
}

/** Layer entries for a busybox image: the binary in /bin, a link per applet, and the usual empty folders. */
export function busyboxLayerEntries(busybox: Uint8Array, applets: readonly string[]): LayerEntry[] {
  const entries: LayerEntry[] = ['bin/', 'dev/', 'etc/', 'proc/', 'sys/', 'tmp/', 'root/'].map((path) => ({ path, kind: 'dir' as const }));
  entries.push({ path: 'bin/busybox', kind: 'file', mode: 0o755, data: busybox });
  for (const applet of applets) {
    if (applet !== 'busybox') entries.push({ path: `bin/${applet}`, kind: 'symlink', target: 'busybox' });
  }
  return entries;
}
