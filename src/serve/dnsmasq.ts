// dnsmasq for `b2c serve`: its arguments for DHCP or proxyDHCP with TFTP, its hosts file, and its log lines read back as boot steps.

/** The iPXE programs the TFTP server offers, by the firmware that asks (DHCP option 93, client architecture). */
export const IPXE_PROGRAMS = {
  bios: 'undionly.kpxe',
  'efi-x86_64': 'ipxe.efi',
  'efi-arm64': 'ipxe-arm64.efi',
} as const;

export type DhcpMode = { kind: 'dhcp'; first: string; last: string; netmask: string } | { kind: 'proxy'; network: string; netmask: string };

export interface DnsmasqPlan {
  interface: string;
  /** The server's address on that interface: the TFTP server's and the router's. */
  serverAddress: string;
  mode: DhcpMode;
  tftpRoot: string;
  /** Re-read on SIGHUP: one `MAC,set:b2c` line per machine in the file. */
  hostsFile: string;
  leaseFile: string;
  /** What an iPXE asks for once it runs: the chain script. */
  scriptUrl: string;
  /** The machines file has a default entry: every machine is offered a boot, not only those it names. */
  bootEveryone: boolean;
}

/** The tag dnsmasq sets for a machine that gets a boot offer. */
const BOOT_TAG = 'b2c';

/** The hosts file: the machines that get a boot offer, by MAC address. */
export function hostsFileText(macs: Iterable<string>): string {
  return [...macs].map((mac) => `${mac},set:${BOOT_TAG}\n`).join('');
}

export function dnsmasqArgs(plan: DnsmasqPlan): string[] {
  const boot = `tag:${BOOT_TAG},tag:pxe`;
  const args = [
    '--keep-in-foreground',
    '--log-facility=-',
    '--log-dhcp',
    '--conf-file=/dev/null',
    '--no-resolv',
    '--no-hosts',
    // DNS is not b2c serve's business: the farm's, or the router's.
    '--port=0',
    '--user=root',
    '--pid-file',
    `--interface=${plan.interface}`,
    '--bind-interfaces',
    `--dhcp-leasefile=${plan.leaseFile}`,
    `--dhcp-hostsfile=${plan.hostsFile}`,
    '--enable-tftp',
    `--tftp-root=${plan.tftpRoot}`,
    '--tftp-secure',
    '--dhcp-userclass=set:ipxe,iPXE',
    // Firmwares and iPXE say PXEClient; a booted system's DHCP client (b2c's own) is offered no boot file.
    '--dhcp-vendorclass=set:pxe,PXEClient',
    // OVMF says 7 (EFI byte code, which the PXE specification gave x86-64 first); others 9.
    '--dhcp-match=set:efi-x86_64,option:client-arch,7',
    '--dhcp-match=set:efi-x86_64,option:client-arch,9',
    '--dhcp-match=set:efi-arm64,option:client-arch,11',
  ];
  if (plan.bootEveryone) args.push(`--dhcp-mac=set:${BOOT_TAG},*:*:*:*:*:*`);
  if (plan.mode.kind === 'dhcp') {
    const { first, last, netmask } = plan.mode;
    args.push(
      `--dhcp-range=${first},${last},${netmask},1h`,
      // The tags are exclusive: the offer does not depend on which line dnsmasq reads first.
      `--dhcp-boot=${boot},tag:ipxe,${plan.scriptUrl}`,
      `--dhcp-boot=${boot},tag:!ipxe,tag:efi-x86_64,${IPXE_PROGRAMS['efi-x86_64']},,${plan.serverAddress}`,
      `--dhcp-boot=${boot},tag:!ipxe,tag:efi-arm64,${IPXE_PROGRAMS['efi-arm64']},,${plan.serverAddress}`,
      `--dhcp-boot=${boot},tag:!ipxe,tag:!efi-x86_64,tag:!efi-arm64,${IPXE_PROGRAMS.bios},,${plan.serverAddress}`,
    );
  } else {
    // proxyDHCP: the farm's DHCP server gives the address; dnsmasq answers only with the boot, on port 67 and, for
    // firmwares that ask the boot server again (many UEFI ones), on 4011.
    const { network, netmask } = plan.mode;
    args.push(
      `--dhcp-range=${network},proxy,${netmask}`,
      // A machine the file does not offer a boot gets no answer at all: its address is the other server's business.
      `--dhcp-ignore=tag:!${BOOT_TAG}`,
      `--dhcp-boot=${boot},tag:ipxe,${plan.scriptUrl}`,
      `--pxe-service=${boot},tag:!ipxe,x86PC,"b2c",${IPXE_PROGRAMS.bios},${plan.serverAddress}`,
      `--pxe-service=${boot},tag:!ipxe,BC_EFI,"b2c",${IPXE_PROGRAMS['efi-x86_64']},${plan.serverAddress}`,
      `--pxe-service=${boot},tag:!ipxe,X86-64_EFI,"b2c",${IPXE_PROGRAMS['efi-x86_64']},${plan.serverAddress}`,
      `--pxe-service=${boot},tag:!ipxe,ARM64_EFI,"b2c",${IPXE_PROGRAMS['efi-arm64']},${plan.serverAddress}`,
    );
  }
  return args;
}

