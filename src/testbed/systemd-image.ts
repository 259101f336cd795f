// A Debian image whose init is systemd, made from trixie's packages in the host cache: a farm gateway's container, for the tests.

import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { extractDebianPackages } from '../debian/tools.ts';
import { buildOciImage, type LayerEntry, type OciImage } from './oci-image.ts';

/** What a container's systemd needs: itself as /sbin/init, a shell for the units' commands, and the base layout. */
const PACKAGES = ['systemd-sysv', 'dash', 'base-files'];
/** Folders no unit reads: left out, as minimal images do. */
const LEFT_OUT = ['usr/share/doc', 'usr/share/man', 'usr/share/locale', 'usr/share/info', 'usr/share/lintian'];

async function packageEntries(root: string, seen: Set<string>): Promise<LayerEntry[]> {
  const entries: LayerEntry[] = [];
  const walk = async (relative: string): Promise<void> => {
    for (const name of (await readdir(join(root, relative))).sort()) {
      const path = relative === '' ? name : `${relative}/${name}`;
      if (LEFT_OUT.includes(path)) continue;
      const host = join(root, path);
      const info = await lstat(host);
      if (info.isDirectory()) {
        if (!seen.has(path)) entries.push({ path: `${path}/`, kind: 'dir' });
        seen.add(path);
        await walk(path);
      } else if (!seen.has(path)) {
        seen.add(path);
        if (info.isSymbolicLink()) entries.push({ path, kind: 'symlink', target: await readlink(host) });
        else if (info.isFile()) entries.push({ path, kind: 'file', mode: info.mode & 0o7777, data: await readFile(host) });
      }
    }
  };
  await walk('');
  return entries;
}

/**
 * The image: the packages as dpkg would unpack them (no maintainer scripts
 * run: the accounts and links those would make are written here), each of
 * `units` (name → unit file) enabled in multi-user.target, which is the
 * default target, and `scripts` (path → text) as executables.
 */
export async function systemdImage(units: Readonly<Record<string, string>>, scripts: Readonly<Record<string, string>> = {}): Promise<OciImage> {
  const roots = await extractDebianPackages(PACKAGES, 'amd64');
  const seen = new Set<string>();
  const entries: LayerEntry[] = [];
  for (const root of roots.values()) entries.push(...(await packageEntries(root, seen)));
  const text = (path: string, content: string, mode = 0o644): LayerEntry => ({ path, kind: 'file', mode, data: new TextEncoder().encode(content) });
  const link = (path: string, target: string): LayerEntry => ({ path, kind: 'symlink', target });
  const added: LayerEntry[] = [
    text('etc/passwd', 'root:x:0:0:root:/root:/bin/sh\n'),
    text('etc/group', 'root:x:0:\n'),
    text('etc/machine-id', ''),
    { path: 'root/', kind: 'dir' },
    { path: 'tmp/', kind: 'dir' },
    { path: 'etc/systemd/system/multi-user.target.wants/', kind: 'dir' },
    link('etc/systemd/system/default.target', '/usr/lib/systemd/system/multi-user.target'),
    ...Object.entries(scripts).map(([path, script]) => text(path, script, 0o755)),
    ...Object.entries(units).flatMap(([name, unit]) => [
      text(`etc/systemd/system/${name}`, unit),
      link(`etc/systemd/system/multi-user.target.wants/${name}`, `../${name}`),
    ]),
  ];
  // Merged /usr as trixie lays it out, and dash as sh, as their maintainer scripts would; and /bin/init, where the farm's line finds
  // its init (ci-tron's gateway image has /bin merged with /sbin).
  for (const [path, target] of [
    ['bin', 'usr/bin'],
    ['sbin', 'usr/sbin'],
    ['lib', 'usr/lib'],
    ['lib64', 'usr/lib64'],
    ['usr/bin/sh', 'dash'],
    ['usr/bin/init', '../lib/systemd/systemd'],
  ] as const) {
    if (!seen.has(path)) added.push(link(path, target));
  }
  return buildOciImage({
    platform: { architecture: 'amd64' },
    entries: [...entries.filter((entry) => !added.some((other) => other.path === entry.path)), ...added],
  });
}
