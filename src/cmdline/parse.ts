// The one command-line parser, shared by /init (QuickJS) and the host CLI (Node): line in, typed config out, never throws.

import { AUTO_NTP_PEER, defaultConfig, type B2cConfig, type CacheDevice } from './config.ts';
import { isImageId, parseContainerStep } from './container.ts';
import { parseIface } from './iface.ts';
import { splitArgumentsFile, splitKernelCmdline, splitShellWords } from './split.ts';
import { isHostname, isHttpUrl, isIpAddress, isKernelHostname, type OptionResult } from './values.ts';
import { parseProxy } from './proxy.ts';
import { parseSwap, sharesStorage } from './swap.ts';
import { parseFilesystem } from './filesystem.ts';
import { parseMinio } from './minio.ts';
import { nbdDeviceOf, parseNbd } from './nbd.ts';
import { parseStorage } from './storage.ts';
import { aliasOf, parseVolume } from './volume.ts';

/** Options that may be given many times; any other given twice keeps its last value, with a warning. */
const REPEATABLE = new Set([
  'b2c.container',
  'b2c.run',
  'b2c.post_container',
  'b2c.service',
  'b2c.run_service',
  'b2c.iface',
  'b2c.insmods',
  'b2c.modules',
  'b2c.minio',
  'b2c.volume',
  'b2c.filesystem',
  'b2c.nbd',
]);

type OptionHandler = (config: B2cConfig, value: string | undefined, name: string) => void;

const KEYMAP = /^[A-Za-z0-9_.-]+$/;

function needValue(config: B2cConfig, name: string, value: string | undefined, example: string): value is string {
  if (value !== undefined && value !== '') return true;
  config.errors.push(`${name} needs a value, e.g. ${example}`);
  return false;
}

function takeResult<T>(config: B2cConfig, result: OptionResult<T>, add: (value: T) => void): void {
  config.errors.push(...result.errors);
  config.warnings.push(...result.warnings);
  if (result.value !== undefined) add(result.value);
}

function containerOption(list: (config: B2cConfig) => B2cConfig['containers']): OptionHandler {
  return (config, value, name) => {
    if (!needValue(config, name, value, `${name}="[podman run options] docker://registry/image:tag [command]"`)) return;
    const result = parseContainerStep(value);
    if (result.ok) list(config).push(result.step);
    else config.errors.push(`${name}: ${result.error}`);
  };
}

/** A shutdown or reboot command: shell text, run by `sh -c` as upstream's shell evaluated it; checked for quotes that would not parse. */
function shellCommandOption(set: (config: B2cConfig, text: string) => void): OptionHandler {
  return (config, value, name) => {
    const split = value === undefined ? undefined : splitShellWords(value);
    if (value === undefined || split === undefined || !split.ok || split.words.length === 0) {
      const why = split !== undefined && !split.ok ? split.error : 'it is empty';
      config.errors.push(`${name}: ${why}; give a command for sh -c, e.g. ${name}="poweroff -f"`);
      return;
    }
    set(config, value.trim());
  };
}

function parseCacheDevice(value: string): CacheDevice {
  if (value === 'none' || value === 'auto' || value === 'reset') return { kind: value };
  if (value.startsWith('/dev/')) return { kind: 'device', path: value };
  return { kind: 'filesystem', name: value };
}

