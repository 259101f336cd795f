// A proxy on 127.0.0.1 in front of a real server (the registry, the S3 server) that injects the faults farm networks have: 5xx answers, dropped
// connections, bodies cut short or corrupted, slow links.

import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Transform, type TransformCallback } from 'node:stream';

export type Fault =
  /** Answer this status, with a short body, instead of forwarding. */
  | { kind: 'status'; status: number }
  /** Close the connection without an answer. */
  | { kind: 'reset' }
  /** Forward, but end the connection after this many bytes of the body. */
  | { kind: 'cut'; bytes: number }
  /** Forward, with one byte of the body changed: what a digest check must catch. */
  | { kind: 'corrupt' }
  /** Forward the body at this pace. */
  | { kind: 'slow'; bytesPerSecond: number }
  /** Take the request and never answer, keeping the connection open: a server that hangs. */
  | { kind: 'stall' };

export interface FaultRule {
  /** Which requests: their method (any when absent) and a pattern their path matches. */
  method?: string;
  path: RegExp;
  fault: Fault;
  /** How many matching requests get the fault; every one when absent. */
  times?: number;
}

/** One request the proxy saw, and the fault it got, if any. */
export interface ProxiedRequest {
  method: string;
  path: string;
  fault?: Fault['kind'];
}

function describe(fault: Fault): string {
  return fault.kind === 'status' ? `an injected ${fault.status}` : `an injected ${fault.kind}`;
}

/** Changes one byte of the stream: the first of its second chunk, or of its first when there is one. */
function corruptOneByte(): Transform {
  let done = false;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      if (!done && chunk.length > 0) {
        done = true;
        const copy = Buffer.from(chunk);
        copy[copy.length >> 1] = ((copy[copy.length >> 1] as number) ^ 0xff) & 0xff;
        callback(null, copy);
        return;
      }
      callback(null, chunk);
    },
  });
}

/** Lets `bytesPerSecond` through, in slices of a tenth of a second. */
function throttle(bytesPerSecond: number): Transform {
  const slice = Math.max(1, Math.floor(bytesPerSecond / 10));
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      const parts: Buffer[] = [];
      for (let offset = 0; offset < chunk.length; offset += slice) parts.push(chunk.subarray(offset, offset + slice));
      const next = (): void => {
        const part = parts.shift();
        if (part === undefined) {
          callback();
          return;
        }
        this.push(part);
        setTimeout(next, 100);
      };
      next();
    },
  });
}

/** Forwards the first `bytes` of the body, then ends the connection once they are sent: the client sees the body fall short. */
function cutShort(answer: IncomingMessage, response: ServerResponse, bytes: number): void {
  let sent = 0;
  answer.on('data', (chunk: Buffer) => {
    if (sent >= bytes) return;
    const part = chunk.subarray(0, bytes - sent);
    sent += part.length;
    if (sent < bytes) {
      response.write(part);
      return;
    }
    answer.destroy();
    response.write(part, () => response.socket?.end());
  });
  answer.on('end', () => response.end());
}

export class FaultProxy {
  readonly requests: ProxiedRequest[] = [];
  private readonly rules: Array<FaultRule & { left: number }> = [];

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /** Starts a proxy to 127.0.0.1:targetPort, with no fault until one is added. */
  static async start(targetPort: number): Promise<FaultProxy> {
    const box: { proxy?: FaultProxy } = {};
    const server = createServer((request, response) => box.proxy?.handle(targetPort, request, response));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    box.proxy = new FaultProxy(server, (server.address() as AddressInfo).port);
    return box.proxy;
  }

  add(rule: FaultRule): void {
    this.rules.push({ ...rule, left: rule.times ?? Infinity });
  }

  /** Drops every fault rule: what follows is forwarded as it is. The requests seen are kept. */
  clearFaults(): void {
    this.rules.length = 0;
  }

  /** The requests whose path matches, as the proxy saw them. */
  seen(path: RegExp): ProxiedRequest[] {
    return this.requests.filter((request) => path.test(request.path));
  }

  private faultFor(method: string, path: string): Fault | undefined {
    const rule = this.rules.find(
      (candidate) => candidate.left > 0 && (candidate.method === undefined || candidate.method === method) && candidate.path.test(path),
    );
    if (rule === undefined) return undefined;
    rule.left--;
    return rule.fault;
  }

  private handle(targetPort: number, request: IncomingMessage, response: ServerResponse): void {
    const method = request.method ?? 'GET';
    const path = request.url ?? '/';
    const fault = this.faultFor(method, path);
    this.requests.push({ method, path, ...(fault !== undefined ? { fault: fault.kind } : {}) });
    if (fault?.kind === 'status') {
      request.resume();
      response.writeHead(fault.status, { 'content-type': 'text/plain' }).end(`${describe(fault)}\n`);
      return;
    }
    if (fault?.kind === 'reset') {
      request.socket.destroy();
      return;
    }
    // The connection stays open until the client gives up or the proxy closes.
    if (fault?.kind === 'stall') {
      request.resume();
      return;
    }
    const upstream = httpRequest({ host: '127.0.0.1', port: targetPort, method, path, headers: request.headers }, (answer) => {
      // The headers pass as they are: a cut body then falls short of its Content-Length, as a dropped link leaves it.
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      if (fault?.kind === 'cut') cutShort(answer, response, fault.bytes);
      else if (fault?.kind === 'corrupt') answer.pipe(corruptOneByte()).pipe(response);
      else if (fault?.kind === 'slow') answer.pipe(throttle(fault.bytesPerSecond)).pipe(response);
      else answer.pipe(response);
    });
    upstream.on('error', () => response.socket?.destroy());
    request.pipe(upstream);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
