// A farm job's HTTP server as ci-tron's gateway has one: the job's files (the extra arguments), and an HTTP CONNECT proxy to allowed endpoints.

import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { joinSockets } from './sockets.ts';

export class JobServer {
  private constructor(
    private readonly server: Server,
    readonly port: number,
    /** Each request, in order: `GET /path` or `CONNECT host:port` (with `refused` when the endpoint is not allowed). */
    readonly requests: readonly string[],
  ) {}

  /**
   * Serves `files` by path and tunnels CONNECT to the allowed endpoints, each
   * `host:port` the job names mapped to a port on 127.0.0.1 (a farm proxy
   * resolves names the machines cannot).
   */
  static async start(files: ReadonlyMap<string, string | Uint8Array>, endpoints: ReadonlyMap<string, number> = new Map()): Promise<JobServer> {
    const requests: string[] = [];
    const server = createServer((request, response) => {
      const path = new URL(request.url ?? '/', 'http://job').pathname;
      requests.push(`${request.method ?? 'GET'} ${path}`);
      const file = files.get(path);
      if (request.method !== 'GET' || file === undefined) {
        response.writeHead(404).end();
        return;
      }
      response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': Buffer.byteLength(file) }).end(file);
    });
    server.on('connect', (request, client: Socket, head: Buffer) => {
      const target = request.url ?? '';
      const port = endpoints.get(target);
      if (port === undefined) {
        requests.push(`CONNECT ${target} refused`);
        client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
        return;
      }
      requests.push(`CONNECT ${target}`);
      const upstream = connect(port, '127.0.0.1', () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        if (head.length > 0) upstream.write(head);
      });
      joinSockets(client, upstream);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new JobServer(server, (server.address() as AddressInfo).port, requests);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}
