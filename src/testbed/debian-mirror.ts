// A Debian mirror on 127.0.0.1 for tests: the signed lists and the packages a host cache already holds, served as deb.debian.org would, slowly if asked.

import { createReadStream, existsSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, join } from 'node:path';

/** How the host cache names the lists of deb.debian.org (apt's own naming of the mirror's URL). */
const LISTS_PREFIX = 'deb.debian.org_debian_dists_';

export class DebianMirror {
  private constructor(
    private readonly server: Server,
    readonly port: number,
    /** Every path asked for, in order. */
    readonly requests: readonly string[],
  ) {}

  /** The mirror's URL, for `--mirror` or an apt source. */
  get url(): string {
    return `http://127.0.0.1:${this.port}/debian`;
  }

  /**
   * Serves `aptRoot` (a host cache's `apt/SUITE-ARCH`): its InRelease and
   * uncompressed Packages lists, which apt falls back to, and the packages of
   * its archive folder, each after `packageDelayMs`.
   */
  static async start(aptRoot: string, packageDelayMs = 0): Promise<DebianMirror> {
    const lists = join(aptRoot, 'state/lists');
    const archives = join(aptRoot, 'archives');
    // apt stores a package with its version's epoch (`name_1%3a2.0_arch.deb`); the pool names it without.
    const packages = new Map(readdirSync(archives).map((name) => [name.replace(/_\d+%3a/, '_'), join(archives, name)]));
    const requests: string[] = [];
    const server = createServer((request, response) => {
      const path = decodeURIComponent(new URL(request.url ?? '/', 'http://mirror').pathname);
      requests.push(path);
      const list = /^\/debian\/dists\/(.+\/(?:InRelease|binary-[^/]+\/Packages))$/.exec(path)?.[1];
      const file =
        list !== undefined
          ? join(lists, LISTS_PREFIX + list.replaceAll('/', '_'))
          : path.startsWith('/debian/pool/')
            ? packages.get(basename(path))
            : undefined;
      if (file === undefined || !existsSync(file)) {
        response.writeHead(404).end();
        return;
      }
      setTimeout(
        () => {
          response.writeHead(200, { 'content-type': 'application/octet-stream' });
          createReadStream(file).pipe(response);
        },
        list === undefined ? packageDelayMs : 0,
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new DebianMirror(server, (server.address() as AddressInfo).port, requests);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}