/** The names the TFTP root holds each program under: as given, and with the `.0` a PXE client adds to a proxyDHCP boot service's name. */
export function tftpNames(program: string): string[] {
  return [program, `${program}.0`];
}

/** A boot step dnsmasq logged: a DHCP answer, a boot file offered, a TFTP transfer. */
export type DnsmasqStep =
  | { step: 'dhcp'; message: string; mac: string; address?: string; transaction?: string }
  | { step: 'boot-file'; file: string; transaction: string }
  | { step: 'tftp'; file: string; address: string; ok: boolean; message: string }
  | { step: 'dnsmasq'; message: string };

const MAC = '([0-9a-f]{2}(?::[0-9a-f]{2}){5})';
const ADDRESS = '(\\d{1,3}(?:\\.\\d{1,3}){3})';

/** One line of dnsmasq's log as a boot step; undefined for the lines that say nothing a farm admin needs. */
export function parseDnsmasqLine(line: string): DnsmasqStep | undefined {
  const match = /^dnsmasq(-dhcp|-tftp)?\[\d+\]: (.*)$/.exec(line.trim());
  if (match === null) return line.trim() === '' ? undefined : { step: 'dnsmasq', message: line.trim() };
  const [, facility, text = ''] = match;
  if (facility === '-dhcp') {
    const answer = new RegExp(`^(?:(\\d+) )?((?:DHCP|PXE)[A-Z]*)\\([^)]*\\) (?:${ADDRESS} )?${MAC}(?: (.*))?$`).exec(text.trim());
    if (answer !== null) {
      const [, transaction, kind = '', address, mac = '', rest] = answer;
      // The client's own requests are the server's business; its answers are the steps.
      if (!/^(DHCPOFFER|DHCPACK|DHCPNAK|PXE)$/.test(kind)) return undefined;
      const message = [kind, address, rest?.trim()].filter((part) => part !== undefined && part !== '').join(' ');
      return { step: 'dhcp', message, mac, ...(address !== undefined ? { address } : {}), ...(transaction !== undefined ? { transaction } : {}) };
    }
    const bootFile = /^(\d+) (?:bootfile name: |sent size: +\d+ option: 67 bootfile-name +)(\S+)$/.exec(text.trim());
    if (bootFile !== null) return { step: 'boot-file', transaction: bootFile[1] as string, file: bootFile[2] as string };
    return undefined;
  }
  if (facility === '-tftp') {
    const sent = new RegExp(`^sent (\\S+) to ${ADDRESS}$`).exec(text.trim());
    if (sent !== null) return { step: 'tftp', file: sent[1] as string, address: sent[2] as string, ok: true, message: 'sent' };
    const failed = new RegExp(`^(?:file (\\S+) not found|cannot access (\\S+).*|failed sending (\\S+) to ${ADDRESS}.*)(?: for ${ADDRESS})?$`).exec(text.trim());
    if (failed !== null) {
      const file = failed[1] ?? failed[2] ?? failed[3] ?? '';
      return { step: 'tftp', file, address: failed[4] ?? failed[5] ?? '', ok: false, message: text.trim() };
    }
    return undefined;
  }
  return { step: 'dnsmasq', message: text.trim() };
}
