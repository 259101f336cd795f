// A real NFS server for tests: NFS-Ganesha (user space, no host nfsd) exporting one folder over NFSv4 on one TCP port of 127.0.0.1.

import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { B2cError } from '../errors.ts';
import { freePort } from './registry.ts';
import { startServerProcess, stopServerProcess } from './server-process.ts';

export interface NfsExport {
  /** The host folder served. */
  directory: string;
  /** The path clients mount, `HOST:/pseudo`. */
  pseudoPath: string;
  readOnly: boolean;
}

/**
 * Ganesha's configuration: NFSv4 only over TCP (one port, so a QEMU forward
 * carries it), no grace period (a fresh server would make clients wait 90 s),
 * no lock manager, quota or rpcbind service, clients' root kept as root.
 */
export function ganeshaConfig(port: number, stateDirectory: string, exports: readonly NfsExport[]): string {
  const exportBlocks = exports.map(
    (entry, index) => `EXPORT {
  Export_Id = ${index + 1};
  Path = ${entry.directory};
  Pseudo = ${entry.pseudoPath};
  Access_Type = ${entry.readOnly ? 'RO' : 'RW'};
  Squash = No_Root_Squash;
  Protocols = 4;
  Transports = TCP;
  SecType = sys;
  FSAL { Name = VFS; }
}
`,
  );
  return `NFS_CORE_PARAM {
  Protocols = 4;
  NFS_Port = ${port};
  Bind_addr = 127.0.0.1;
  Enable_NLM = false;
  Enable_RQUOTA = false;
  Enable_UDP = false;
}
NFSV4 {
  Graceless = true;
  RecoveryBackend = fs;
  RecoveryRoot = ${stateDirectory};
}
NFS_KRB5 { Active_krb5 = false; }
LOG { Default_Log_Level = EVENT; }
${exportBlocks.join('')}`;
}

/** Resolves once something accepts TCP connections on 127.0.0.1:`port`. */
async function waitUntilListening(port: number, logFile: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const listening = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (listening) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new B2cError(`ganesha.nfsd did not listen on 127.0.0.1:${port} within 20 s:\n${readFileSync(logFile, 'utf8')}`);
}

export class NfsServer {
  private constructor(
    readonly port: number,
    private readonly process: ChildProcess,
    private readonly folder: string,
    readonly logFile: string,
  ) {}

  /** Starts ganesha.nfsd in the foreground on a free port and waits until it accepts connections. */
  static async start(exports: readonly NfsExport[], binary = 'ganesha.nfsd'): Promise<NfsServer> {
    const port = await freePort();
    const folder = await mkdtemp(join(tmpdir(), 'b2c-nfs-'));
    await mkdir(join(folder, 'state'));
    const config = join(folder, 'ganesha.conf');
    await writeFile(config, ganeshaConfig(port, join(folder, 'state'), exports));
    const logFile = join(folder, 'ganesha.log');
    try {
      const child = await startServerProcess(binary, ['-F', '-L', '/dev/stderr', '-f', config, '-p', join(folder, 'ganesha.pid')], logFile, {
        install: 'install the nfs-ganesha and nfs-ganesha-vfs packages',
        ready: () => waitUntilListening(port, logFile),
      });
      return new NfsServer(port, child, folder, logFile);
    } catch (error) {
      await rm(folder, { recursive: true, force: true });
      throw error;
    }
  }

  async stop(): Promise<void> {
    await stopServerProcess(this.process);
    await rm(this.folder, { recursive: true, force: true });
  }
}
