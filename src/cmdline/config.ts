// The typed configuration one command line gives, with COMPAT.md's defaults.

import { DEFAULT_HOSTNAME } from '../image-layout.ts';
import type { ContainerStep } from './container.ts';
import type { Secret } from './secret.ts';

export type CacheDevice = { kind: 'none' } | { kind: 'auto' } | { kind: 'reset' } | { kind: 'device'; path: string } | { kind: 'filesystem'; name: string };

export type NtpPeer = { kind: 'none' } | { kind: 'auto' } | { kind: 'host'; host: string };

export interface IfaceConfig {
  name: string;
  /** CIDR addresses; empty with DHCP. */
  addresses: string[];
  gateway?: string;
  nameservers: string[];
  routes: Array<{ network: string; gateway: string }>;
  forward: boolean;
  dhcp: boolean;
  /** Bytes; the driver's own when absent. */
  mtu?: number;
}

export interface MinioAlias {
  alias: string;
  url: string;
  accessKey: Secret;
  secretKey: Secret;
}

export const SYNC_CONDITIONS = ['pipeline_start', 'container_start', 'container_end', 'pipeline_end', 'changes'] as const;
export type SyncCondition = (typeof SYNC_CONDITIONS)[number];

export interface VolumeConfig {
  name: string;
  /** `ALIAS/BUCKET/PATH` to pull from, and to push to; `mirror=` sets both. */
  pullFrom?: string;
  pushTo?: string;
  pullOn: SyncCondition[];
  pushOn: SyncCondition[];
  expiration: 'never' | 'pipeline_end';
  overwrite: boolean;
  remove: boolean;
  preserve: boolean;
  exclude: string[];
  encryptKey?: Secret;
  fscryptKey?: Secret;
  fscryptResetKey: boolean;
  filesystem?: string;
}

export interface FilesystemConfig {
  name: string;
  type?: string;
  src: string;
  opts: string[];
}

/** `b2c.nbd`: a network block device, connected before the cache is set up. */
export interface NbdConfig {
  /** The device node, `/dev/nbdN`. */
  device: string;
  host: string;
  port: number;
  /** Connections the farm asked for; b2c's client opens one. */
  connections: number;
}

/** `b2c.swap`: a swap file of that size on the cache partition, or swap on a device (mkswap at each boot); and vm.swappiness. */
export type SwapConfig = ({ kind: 'file'; bytes: number } | { kind: 'device'; path: string }) & { swappiness?: number };

/** `b2c.proxy`: the proxies of b2c's own transfers (podman's pulls, S3, downloads), by the scheme of what they fetch. */
export interface ProxyConfig {
  https?: string;
  http?: string;
  /** Hosts reached directly. */
  noProxy: string[];
}

/** `b2c.storage`: podman storage options. */
export interface StorageConfig {
  /** Names of b2c.filesystems that hold read-only image stores, mounted before podman first runs. */
  additionalImageStores: string[];
}

export interface B2cConfig {
  /** `b2c.container` and `b2c.run` steps, in command-line order. */
  containers: ContainerStep[];
  postContainers: ContainerStep[];
  /** `b2c.service` and `b2c.run_service`: started detached before the pipeline, stopped after it. */
  services: ContainerStep[];
  pipefail: boolean;
  cacheDevice: CacheDevice;
  swap?: SwapConfig;
  ntpPeer: NtpPeer;
  ifaces: IfaceConfig[];
  /** The kernel's own `ip=` setting, when present: b2c then leaves the addresses alone. */
  ipKernelConfig?: string;
  hostname: string;
  keymap?: string;
  /** `b2c.modules` and `b2c.insmods`, in order. */
  modules: string[];
  extraArgsUrl?: string;
  minio: MinioAlias[];
  volumes: VolumeConfig[];
  filesystems: FilesystemConfig[];
  nbds: NbdConfig[];
  storage: StorageConfig;
  proxy?: ProxyConfig;
  /** Shell text: upstream evaluates it in its shell, with the pipeline's variables; farms rely on that. */
  shutdownCmd: string;
  rebootCmd: string;
  /** Seconds to wait before the shutdown command. */
  poweroffDelay: number;
  /** Accepted, but worth a look: printed, and the boot goes on. */
  warnings: string[];
  /** The line is rejected: nothing runs. */
  errors: string[];
}

export const DEFAULT_SHUTDOWN_CMD = 'poweroff -f';
export const DEFAULT_REBOOT_CMD = 'reboot -f';
/** What `b2c.ntp_peer=auto` asks. */
export const AUTO_NTP_PEER = 'pool.ntp.org';

export function defaultConfig(): B2cConfig {
  return {
    containers: [],
    postContainers: [],
    services: [],
    pipefail: false,
    cacheDevice: { kind: 'none' },
    ntpPeer: { kind: 'none' },
    ifaces: [],
    hostname: DEFAULT_HOSTNAME,
    modules: [],
    minio: [],
    volumes: [],
    filesystems: [],
    nbds: [],
    storage: { additionalImageStores: [] },
    shutdownCmd: DEFAULT_SHUTDOWN_CMD,
    rebootCmd: DEFAULT_REBOOT_CMD,
    poweroffDelay: 0,
    warnings: [],
    errors: [],
  };
}

/** The JSON view of a configuration (`b2c cmdline --json`): secrets show as ***, nothing else is left out. */
export function configToJson(config: B2cConfig): unknown {
  const step = (item: ContainerStep): unknown => ({ argv: item.argv, image: item.image, command: item.command });
  return {
    containers: config.containers.map(step),
    postContainers: config.postContainers.map(step),
    services: config.services.map(step),
    pipefail: config.pipefail,
    cacheDevice: config.cacheDevice,
    swap: config.swap ?? null,
    ntpPeer: config.ntpPeer,
    ifaces: config.ifaces,
    ipKernelConfig: config.ipKernelConfig ?? null,
    hostname: config.hostname,
    keymap: config.keymap ?? null,
    modules: config.modules,
    extraArgsUrl: config.extraArgsUrl ?? null,
    minio: config.minio.map((alias) => ({ alias: alias.alias, url: alias.url, accessKey: alias.accessKey, secretKey: alias.secretKey })),
    volumes: config.volumes.map((volume) => ({
      name: volume.name,
      ...(volume.pullFrom !== undefined ? { pullFrom: volume.pullFrom } : {}),
      ...(volume.pushTo !== undefined ? { pushTo: volume.pushTo } : {}),
      pullOn: volume.pullOn,
      pushOn: volume.pushOn,
      expiration: volume.expiration,
      overwrite: volume.overwrite,
      remove: volume.remove,
      preserve: volume.preserve,
      exclude: volume.exclude,
      encrypted: volume.fscryptKey !== undefined,
      ...(volume.encryptKey !== undefined ? { encryptKey: volume.encryptKey } : {}),
      ...(volume.fscryptKey !== undefined ? { fscryptKey: volume.fscryptKey } : {}),
      fscryptResetKey: volume.fscryptResetKey,
      ...(volume.filesystem !== undefined ? { filesystem: volume.filesystem } : {}),
    })),
    filesystems: config.filesystems,
    nbds: config.nbds,
    storage: config.storage,
    proxy: config.proxy ?? null,
    shutdownCmd: config.shutdownCmd,
    rebootCmd: config.rebootCmd,
    poweroffDelay: config.poweroffDelay,
    warnings: config.warnings,
    errors: config.errors,
  };
}
