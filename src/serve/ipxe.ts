// The iPXE scripts `b2c serve` hands out, and the HTTP paths they fetch: pure text from a machine's entry.

import { basename } from 'node:path';
import type { MachineBoot } from './machines.ts';

/** What iPXE's `${buildarch}` says on the firmwares that may boot each architecture: BIOS iPXE is a 32-bit program that boots 64-bit kernels. */
const IPXE_BUILD_ARCHES: Record<string, string[]> = {
  amd64: ['x86_64', 'i386'],
  arm64: ['arm64'],
  armhf: ['arm32'],
  riscv64: ['riscv64'],
};

/** The path of each file of an entry on the HTTP server: the name a machine's log line shows, and what the file route takes apart. */
export function filePaths(entry: MachineBoot): { kernel: string; initrds: string[] } {
  const key = encodeURIComponent(entry.key);
  return {
    kernel: `/files/${key}/kernel/${encodeURIComponent(basename(entry.kernel))}`,
    initrds: entry.initrds.map((initrd, index) => `/files/${key}/initrd/${index}/${encodeURIComponent(basename(initrd))}`),
  };
}

/** A file path of `filePaths`, taken apart; undefined for any other path. */
export function parseFilePath(path: string): { key: string; file: { kind: 'kernel' } | { kind: 'initrd'; index: number }; name: string } | undefined {
  const match = /^\/files\/([^/]+)\/(kernel|initrd\/(\d{1,3}))\/([^/]+)$/.exec(path);
  if (match === null) return undefined;
  try {
    const key = decodeURIComponent(match[1] as string);
    const name = decodeURIComponent(match[4] as string);
    return { key, file: match[3] === undefined ? { kind: 'kernel' } : { kind: 'initrd', index: Number(match[3]) }, name };
  } catch {
    return undefined;
  }
}

/** The MAC address of `/boot/MAC.ipxe`, as iPXE writes it there (some versions escape the colons); undefined for any other path. */
export function parseScriptPath(path: string): string | undefined {
  const match = /^\/boot\/([^/]+)\.ipxe$/.exec(path);
  if (match === null) return undefined;
  try {
    return decodeURIComponent(match[1] as string);
  } catch {
    return undefined;
  }
}

/** The script every iPXE gets first, from DHCP: it asks for its own by MAC address. */
export function chainScript(baseUrl: string): string {
  return ['#!ipxe', `chain ${baseUrl}/boot/\${mac}.ipxe`, ''].join('\n');
}

/**
 * A machine's script: its kernel with its command line, then its archives in
 * order. iPXE joins several initrds into one for the kernel, on BIOS and on
 * UEFI. A firmware of another architecture stops with a message instead of
 * loading a kernel it cannot run.
 */
export function machineScript(baseUrl: string, mac: string, entry: MachineBoot): string {
  const paths = filePaths(entry);
  const arches = IPXE_BUILD_ARCHES[entry.arch.debian] ?? [entry.arch.debian];
  const label = entry.key === 'default' ? `${mac} (the default entry)` : mac;
  return [
    '#!ipxe',
    `echo b2c serve: booting ${label}, ${entry.arch.debian}`,
    `${arches.map((arch) => `iseq \${buildarch} ${arch}`).join(' || ')} || goto wrong_arch`,
    `kernel ${baseUrl}${paths.kernel} ${entry.cmdline}`,
    ...paths.initrds.map((path) => `initrd ${baseUrl}${path}`),
    'boot',
    ':wrong_arch',
    `echo b2c serve: ${mac} is an \${buildarch} firmware, and the machines file gives it an ${entry.arch.debian} kernel: fix its arch`,
    'exit 1',
    '',
  ].join('\n');
}

/** For a machine the file does not name, when there is no default: back to the firmware, which tries its next boot device. */
export function noBootScript(mac: string): string {
  return ['#!ipxe', `echo b2c serve: ${mac} is not in the machines file, which has no default entry: no boot from the network`, 'exit 1', ''].join('\n');
}