const OPTIONS: Record<string, OptionHandler> = {
  'b2c.container': containerOption((config) => config.containers),
  'b2c.run': containerOption((config) => config.containers),
  'b2c.post_container': containerOption((config) => config.postContainers),
  'b2c.service': containerOption((config) => config.services),
  'b2c.run_service': containerOption((config) => config.services),
  'b2c.pipefail': (config, value, name) => {
    if (value !== undefined) config.warnings.push(`${name} takes no value: ${name}=${value} is read as ${name}`);
    config.pipefail = true;
  },
  'b2c.cache_device': (config, value, name) => {
    if (!needValue(config, name, value, `${name}=auto (or none, reset, /dev/sdX, or a b2c.filesystem name)`)) return;
    if (value !== 'none' && value !== 'auto' && value !== 'reset' && !value.startsWith('/dev/') && !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(value)) {
      config.errors.push(`${name}=${value} is not valid: use none, auto, reset, a /dev/ path, or the name of a b2c.filesystem`);
      return;
    }
    // The cache is formatted when it holds no b2c partition: a path that leaves /dev must never reach mkfs.
    if (value.startsWith('/dev/') && value.split('/').some((part, index) => index > 1 && (part === '' || part === '.' || part === '..'))) {
      config.errors.push(`${name}=${value} is not a device path: give one below /dev without . or .. (e.g. /dev/sda, /dev/disk/by-id/…)`);
      return;
    }
    config.cacheDevice = parseCacheDevice(value);
  },
  'b2c.swap': (config, value, name) => {
    if (!needValue(config, name, value, `${name}=4G`)) return;
    takeResult(config, parseSwap(value, name), (swap) => (config.swap = swap));
  },
  'b2c.ntp_peer': (config, value, name) => {
    if (!needValue(config, name, value, `${name}=auto (or none, or a host name or address)`)) return;
    if (value === 'none') {
      config.ntpPeer = { kind: 'none' };
      config.warnings.push(`${name}=none: the clock is not set, and TLS certificate checks fail on a machine whose clock is wrong`);
    } else if (value === 'auto') {
      config.ntpPeer = { kind: 'auto' };
    } else if (isHostname(value) || isIpAddress(value)) {
      config.ntpPeer = { kind: 'host', host: value };
    } else if (isKernelHostname(value)) {
      // The resolver may still know it (a name with an underscore, say): asked as given, as upstream did.
      config.ntpPeer = { kind: 'host', host: value };
      config.warnings.push(`${name}=${value} is not a DNS host name: asked as given, if the resolver knows it`);
    } else {
      config.errors.push(`${name}=${value} is not valid: use none, auto (${AUTO_NTP_PEER}), or a host name or IP address`);
    }
  },
  'b2c.iface': (config, value, name) => {
    if (!needValue(config, name, value, `${name}=eth0,address=192.168.1.10/24,gateway=192.168.1.1`)) return;
    takeResult(config, parseIface(value), (iface) => config.ifaces.push(iface));
  },
  'b2c.hostname': (config, value, name) => {
    if (!needValue(config, name, value, `${name}=dut-42`)) return;
    if (isHostname(value)) {
      config.hostname = value;
    } else if (isKernelHostname(value)) {
      // The kernel takes any name of up to 64 bytes; upstream passed it on, and farms have names with underscores.
      config.hostname = value;
      config.warnings.push(`${name}=${value} is not a DNS host name (letters, digits and inner dashes): set as given, but other hosts may not resolve it`);
    } else {
      config.errors.push(`${name}=${value} is not a host name (at most 64 letters, digits, - _ and dots)`);
    }
  },
  'b2c.keymap': (config, value, name) => {
    if (!needValue(config, name, value, `${name}=de`)) return;
    if (KEYMAP.test(value)) config.keymap = value;
    else config.errors.push(`${name}=${value} is not a keymap name`);
  },
  'b2c.insmods': modulesOption,
  'b2c.modules': modulesOption,
  'b2c.extra_args_url': (config, value, name) => {
    if (!needValue(config, name, value, `${name}=https://farm.example/dut-42/secrets`)) return;
    if (isHttpUrl(value)) config.extraArgsUrl = value;
    else config.errors.push(`${name}: ${value} is not an http:// or https:// URL`);
  },
  'b2c.minio': (config, value, name) => {
    if (!needValue(config, name, value, `${name}="ALIAS,https://s3.example:9000,ACCESS_KEY,SECRET_KEY"`)) return;
    takeResult(config, parseMinio(value), (alias) => config.minio.push(alias));
  },
  'b2c.volume': (config, value, name) => {
    if (!needValue(config, name, value, `${name}="job,mirror=ALIAS/bucket/path"`)) return;
    takeResult(config, parseVolume(value), (volume) => config.volumes.push(volume));
  },
  'b2c.filesystem': (config, value, name) => {
    if (!needValue(config, name, value, `${name}="data,type=ext4,src=/dev/sdb1"`)) return;
    takeResult(config, parseFilesystem(value), (filesystem) => config.filesystems.push(filesystem));
  },
  'b2c.nbd': (config, value, name) => {
    if (!needValue(config, name, value, `${name}=/dev/nbd0,host=gateway,port=10809`)) return;
    takeResult(config, parseNbd(value), (nbd) => config.nbds.push(nbd));
  },
  'b2c.storage': (config, value, name) => {
    if (!needValue(config, name, value, `${name}="additionalimagestores=publicimgstore"`)) return;
    takeResult(config, parseStorage(value), (storage) => (config.storage = storage));
  },
  'b2c.proxy': (config, value, name) => {
    if (!needValue(config, name, value, `${name}="https=http://gateway:3128"`)) return;
    takeResult(config, parseProxy(value, name), (proxy) => (config.proxy = proxy));
  },
  'b2c.shutdown_cmd': shellCommandOption((config, text) => (config.shutdownCmd = text)),
  'b2c.reboot_cmd': shellCommandOption((config, text) => (config.rebootCmd = text)),
  'b2c.poweroff_delay': (config, value, name) => {
    if (value === undefined || !/^\d+(\.\d+)?$/.test(value)) {
      // Upstream's shell read such a value as no delay: the machine still powers off.
      config.poweroffDelay = 0;
      config.warnings.push(`${name}=${value ?? ''} is not a number of seconds (e.g. ${name}=5): no delay`);
      return;
    }
    config.poweroffDelay = Number(value);
  },
};

