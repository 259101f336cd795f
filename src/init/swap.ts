// Swap as b2c.swap asks: a file on the cache partition or a whole device (mkswap at each boot), and vm.swappiness; never fatal.

import type { SwapConfig } from '../cmdline/config.ts';
import { nbdDeviceOf } from '../cmdline/nbd.ts';
import { CONTAINER_STORAGE } from '../image-layout.ts';
import type { System } from '../system/system.ts';
import type { Log } from './console.ts';

export const SWAP_FILE = `${CONTAINER_STORAGE}/b2c-swapfile`;

export class Swap {
  /** What swapon took, to switch off before the cache is unmounted or its device disconnected. */
  private active: { path: string; file: boolean } | undefined;

  constructor(
    private readonly system: System,
    private readonly output: Log,
  ) {}

  private async run(argv: string[]): Promise<{ ok: boolean; detail: string }> {
    const result = await this.system.run(argv, { captureStdout: true, captureStderr: true });
    return { ok: result.status === 0, detail: `${argv[0]} exited with ${result.status}: ${(result.stderr || result.stdout).trim()}` };
  }

  /**
   * Sets up the swap; a swap that cannot be made is said and the boot goes
   * on, as upstream's did. `cacheMounted`: whether a file has a cache to go
   * on; `unconnected`: network block devices that did not connect.
   */
  async setUp(swap: SwapConfig, cacheMounted: boolean, unconnected: ReadonlySet<string>): Promise<boolean> {
    const made = swap.kind === 'file' ? await this.addFile(swap.bytes, cacheMounted) : await this.addDevice(swap.path, unconnected);
    if (made && swap.swappiness !== undefined) {
      try {
        await this.system.writeText('/proc/sys/vm/swappiness', `${swap.swappiness}\n`);
        await this.output.log(`vm.swappiness set to ${swap.swappiness}`);
      } catch (error) {
        await this.output.log(`Could not set vm.swappiness to ${swap.swappiness}: ${String(error)}`);
      }
    }
    return made;
  }

  private async addFile(bytes: number, cacheMounted: boolean): Promise<boolean> {
    if (!cacheMounted) {
      await this.output.log('b2c.swap needs a cache partition for its file: no swap');
      return false;
    }
    const steps = [
      // A file a cut boot left may be larger than this line asks, and fallocate never shrinks one.
      ['rm', '-f', SWAP_FILE],
      ['fallocate', '-l', String(bytes), SWAP_FILE],
      ['chmod', '600', SWAP_FILE],
      ['mkswap', SWAP_FILE],
      ['swapon', SWAP_FILE],
    ];
    for (const argv of steps) {
      const result = await this.run(argv);
      if (!result.ok) {
        await this.output.log(`No swap: ${result.detail}`);
        await this.system.run(['rm', '-f', SWAP_FILE]);
        return false;
      }
    }
    this.active = { path: SWAP_FILE, file: true };
    await this.output.log(`Swap: ${bytes} bytes in ${SWAP_FILE}`);
    return true;
  }

  private async addDevice(path: string, unconnected: ReadonlySet<string>): Promise<boolean> {
    const nbd = nbdDeviceOf(path);
    if (nbd !== undefined && unconnected.has(nbd)) {
      await this.output.log(`The swap device ${path} is not connected: no swap`);
      return false;
    }
    if (!(await this.system.exists(path))) {
      await this.output.log(`The swap device ${path} does not exist: no swap`);
      return false;
    }
    for (const argv of [
      ['mkswap', path],
      ['swapon', path],
    ]) {
      const result = await this.run(argv);
      if (!result.ok) {
        await this.output.log(`No swap on ${path}: ${result.detail}`);
        return false;
      }
    }
    this.active = { path, file: false };
    await this.output.log(`Swap: on ${path}`);
    return true;
  }

  /** Switches the swap off (and removes its file): before the cache is unmounted and before a network block device is disconnected. */
  async tearDown(): Promise<void> {
    const active = this.active;
    if (active === undefined) return;
    this.active = undefined;
    const result = await this.run(['swapoff', active.path]);
    await this.output.log(result.ok ? `Swap off: ${active.path}` : `Could not switch the swap on ${active.path} off: ${result.detail}`);
    if (active.file) await this.run(['rm', '-f', active.path]);
  }
}
