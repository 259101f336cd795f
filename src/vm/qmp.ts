// A small client for QEMU's QMP socket: enough to plug a disk into a running machine.

import { createConnection, type Socket } from 'node:net';
import { B2cError } from '../errors.ts';
import { HOTPLUG_PORT } from './qemu.ts';

/** One QMP session: the greeting is read, capabilities negotiated, then commands answered in order. */
export class QmpClient {
  private buffer = '';
  private waiting: Array<{ resolve: (value: unknown) => void; reject: (error: Error) => void }> = [];

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer += chunk.toString();
      let newline: number;
      while ((newline = this.buffer.indexOf('\n')) !== -1) {
        const line = this.buffer.slice(0, newline).trim();
        this.buffer = this.buffer.slice(newline + 1);
        if (line !== '') this.message(JSON.parse(line) as Record<string, unknown>);
      }
    });
  }

  private message(message: Record<string, unknown>): void {
    // Events (and the greeting) come unasked; only return and error answer a command.
    if (!('return' in message) && !('error' in message)) return;
    const waiter = this.waiting.shift();
    if (!waiter) return;
    if ('error' in message) waiter.reject(new B2cError(`QMP: ${JSON.stringify(message.error)}`));
    else waiter.resolve(message.return);
  }

  static async connect(path: string, timeoutMs = 10_000): Promise<QmpClient> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const socket = await new Promise<Socket>((resolve, reject) => {
          const candidate = createConnection(path, () => resolve(candidate));
          candidate.once('error', reject);
        });
        const client = new QmpClient(socket);
        await client.execute('qmp_capabilities');
        return client;
      } catch (error) {
        if (Date.now() > deadline) throw new B2cError(`cannot reach QMP at ${path}`, { cause: error });
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  execute(command: string, args?: Record<string, unknown>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.socket.write(`${JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}) })}\n`);
    });
  }

  /** Plugs a raw disk image in as a virtio disk, as if it had just been connected. */
  async plugDisk(file: string, id: string): Promise<void> {
    await this.execute('blockdev-add', { 'node-name': id, driver: 'raw', file: { driver: 'file', filename: file } });
    await this.execute('device_add', { driver: 'virtio-blk-pci', drive: id, id: `${id}-device`, bus: HOTPLUG_PORT });
  }

  close(): void {
    this.socket.end();
  }
}
