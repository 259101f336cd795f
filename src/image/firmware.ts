// The firmware files drivers ask for, found in Debian's firmware packages the way the kernel looks them up.

import { readModinfo } from './elf.ts';
import type { PackageFile, PackageRoot } from './package-root.ts';

/** Where Debian's packages and the kernel's loader keep firmware (the image links /lib to usr/lib). */
export const FIRMWARE_FOLDER = 'usr/lib/firmware';

/** The suffixes the kernel tries after the plain name, with Debian's CONFIG_FW_LOADER_COMPRESS_{ZSTD,XZ}. */
const LOADER_SUFFIXES = ['', '.zst', '.xz'];

export interface FirmwareFile {
  /** The name as found below the firmware folder, with the suffix the package gives it. */
  name: string;
  /** The merged-/usr path in the package root of the file the name resolves to (links followed). */
  source: string;
  /** The package that ships the file. */
  origin: string;
}

export interface FirmwareSelection {
  files: FirmwareFile[];
  /** Names asked for that none of the packages ships. */
  missing: string[];
  /** Links to folders (`nvidia/ad104/gsp` → `nvidia/ad102/gsp`), below the firmware folder: the loader goes through them. */
  folderLinks: Array<{ name: string; target: string }>;
}

/** The firmware names a module declares (`MODULE_FIRMWARE`), as its `.modinfo` section lists them. */
export function moduleFirmwareNames(module: Uint8Array): string[] {
  return readModinfo(module)
    .filter(([key]) => key === 'firmware')
    .map(([, value]) => value);
}

/** Finds each name in the packages as the kernel would: plain, then zstd, then xz; a name found nowhere is listed as missing. */
export function selectFirmware(names: Iterable<string>, root: PackageRoot): FirmwareSelection {
  const files: FirmwareFile[] = [];
  const missing: string[] = [];
  for (const name of [...new Set(names)].sort()) {
    const found = LOADER_SUFFIXES.map((suffix) => `${name}${suffix}`).find((candidate) => root.exists(`${FIRMWARE_FOLDER}/${candidate}`));
    if (found === undefined) {
      missing.push(name);
      continue;
    }
    const target = resolvedFile(root, `${FIRMWARE_FOLDER}/${found}`);
    if (target === undefined) {
      missing.push(name);
      continue;
    }
    files.push({ name: found, source: target.path, origin: target.file.pkg.name });
  }
  return { files, missing, folderLinks: [] };
}

/** Every file below the given firmware folders (`amdgpu`, `nvidia`), links included under their own names, links to folders kept as links. */
export function firmwareBelow(folders: readonly string[], root: PackageRoot): FirmwareSelection {
  const names: string[] = [];
  const folderLinks: Array<{ name: string; target: string }> = [];
  const relative = (path: string): string => path.slice(FIRMWARE_FOLDER.length + 1);
  for (const folder of folders) {
    for (const path of root.below(`${FIRMWARE_FOLDER}/${folder}`)) {
      const file = root.files.get(path);
      if (file === undefined || file.kind === 'dir') continue;
      const end = file.kind === 'symlink' ? resolvedEnd(root, path) : undefined;
      // The package walk does not go through a link to a folder: the archive keeps the link, and the folder it names.
      if (end?.file.kind === 'dir' && end.path.startsWith(`${FIRMWARE_FOLDER}/`)) folderLinks.push({ name: relative(path), target: relative(end.path) });
      else names.push(relative(path));
    }
  }
  // A link whose target no package ships comes back as missing.
  return { ...selectFirmware(names, root), folderLinks };
}

function resolvedEnd(root: PackageRoot, path: string): { path: string; file: PackageFile } | undefined {
  try {
    return root.resolveChain(path).at(-1);
  } catch {
    return undefined;
  }
}

/** The file a path ends at after its links, or nothing for a dangling link or a folder. */
function resolvedFile(root: PackageRoot, path: string): { path: string; file: PackageFile } | undefined {
  const end = resolvedEnd(root, path);
  return end?.file.kind === 'file' ? end : undefined;
}

/**
 * Files that resolve to the same source (Debian links one chip's firmware to
 * another's) are stored once: under the name that is the source itself, or
 * else the first name, with the others as links to it.
 */
export function storedOnce(files: readonly FirmwareFile[]): { stored: FirmwareFile[]; links: Array<{ name: string; target: string }> } {
  const bySource = new Map<string, FirmwareFile[]>();
  for (const file of files) bySource.set(file.source, [...(bySource.get(file.source) ?? []), file]);
  const stored: FirmwareFile[] = [];
  const links: Array<{ name: string; target: string }> = [];
  for (const [source, names] of bySource) {
    const kept = names.find((file) => `${FIRMWARE_FOLDER}/${file.name}` === source) ?? names[0];
    if (kept === undefined) continue;
    stored.push(kept);
    for (const file of names) if (file !== kept) links.push({ name: file.name, target: kept.name });
  }
  return { stored, links };
}