function modulesOption(config: B2cConfig, value: string | undefined, name: string): void {
  if (!needValue(config, name, value, `${name}=e1000e,r8169`)) return;
  for (const module of value.split(',')) {
    const fromFile = /^(?:.*\/)?([A-Za-z0-9_-]+)\.ko(?:\.(?:xz|zst|gz))?$/.exec(module)?.[1];
    if (/^[A-Za-z0-9_-]+$/.test(module)) {
      config.modules.push(module);
    } else if (fromFile !== undefined) {
      // upstream's insmods took file names: the module is what the file holds.
      config.modules.push(fromFile);
      config.warnings.push(`${name}: ${module} is a file name: the module ${fromFile} is loaded`);
    } else {
      config.errors.push(`${name}: "${module}" is not a module name`);
    }
  }
}

export const KNOWN_OPTIONS: readonly string[] = Object.keys(OPTIONS);

/** Checks what one option says about another, once every option is known. */
function checkReferences(config: B2cConfig, extraArgsPending: boolean): void {
  const aliases = new Set(config.minio.map((alias) => alias.alias));
  const filesystems = new Set(config.filesystems.map((filesystem) => filesystem.name));
  // The extra arguments may still define what the kernel's line refers to: only warn then.
  const report = (message: string): void => {
    if (!extraArgsPending) config.errors.push(message);
    else config.warnings.push(`${message} (unless b2c.extra_args_url defines it)`);
  };
  for (const volume of config.volumes) {
    for (const path of new Set([volume.pullFrom, volume.pushTo])) {
      if (path === undefined) continue;
      const alias = aliasOf(path);
      if (!aliasOf(path) || path.split('/').length < 2) config.errors.push(`b2c.volume=${volume.name}: ${path} is not ALIAS/BUCKET[/PATH]`);
      else if (!aliases.has(alias)) report(`b2c.volume=${volume.name}: no b2c.minio defines the alias ${alias}`);
    }
    if (volume.filesystem !== undefined && !filesystems.has(volume.filesystem))
      report(`b2c.volume=${volume.name}: no b2c.filesystem is named ${volume.filesystem}`);
  }
  // The swap file goes on the cache partition: without one there is none, and the machine would only say so at boot.
  if (config.swap?.kind === 'file' && config.cacheDevice.kind === 'none') {
    const message = `b2c.swap needs a cache partition (b2c.cache_device): with b2c.cache_device=none the machine gets no swap`;
    config.warnings.push(extraArgsPending ? `${message} (unless b2c.extra_args_url sets b2c.cache_device)` : message);
  }
  for (const store of config.storage.additionalImageStores) {
    if (!filesystems.has(store))
      report(`b2c.storage: the image store ${store} is no b2c.filesystem (e.g. b2c.filesystem=${store},type=nfs,src=HOST:/path,opts=ro)`);
  }
  // With no image store to hold it, an image named by its ID can only be one a cache disk kept from an earlier boot.
  if (config.storage.additionalImageStores.length === 0) {
    const byId = [...config.services, ...config.containers, ...config.postContainers].filter((step) => isImageId(step.image));
    for (const step of byId) {
      const message = `${step.image} is an image ID (never pulled) and b2c.storage names no image store: it runs only if the cache kept it from a past boot`;
      config.warnings.push(extraArgsPending ? `${message} (unless b2c.extra_args_url sets b2c.storage)` : message);
    }
  }
  // mkswap writes over what the swap device holds, at every boot.
  if (config.swap?.kind === 'device') {
    const swapPath = config.swap.path;
    if (config.cacheDevice.kind === 'device' && sharesStorage(swapPath, config.cacheDevice.path))
      config.errors.push(
        `b2c.swap=${swapPath} and b2c.cache_device=${config.cacheDevice.path} share a device: mkswap would erase the cache at each boot; give each its own`,
      );
    for (const filesystem of config.filesystems.filter((candidate) => sharesStorage(swapPath, candidate.src)))
      config.errors.push(`b2c.swap=${swapPath} and b2c.filesystem=${filesystem.name} (${filesystem.src}) share a device: mkswap would erase it at each boot`);
  }
  const nbdDevices = new Set(config.nbds.map((nbd) => nbd.device));
  const swapNbd = config.swap?.kind === 'device' ? nbdDeviceOf(config.swap.path) : undefined;
  if (swapNbd !== undefined && !nbdDevices.has(swapNbd)) {
    const message = `b2c.swap=${config.swap?.kind === 'device' ? config.swap.path : ''}: no b2c.nbd connects it, so the machine gets no swap`;
    config.warnings.push(extraArgsPending ? `${message} (unless b2c.extra_args_url adds the b2c.nbd)` : message);
  }
  if (config.nbds.length > nbdDevices.size) config.errors.push('b2c.nbd: the same device is connected twice');
  const cacheNbd = config.cacheDevice.kind === 'device' ? nbdDeviceOf(config.cacheDevice.path) : undefined;
  if (config.cacheDevice.kind === 'device' && cacheNbd !== undefined && !nbdDevices.has(cacheNbd)) {
    const message = `b2c.cache_device=${config.cacheDevice.path}: no b2c.nbd connects it, so it stays an empty device and the cache stays in RAM`;
    config.warnings.push(extraArgsPending ? `${message} (unless b2c.extra_args_url adds the b2c.nbd)` : message);
  }
  if (config.cacheDevice.kind === 'filesystem' && !filesystems.has(config.cacheDevice.name)) {
    report(`b2c.cache_device=${config.cacheDevice.name}: no b2c.filesystem has that name (use none, auto, reset or a /dev/ path otherwise)`);
  }
}

