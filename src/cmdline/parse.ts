// The one command-line parser, shared by /init (QuickJS) and the host CLI (Node): line in, typed config out, never throws.

import { parseContainerStep, type ContainerStep } from './container.ts';
import { splitKernelCmdline, splitShellWords } from './split.ts';

export interface B2cConfig {
  /** `b2c.container` and `b2c.run` steps, in command-line order. */
  containers: ContainerStep[];
  postContainers: ContainerStep[];
  pipefail: boolean;
  shutdownCmd: string[];
  rebootCmd: string[];
  /** Seconds to wait before the shutdown command. */
  poweroffDelay: number;
  /** Accepted, but worth a look: printed, and the boot goes on. */
  warnings: string[];
  /** The line is rejected: nothing runs. */
  errors: string[];
}

export const DEFAULT_SHUTDOWN_CMD = ['poweroff', '-f'];
export const DEFAULT_REBOOT_CMD = ['reboot', '-f'];

// Every option of COMPAT.md; the ones this parser does not act on yet are
// still named here so that a typo gets the right suggestion.
const IMPLEMENTED_OPTIONS = [
  'b2c.container', 'b2c.run', 'b2c.post_container', 'b2c.pipefail',
  'b2c.shutdown_cmd', 'b2c.reboot_cmd', 'b2c.poweroff_delay',
] as const;
const PENDING_OPTIONS = [
  'b2c.service', 'b2c.run_service', 'b2c.cache_device', 'b2c.swap', 'b2c.ntp_peer', 'b2c.iface',
  'b2c.hostname', 'b2c.keymap', 'b2c.insmods', 'b2c.modules', 'b2c.minio', 'b2c.volume',
  'b2c.filesystem', 'b2c.extra_args_url',
] as const;
const KNOWN_OPTIONS: readonly string[] = [...IMPLEMENTED_OPTIONS, ...PENDING_OPTIONS];

/** Parses a whole kernel command line; parameters that are not `b2c.*` are left to the kernel. */
export function parseCmdline(line: string): B2cConfig {
  const config: B2cConfig = {
    containers: [],
    postContainers: [],
    pipefail: false,
    shutdownCmd: DEFAULT_SHUTDOWN_CMD,
    rebootCmd: DEFAULT_REBOOT_CMD,
    poweroffDelay: 0,
    warnings: [],
    errors: [],
  };
  const split = splitKernelCmdline(line);
  if (!split.ok) {
    config.errors.push(`the command line cannot be split: ${split.error}`);
    return config;
  }
  for (const word of split.words) {
    if (!word.startsWith('b2c.')) continue;
    const equals = word.indexOf('=');
    const name = equals === -1 ? word : word.slice(0, equals);
    const value = equals === -1 ? undefined : word.slice(equals + 1);
    applyOption(config, name, value);
  }
  return config;
}

function applyOption(config: B2cConfig, name: string, value: string | undefined): void {
  switch (name) {
    case 'b2c.container':
    case 'b2c.run':
    case 'b2c.post_container': {
      const list = name === 'b2c.post_container' ? config.postContainers : config.containers;
      if (value === undefined) {
        config.errors.push(`${name} needs a value: ${name}="[podman run options] IMAGE [command]"`);
        return;
      }
      const result = parseContainerStep(value);
      if (result.ok) list.push(result.step);
      else config.errors.push(`${name}: ${result.error}`);
      return;
    }
    case 'b2c.pipefail':
      config.pipefail = true;
      return;
    case 'b2c.shutdown_cmd':
    case 'b2c.reboot_cmd': {
      const split = value === undefined ? undefined : splitShellWords(value);
      if (split === undefined || !split.ok || split.words.length === 0) {
        const why = split !== undefined && !split.ok ? split.error : 'it is empty';
        config.errors.push(`${name}: ${why}; give a command and its arguments, e.g. ${name}="poweroff -f"`);
        return;
      }
      if (name === 'b2c.shutdown_cmd') config.shutdownCmd = split.words;
      else config.rebootCmd = split.words;
      return;
    }
    case 'b2c.poweroff_delay': {
      const seconds = value === undefined ? NaN : Number(value);
      if (value === undefined || !/^\d+(\.\d+)?$/.test(value) || !Number.isFinite(seconds)) {
        config.errors.push(`b2c.poweroff_delay=${value ?? ''} is not a number of seconds (e.g. b2c.poweroff_delay=5)`);
        return;
      }
      config.poweroffDelay = seconds;
      return;
    }
  }
  if ((PENDING_OPTIONS as readonly string[]).includes(name)) {
    config.warnings.push(`${name} is not supported by this b2c yet: ignored`);
    return;
  }
  const closest = closestName(name, KNOWN_OPTIONS);
  config.warnings.push(`unknown option ${name}: ignored${closest === undefined ? '' : ` (did you mean ${closest}?)`}`);
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
