// A real NFS server for tests: NFS-Ganesha (user space, no host nfsd) exporting one folder over NFSv4 on one TCP port of 127.0.0.1.

import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { B2cError } from '../errors.ts';
import { freePort } from './registry.ts';

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
    const logFd = openSync(logFile, 'a');
    const child = spawn(binary, ['-F', '-L', '/dev/stderr', '-f', config, '-p', join(folder, 'ganesha.pid')], { stdio: ['ignore', logFd, logFd] });
    closeSync(logFd);
    const server = new NfsServer(port, child, folder, logFile);
    const failed = new Promise<never>((_, reject) => {
      child.on('error', (error) => reject(new B2cError(`cannot start ${binary}: install the nfs-ganesha and nfs-ganesha-vfs packages`, { cause: error })));
      child.on('exit', (code) => reject(new B2cError(`${binary} exited with status ${code}:\n${readFileSync(logFile, 'utf8')}`)));
    });
    try {
      await Promise.race([failed, server.waitUntilListening()]);
    } catch (error) {
      await server.stop();
      throw error;
    }
    failed.catch(() => {});
    return server;
  }

  private async waitUntilListening(): Promise<void> {
    for (let attempt = 0; attempt < 200; attempt++) {
      const listening = await new Promise<boolean>((resolve) => {
        const socket = connect(this.port, '127.0.0.1');
        socket.once('connect', () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', () => resolve(false));
      });
      if (listening) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new B2cError(`ganesha.nfsd did not listen on 127.0.0.1:${this.port} within 20 s:\n${readFileSync(this.logFile, 'utf8')}`);
  }

  async stop(): Promise<void> {
    if (this.process.exitCode === null && this.process.signalCode === null) {
      const exited = new Promise((resolve) => this.process.once('exit', resolve));
      this.process.kill('SIGTERM');
      await exited;
    }
    await rm(this.folder, { recursive: true, force: true });
  }
}
