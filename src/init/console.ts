// The console lines CI farms match on (`[uptime]: message`, GitLab sections, the status and shutdown lines), and the one log every phase of the init writes to.

import type { System } from '../system/system.ts';

/** The section farms open before the machine boots, "to be closed by b2c". */
export const KERNEL_BOOT_SECTION = 'b2c_kernel_boot';

/** Where each phase of the init says what it does: a `[uptime]: message` line on the console. */
export interface Log {
  log(message: string): Promise<void>;
}

/** The console of /init: uptime-stamped lines and GitLab sections. */
export class InitConsole implements Log {
  /** Farms open this section before the machine boots, for b2c to close: the init's first section does. */
  private kernelBootOpen = true;

  constructor(private readonly system: System) {}

  /** Seconds since boot, as /proc/uptime gives them: the stamp of every line, and a clock that never jumps. */
  async uptime(): Promise<string> {
    const text = await this.system.readText('/proc/uptime');
    return text?.split(' ')[0] ?? '?';
  }

  async log(message: string): Promise<void> {
    this.system.write(logLine(await this.uptime(), message));
  }

  /** Runs `work` inside a collapsible section; the section is closed whatever happens. */
  async section<T>(name: string, header: string, work: () => Promise<T>, collapsed = true): Promise<T> {
    if (this.kernelBootOpen) {
      this.kernelBootOpen = false;
      this.system.write(sectionEnd(this.system.now() / 1000, KERNEL_BOOT_SECTION));
    }
    this.system.write(sectionStart(this.system.now() / 1000, name, header, collapsed));
    try {
      return await work();
    } finally {
      this.system.write(sectionEnd(this.system.now() / 1000, name));
    }
  }
}

/** `[12.34]: message`, with the uptime as /proc/uptime gives it. */
export function logLine(uptime: string, message: string): string {
  return `[${uptime}]: ${message}\n`;
}

/** The start of a GitLab collapsible section; `name` must be unique within the log. */
export function sectionStart(epochSeconds: number, name: string, header: string, collapsed = true): string {
  return `\x1b[0Ksection_start:${Math.floor(epochSeconds)}:${name}${collapsed ? '[collapsed=true]' : ''}\r\x1b[0K${header}\n`;
}

export function sectionEnd(epochSeconds: number, name: string): string {
  return `\x1b[0Ksection_end:${Math.floor(epochSeconds)}:${name}\r\x1b[0K\n`;
}

/** An argv as a reader would type it: words with blanks or quotes are single-quoted. */
export function shellQuote(argv: readonly string[]): string {
  return argv.map((word) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`)).join(' ');
}

export function pipelineStatusMessage(status: number): string {
  return `Execution is over, pipeline status: ${status}`;
}

export type ShutdownMode = 'poweroff' | 'reboot';

/** The line farms wait for before cutting the power, or the reboot notice. */
export function shutdownNotice(mode: ShutdownMode): string {
  return mode === 'reboot' ? 'Rebooting the computer' : "It's now safe to turn off your computer";
}

export interface RuntimeFacts {
  linuxVersion: string;
  b2cVersion: string;
  architecture: string;
  cpu: string;
  cpuCount: number;
  memoryKiB: number;
  blockDevices: Array<{ name: string; bytes: number }>;
}

/** The summary printed at start, so that a log says which machine and which b2c ran the job. */
export function runtimeSummary(facts: RuntimeFacts): string[] {
  const devices = facts.blockDevices.map((device) => `${device.name} (${formatBytes(device.bytes)})`).join(', ');
  return [
    `Linux: ${facts.linuxVersion}`,
    `b2c: ${facts.b2cVersion}`,
    `Architecture: ${facts.architecture}`,
    `CPU: ${facts.cpuCount} x ${facts.cpu}`,
    `RAM: ${formatBytes(facts.memoryKiB * 1024)}`,
    `Block devices: ${devices || 'none'}`,
  ];
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** Reads the facts for the summary from /proc and /sys texts. */
export function parseCpuInfo(cpuinfo: string): { cpu: string; cpuCount: number } {
  let cpu: string | undefined;
  let armIds: { implementer?: string; part?: string } = {};
  let cpuCount = 0;
  for (const line of cpuinfo.split('\n')) {
    const [key, ...rest] = line.split(':');
    const name = key?.trim();
    const value = rest.join(':').trim();
    if (name === 'processor') cpuCount++;
    if ((name === 'model name' || name === 'uarch' || name === 'isa') && cpu === undefined) cpu = value;
    // 64-bit ARM kernels name no model, only the vendor's and the core's numbers.
    if (name === 'CPU implementer' && armIds.implementer === undefined) armIds = { ...armIds, implementer: value };
    if (name === 'CPU part' && armIds.part === undefined) armIds = { ...armIds, part: value };
  }
  if (cpu === undefined && armIds.implementer !== undefined) cpu = `ARM implementer ${armIds.implementer} part ${armIds.part ?? 'unknown'}`;
  return { cpu: cpu ?? 'unknown', cpuCount: Math.max(cpuCount, 1) };
}

export function parseMemTotalKiB(meminfo: string): number {
  const match = /^MemTotal:\s+(\d+) kB/m.exec(meminfo);
  return match ? Number(match[1]) : 0;
}

/** RAM in use: what the kernel could not hand to a new program (MemTotal less MemAvailable). */
export function memoryInUseKiB(meminfo: string): number {
  const available = /^MemAvailable:\s+(\d+) kB/m.exec(meminfo);
  return available ? parseMemTotalKiB(meminfo) - Number(available[1]) : 0;
}

export function memoryInUseMessage(meminfo: string): string {
  return `Memory in use before the first container: ${Math.round(memoryInUseKiB(meminfo) / 1024)} MiB of ${Math.round(parseMemTotalKiB(meminfo) / 1024)} MiB`;
}
