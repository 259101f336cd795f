// Connects the network block devices of b2c.nbd before the cache is set up, and disconnects them once it is unmounted.

import type { NbdConfig } from '../cmdline/config.ts';
import { B2C_RUN_DIRECTORY } from '../image-layout.ts';
import type { System } from '../system/system.ts';
import type { Log } from './console.ts';
import type { KernelModules } from './modules.ts';

/** How long a connection may take before b2c gives up on it and the cache stays in RAM. */
export const NBD_CONNECT_SECONDS = 30;
/**
 * After this long without an answer the kernel fails the device's I/O, so
 * that a server gone for good ends the job with an error instead of a hang.
 */
export const NBD_IO_TIMEOUT_SECONDS = 120;

/** busybox's nbd-client: it hands the connection to the kernel and stays to serve it. */
export function nbdClientArgs(nbd: NbdConfig): string[] {
  return ['nbd-client', '-t', String(NBD_IO_TIMEOUT_SECONDS), nbd.host, String(nbd.port), nbd.device];
}

export function nbdDisconnectArgs(device: string): string[] {
  return ['nbd-client', '-d', device];
}

/** Where a client's messages go, to show when it fails. */
export function nbdLogPath(device: string): string {
  return `${B2C_RUN_DIRECTORY}/nbd/${device.slice('/dev/'.length)}.log`;
}

export class NetworkBlockDevices {
  private readonly connected: string[] = [];

  constructor(
    private readonly system: System,
    private readonly output: Log,
    private readonly modules: KernelModules,
  ) {}

  /** Connects each device; returns those that failed, which the cache must not use. */
  async connect(nbds: readonly NbdConfig[]): Promise<Set<string>> {
    const failed = new Set<string>();
    if (nbds.length === 0) return failed;
    await this.modules.loadNamed(['nbd']);
    await this.system.makeDirectory(`${B2C_RUN_DIRECTORY}/nbd`);
    for (const nbd of nbds) {
      if (await this.connectOne(nbd)) this.connected.push(nbd.device);
      else failed.add(nbd.device);
    }
    return failed;
  }

  private async connectOne(nbd: NbdConfig): Promise<boolean> {
    const where = `${nbd.host}:${nbd.port}`;
    await this.output.log(`Connecting ${nbd.device} to the NBD server ${where}`);
    const logFile = nbdLogPath(nbd.device);
    const client = await this.system.start(nbdClientArgs(nbd), { outputFile: logFile });
    const started = this.system.now();
    // The device has a size once the server answered: the kernel then serves it, whether the client forks or stays.
    for (;;) {
      const bytes = await this.sizeBytes(nbd.device);
      if (bytes > 0) {
        await this.output.log(`${nbd.device} is connected to ${where}: ${bytes} bytes`);
        return true;
      }
      const status = client.poll();
      if (status !== undefined && status !== 0) {
        await this.output.log(`Could not connect ${nbd.device} to ${where}: nbd-client exited with ${status}: ${await this.lastLines(logFile)}`);
        return false;
      }
      if (this.system.now() - started >= NBD_CONNECT_SECONDS * 1000) {
        await this.system.run(['kill', String(client.pid)]);
        await this.output.log(`Could not connect ${nbd.device} to ${where} within ${NBD_CONNECT_SECONDS} s: ${await this.lastLines(logFile)}`);
        return false;
      }
      await this.system.sleep(100);
    }
  }

  private async sizeBytes(device: string): Promise<number> {
    const sectors = await this.system.readText(`/sys/block/${device.slice('/dev/'.length)}/size`);
    // sysfs counts 512-byte sectors whatever the device's own.
    return (Number((sectors ?? '0').trim()) || 0) * 512;
  }

  private async lastLines(logFile: string): Promise<string> {
    const text = ((await this.system.readText(logFile)) ?? '').trim();
    return text === '' ? 'no message' : text.split('\n').slice(-3).join(' / ');
  }

  /** Disconnects every device connected, so that the server's copy is consistent; the cache on them must be unmounted first. */
  async disconnect(): Promise<void> {
    for (const device of this.connected.splice(0)) {
      const result = await this.system.run(nbdDisconnectArgs(device), { captureStdout: true, captureStderr: true });
      if (result.status === 0) await this.output.log(`Disconnected ${device}`);
      else await this.output.log(`Could not disconnect ${device}: ${(result.stderr || result.stdout).trim() || `status ${result.status}`}`);
    }
  }
}
