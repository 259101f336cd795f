// Splits the unpacked initramfs by component, from the build manifest.

export interface ManifestFileEntry {
  path: string;
  size: number;
  origin: string;
}

/** The component a file counts for: the named programs, then libraries, modules, configuration and the init. */
export function componentOf(file: ManifestFileEntry): string {
  if (file.path === '/init') return 'init bundle';
  if (file.origin === 'b2c') return 'config';
  if (file.origin.startsWith('linux-image-')) return 'kernel modules';
  if (file.origin.endsWith(' (stub)')) return 'library stubs';
  const programs: Record<string, string> = {
    podman: 'podman',
    crun: 'crun',
    conmon: 'conmon',
    quickjs: 'qjs',
    busybox: 'busybox',
    netavark: 'netavark',
    e2fsprogs: 'e2fsprogs',
    curl: 'curl',
    rdate: 'rdate',
    'ca-certificates': 'ca-certificates',
    'console-data': 'keymaps',
  };
  return programs[file.origin] ?? 'libraries';
}

export function sizeByComponent(files: readonly ManifestFileEntry[]): Array<{ component: string; bytes: number }> {
  const totals = new Map<string, number>();
  for (const file of files) totals.set(componentOf(file), (totals.get(componentOf(file)) ?? 0) + file.size);
  return [...totals.entries()].map(([component, bytes]) => ({ component, bytes })).sort((a, b) => b.bytes - a.bytes);
}
