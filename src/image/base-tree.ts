// The image's base tree: folders, device node and links, configuration, the programs with their libraries, busybox's applets, CA certificates and keymaps.

import type { Architecture } from '../architectures.ts';
import { B2cError } from '../errors.ts';
import { CA_BUNDLE, KEYMAP_FOLDER, PODMAN_GRAPHROOT, UDHCPC_SCRIPT } from '../image-layout.ts';
import type { DebianTools } from '../debian/tools.ts';
import { busyboxAppletNames } from './busybox.ts';
import { etcFiles, netavarkStub, udhcpcScript } from './config-files.ts';
import { IMAGE_DATA_FILES, IMAGE_PROGRAMS, REQUIRED_APPLETS } from './contents.ts';
import { compileKeymaps } from './keymaps.ts';
import { addPath, addProgram, readFileFromRoot } from './library-closure.ts';
import { MERGED_USR_LINKS, type PackageRoot } from './package-root.ts';
import { ImageTree } from './tree.ts';

/** A small text file of the image. */
export function textFile(text: string, origin: string): { kind: 'file'; mode: number; data: Uint8Array; origin: string } {
  return { kind: 'file', mode: 0o644, data: new TextEncoder().encode(text), origin };
}

/** Everything of the image but the kernel's modules, their firmware and /init. */
export async function assembleBaseTree(root: PackageRoot, arch: Architecture, keymapTools: DebianTools): Promise<ImageTree> {
  const tree = new ImageTree();
  layOutBase(tree);
  for (const program of IMAGE_PROGRAMS) await addProgram(tree, root, arch, program);
  for (const path of IMAGE_DATA_FILES) await addPath(tree, root, path);
  await addBusyboxApplets(tree, root);
  await addCaCertificates(tree, root);
  for (const [name, data] of compileKeymaps(keymapTools))
    tree.add(`${KEYMAP_FOLDER.slice(1)}/${name}.bmap`, { kind: 'file', mode: 0o644, data, origin: 'console-data' });
  return tree;
}

/** The folders, device node and links every boot needs before any package file. */
function layOutBase(tree: ImageTree): void {
  for (const dir of ['dev', 'proc', 'sys', 'run', 'tmp', 'var/tmp', 'root', 'usr/bin', 'usr/lib', 'usr/lib64', 'mnt', PODMAN_GRAPHROOT.slice(1)])
    tree.mkdir(dir);
  tree.add('tmp', { kind: 'dir', mode: 0o1777 });
  // The kernel opens /dev/console for init's stdio before anything is mounted.
  tree.add('dev/console', { kind: 'chardev', mode: 0o600, major: 5, minor: 1 });
  for (const [link, target] of MERGED_USR_LINKS) tree.add(link, { kind: 'symlink', target, origin: 'b2c' });
  // e4crypt finds the ext4 filesystems' salts through /etc/mtab.
  tree.add('etc/mtab', { kind: 'symlink', target: '/proc/self/mounts', origin: 'b2c' });
  for (const [path, text] of Object.entries(etcFiles())) tree.add(path, textFile(text, 'b2c'));
  tree.add(UDHCPC_SCRIPT.slice(1), { ...textFile(udhcpcScript(), 'b2c'), mode: 0o755 });
  tree.add('usr/lib/podman/netavark', { ...textFile(netavarkStub(), 'b2c'), mode: 0o755 });
}

async function addBusyboxApplets(tree: ImageTree, root: PackageRoot): Promise<void> {
  const applets = busyboxAppletNames(await readFileFromRoot(root, '/usr/bin/busybox'));
  for (const needed of REQUIRED_APPLETS) {
    if (!applets.includes(needed)) throw new B2cError(`this busybox has no ${needed} applet, which /init needs`);
  }
  for (const applet of applets) {
    if (applet === 'busybox' || tree.has(`usr/bin/${applet}`)) continue;
    tree.add(`usr/bin/${applet}`, { kind: 'symlink', target: 'busybox', origin: 'busybox' });
  }
}

/** What update-ca-certificates would make: every certificate the package ships, in one bundle. */
async function addCaCertificates(tree: ImageTree, root: PackageRoot): Promise<void> {
  const certificates = root.below('/usr/share/ca-certificates').filter((path) => path.endsWith('.crt'));
  if (certificates.length === 0) throw new B2cError('ca-certificates ships no certificate');
  const parts: Uint8Array[] = [];
  for (const path of certificates) parts.push(await readFileFromRoot(root, path));
  const bundle = Buffer.concat(parts.map((part) => (part[part.length - 1] === 0x0a ? part : Buffer.concat([part, Buffer.from('\n')]))));
  tree.add(CA_BUNDLE.slice(1), { kind: 'file', mode: 0o644, data: bundle, origin: 'ca-certificates' });
}