/** Secrets on the kernel's own line reach the console: the kernel prints its command line at boot. */
function secretWarnings(config: B2cConfig): string[] {
  const holders = [
    ...config.minio.map((alias) => `b2c.minio=${alias.alias}`),
    ...config.volumes.filter((volume) => volume.encryptKey || volume.fscryptKey).map((volume) => `b2c.volume=${volume.name}`),
  ];
  return holders.map(
    (holder) =>
      `${holder} puts a secret on the kernel command line, which the kernel prints on the console at boot: move it to the file b2c.extra_args_url downloads`,
  );
}

export interface ParseOptions {
  /** Where the line comes from: the kernel's own line is printed at boot, extra arguments are not. */
  source?: 'kernel' | 'extra_args';
}

interface ParseSource {
  text: string;
  source: 'kernel' | 'extra_args';
}

/** Parses a whole kernel command line; parameters that are not `b2c.*` are left to the kernel, but `ip=`. */
export function parseCmdline(line: string, options: ParseOptions = {}): B2cConfig {
  return parseSources([{ text: line, source: options.source ?? 'kernel' }]);
}

/**
 * The kernel's line and then the text `b2c.extra_args_url` gave, as one line:
 * a later single option wins, repeated options add up in order.
 */
export function parseCmdlineWithExtraArgs(kernelLine: string, extraArgs: string): B2cConfig {
  return parseSources([
    { text: kernelLine, source: 'kernel' },
    { text: extraArgs, source: 'extra_args' },
  ]);
}

