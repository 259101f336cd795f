// The HTTP side of `b2c serve`: the iPXE scripts, and each machine's kernel and archives, streamed and counted.

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { basename } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { B2cError } from '../errors.ts';
import type { ServeEvent } from './events.ts';
import { chainScript, machineScript, noBootScript, parseFilePath, parseScriptPath } from './ipxe.ts';
import { normalizeMac } from '../mac.ts';
import { bootFor, type MachinesTable } from './machines.ts';

export type Emit = (event: Omit<ServeEvent, 'time'>) => void;

function clientAddress(request: IncomingMessage): string {
  return (request.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
}

/**
 * Which MAC address each client address belongs to, as the last DHCP answer or
 * script request showed: file requests and TFTP transfers carry no MAC. Kept to
 * a bound, oldest out, over a server's long life.
 */
export class MacBook {
  private readonly macs = new Map<string, string>();

  note(address: string, mac: string): void {
    this.macs.delete(address);
    this.macs.set(address, mac);
    if (this.macs.size > 4096) this.macs.delete(this.macs.keys().next().value as string);
  }

  /** `{ mac }` for an event, or nothing when the address is not known. */
  of(address: string): { mac?: string } {
    const mac = this.macs.get(address);
    return mac === undefined ? {} : { mac };
  }
}

export class BootHttpServer {
  private readonly server: Server;

  constructor(
    /** The machines file as last read well. */
    private readonly table: () => MachinesTable,
    /** `http://ADDRESS:PORT`, as the scripts name it. */
    private readonly baseUrl: string,
    private readonly emit: Emit,
    private readonly macs = new MacBook(),
  ) {
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        this.emit({ step: 'error', address: clientAddress(request), message: `${request.url ?? ''}: ${String(error)}` });
        if (!response.headersSent) response.writeHead(500).end();
        else response.destroy();
      });
    });
  }

  /** Listens on one address only: the farm's side, not every interface of the host. */
  listen(address: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const failed = (error: NodeJS.ErrnoException): void => {
        const why = error.code === 'EADDRINUSE' ? 'it is in use (another b2c serve, or a web server?): choose another with --http-port' : error.message;
        reject(new B2cError(`cannot serve HTTP on ${address}:${port}: ${why}`, { cause: error }));
      };
      this.server.once('error', failed);
      this.server.listen(port, address, () => {
        this.server.off('error', failed);
        resolve();
      });
    });
  }

  /** The port it listens on: the one asked for, or the one the system chose for 0. */
  get port(): number {
    const address = this.server.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const address = clientAddress(request);
    const path = new URL(request.url ?? '/', 'http://b2c').pathname;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/boot.ipxe') {
      this.sendText(response, chainScript(this.baseUrl));
      return;
    }
    const scriptMac = parseScriptPath(path);
    if (scriptMac !== undefined) {
      const mac = normalizeMac(scriptMac);
      if (mac === undefined) {
        this.emit({ step: 'script', address, message: `${path}: not a MAC address, nothing served` });
        response.writeHead(404).end();
        return;
      }
      this.macs.note(address, mac);
      const entry = bootFor(this.table(), mac);
      this.emit({
        step: 'script',
        mac,
        address,
        message:
          entry === undefined
            ? 'not in the machines file, no default: sent back to its firmware'
            : `script served (${entry.key === 'default' ? 'default entry' : 'its own entry'})`,
      });
      this.sendText(response, entry === undefined ? noBootScript(mac) : machineScript(this.baseUrl, mac, entry));
      return;
    }
    const file = parseFilePath(path);
    const entry = file === undefined ? undefined : file.key === 'default' ? this.table().default : this.table().machines.get(file.key);
    const hostPath = entry === undefined || file === undefined ? undefined : file.file.kind === 'kernel' ? entry.kernel : entry.initrds[file.file.index];
    // The name is the file's own, as the script gave it: any other is a path the server did not hand out.
    if (file === undefined || hostPath === undefined || basename(hostPath) !== file.name) {
      this.emit({ step: 'error', address, ...this.macs.of(address), message: `${path}: no such file to serve (404)` });
      response.writeHead(404).end();
      return;
    }
    await this.sendFile(request, response, hostPath, file.file.kind, address);
  }

  private sendText(response: ServerResponse, text: string): void {
    response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
    response.end(text);
  }

  private async sendFile(request: IncomingMessage, response: ServerResponse, hostPath: string, kind: 'kernel' | 'initrd', address: string): Promise<void> {
    const size = (await stat(hostPath)).size;
    response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
    if (request.method === 'HEAD') {
      response.end();
      return;
    }
    const { sent, complete } = await sendCounted(createReadStream(hostPath), response);
    this.emit({
      step: kind,
      address,
      ...this.macs.of(address),
      file: hostPath,
      bytes: sent,
      message: complete ? `${basename(hostPath)} served, ${sent} bytes` : `${basename(hostPath)} broken off after ${sent} of ${size} bytes sent`,
    });
  }
}

/**
 * Streams `source` into a connection one chunk at a time and counts the
 * bytes the connection took (each write's callback), not those read ahead
 * from the disk: a machine that drops its download is told apart by what
 * reached it. `complete` when the whole source went and the response ended.
 */
export async function sendCounted(source: Readable, connection: Writable): Promise<{ sent: number; complete: boolean }> {
  let sent = 0;
  // Each wait is for the connection to take what was given (true), or to close or fail first (false).
  const closed = new Promise<false>((resolve) => {
    connection.once('close', () => resolve(false));
    // A failed write is seen by its callback: the error event only repeats it.
    connection.on('error', () => resolve(false));
  });
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      const taken = new Promise<boolean>((resolve) => connection.write(chunk, (error) => resolve(!error)));
      if (!(await Promise.race([taken, closed]))) return { sent, complete: false };
      sent += chunk.length;
    }
    const ended = new Promise<boolean>((resolve) => connection.end((error?: Error | null) => resolve(!error)));
    return { sent, complete: await Promise.race([ended, closed]) };
  } catch {
    // The file could not be read: the machine gets a short download, which its length header shows.
    connection.destroy();
    return { sent, complete: false };
  } finally {
    source.destroy();
  }
}
