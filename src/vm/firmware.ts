// UEFI firmware for machines that netboot as farm machines do: Debian trixie's OVMF (x86-64) or AAVMF (arm64), fetched into the host cache the first time.

import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeError } from '../errors.ts';
import type { Architecture } from '../architectures.ts';
import { HostToolError } from './machine.ts';

/** Debian's package of each architecture's UEFI firmware for QEMU's machine, and its code and variables in it. */
const UEFI_FIRMWARES: Record<string, { package: string; code: string; vars: string }> = {
  amd64: { package: 'ovmf', code: 'usr/share/OVMF/OVMF_CODE_4M.fd', vars: 'usr/share/OVMF/OVMF_VARS_4M.fd' },
  arm64: { package: 'qemu-efi-aarch64', code: 'usr/share/AAVMF/AAVMF_CODE.fd', vars: 'usr/share/AAVMF/AAVMF_VARS.fd' },
};

/** The architectures b2c netboots through UEFI. */
export const UEFI_ARCHITECTURES = Object.keys(UEFI_FIRMWARES);

/** The Debian packages of the UEFI firmwares, for fetching them ahead of time. */
export const UEFI_PACKAGES = Object.values(UEFI_FIRMWARES).map((firmware) => firmware.package);

export interface UefiFirmware {
  /** OVMF's code, read-only and shared. */
  code: string;
  /** This machine's own copy of OVMF's variables, which the firmware writes (its boot entries). */
  vars: string;
  remove: () => Promise<void>;
}

export async function prepareUefiFirmware(arch: Architecture): Promise<UefiFirmware> {
  const firmware = UEFI_FIRMWARES[arch.debian];
  if (firmware === undefined) throw new HostToolError(`b2c has no UEFI firmware for ${arch.debian} machines: ${UEFI_ARCHITECTURES.join(' and ')} only`);
  try {
    // Loaded here: the apt code stays out of every `b2c run` that boots a kernel directly.
    const { DebianTools } = await import('../debian/tools.ts');
    const root = (await DebianTools.prepare([firmware.package])).root(firmware.package);
    const dir = await mkdtemp(join(tmpdir(), 'b2c-uefi-'));
    const vars = join(dir, 'vars.fd');
    await copyFile(join(root, firmware.vars), vars);
    return { code: join(root, firmware.code), vars, remove: () => rm(dir, { recursive: true, force: true }) };
  } catch (error) {
    throw new HostToolError(`cannot fetch Debian trixie's ${firmware.package} for --firmware uefi: ${describeError(error)}`);
  }
}