function parseSources(sources: readonly ParseSource[]): B2cConfig {
  const config = defaultConfig();
  // Where each option was last seen: the extra arguments may set again what the kernel line set.
  const seen = new Map<string, ParseSource['source']>();
  for (const { text, source } of sources) {
    const split = source === 'kernel' ? splitKernelCmdline(text) : splitArgumentsFile(text);
    for (const line of split.openQuoteLines) {
      config.warnings.push(
        source === 'kernel'
          ? 'the command line leaves a double quote open: its last option takes the rest of the line, as the kernel reads it'
          : `the extra arguments leave a double quote open on line ${line}: that option takes the rest of the line`,
      );
    }
    for (const word of split.words) {
      const equals = word.indexOf('=');
      const name = equals === -1 ? word : word.slice(0, equals);
      const value = equals === -1 ? undefined : word.slice(equals + 1);
      if (source === 'extra_args' && (name === 'b2c.extra_args_url' || name === 'ip')) {
        config.warnings.push(`${name} in the extra arguments is ignored: only the kernel's command line can set it`);
        continue;
      }
      if (name === 'ip' && value !== undefined) {
        config.ipKernelConfig = value;
        continue;
      }
      if (!name.startsWith('b2c.')) continue;
      const handler = OPTIONS[name];
      if (handler === undefined) {
        const closest = closestName(name, KNOWN_OPTIONS);
        config.warnings.push(`unknown option ${name}: ignored${closest === undefined ? '' : ` (did you mean ${closest}?)`}`);
        continue;
      }
      if (seen.get(name) === source && !REPEATABLE.has(name)) config.warnings.push(`${name} is given more than once: the last one counts`);
      seen.set(name, source);
      handler(config, value, name);
    }
  }
  const extraArgsPending = config.extraArgsUrl !== undefined && !sources.some((item) => item.source === 'extra_args');
  checkReferences(config, extraArgsPending);
  const kernelSources = sources.filter((item) => item.source === 'kernel');
  if (kernelSources.length === sources.length) config.warnings.push(...secretWarnings(config));
  else if (kernelSources.length > 0) config.warnings.push(...secretWarnings(parseSources(kernelSources)));
  return config;
}

/** The known name nearest to a typo, when one is near enough to be a plausible intent. */
export function closestName(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(name, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  // Past a third of the name, a suggestion is a guess rather than a correction.
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(substitution, (previous[j] as number) + 1, (current[j - 1] as number) + 1));
    }
    previous = current;
  }
  return previous[b.length] as number;
}
