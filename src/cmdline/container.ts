// Turns one container step's ARGS into argv, image and command, knowing which `podman run` options take a value.

import { splitShellWords } from './split.ts';

/** One step of the pipeline (or a post container, or a service) as the user wrote it. */
export interface ContainerStep {
  /** The ARGS text exactly as given on the command line. */
  args: string;
  /** The user's ARGS split into words; b2c's own flags are not in it. */
  argv: string[];
  /** The image reference, e.g. `docker://registry:5000/tests:42`. */
  image: string;
  /** The words after the image: the command that overrides the image's. */
  command: string[];
}

// `podman run` options that take a value (podman 5), long and short. A word
// after one of these is its value, never the image.
const LONG_OPTIONS_WITH_VALUE = new Set([
  'add-host',
  'annotation',
  'arch',
  'attach',
  'authfile',
  'blkio-weight',
  'blkio-weight-device',
  'cap-add',
  'cap-drop',
  'cert-dir',
  'cgroup-conf',
  'cgroup-parent',
  'cgroupns',
  'cgroups',
  'chrootdirs',
  'cidfile',
  'conmon-pidfile',
  'cpu-period',
  'cpu-quota',
  'cpu-rt-period',
  'cpu-rt-runtime',
  'cpu-shares',
  'cpus',
  'cpuset-cpus',
  'cpuset-mems',
  'creds',
  'decryption-key',
  'detach-keys',
  'device',
  'device-cgroup-rule',
  'device-read-bps',
  'device-read-iops',
  'device-write-bps',
  'device-write-iops',
  'dns',
  'dns-option',
  'dns-search',
  'entrypoint',
  'env',
  'env-file',
  'env-merge',
  'expose',
  'gidmap',
  'gpus',
  'group-add',
  'group-entry',
  'health-cmd',
  'health-interval',
  'health-log-destination',
  'health-max-log-count',
  'health-max-log-size',
  'health-on-failure',
  'health-retries',
  'health-start-period',
  'health-startup-cmd',
  'health-startup-interval',
  'health-startup-retries',
  'health-startup-success',
  'health-startup-timeout',
  'health-timeout',
  'hostname',
  'hosts-file',
  'hostuser',
  'image-volume',
  'init-path',
  'ip',
  'ip6',
  'ipc',
  'label',
  'label-file',
  'log-driver',
  'log-opt',
  'mac-address',
  'memory',
  'memory-reservation',
  'memory-swap',
  'memory-swappiness',
  'mount',
  'name',
  'net',
  'network',
  'network-alias',
  'oom-score-adj',
  'os',
  'passwd-entry',
  'personality',
  'pid',
  'pidfile',
  'pids-limit',
  'platform',
  'pod',
  'pod-id-file',
  'preserve-fd',
  'publish',
  'pull',
  'rdt-class',
  'requires',
  'restart',
  'retry',
  'retry-delay',
  'sdnotify',
  'seccomp-policy',
  'secret',
  'security-opt',
  'shm-size',
  'shm-size-systemd',
  'signature-policy',
  'stop-signal',
  'stop-timeout',
  'subgidname',
  'subuidname',
  'sysctl',
  'systemd',
  'timeout',
  'tmpfs',
  'uidmap',
  'ulimit',
  'umask',
  'unsetenv',
  'user',
  'userns',
  'uts',
  'variant',
  'volume',
  'volumes-from',
  'workdir',
]);
const SHORT_OPTIONS_WITH_VALUE = new Set(['a', 'c', 'e', 'h', 'l', 'm', 'p', 'u', 'v', 'w']);

export type ContainerStepResult = { ok: true; step: ContainerStep } | { ok: false; error: string };

/** Splits ARGS once and finds the image: the first word that is neither an option nor an option's value. */
export function parseContainerStep(args: string): ContainerStepResult {
  const split = splitShellWords(args);
  if (!split.ok) return { ok: false, error: split.error };
  const argv = split.words;
  const { imageIndex } = readOptions(argv);
  const image = argv[imageIndex];
  if (image === undefined) {
    return {
      ok: false,
      error: `no image in "${args}": give podman run options, then the image (e.g. docker://registry:5000/tests:1), then an optional command`,
    };
  }
  // A transport with nothing after it (`docker://`) would reach podman as an image it cannot parse, on every machine of the farm.
  if (/^[a-z][a-z-]*:(\/\/)?$/.test(image)) {
    return { ok: false, error: `${image} names no image in "${args}": write the reference after it, e.g. docker://registry:5000/tests:1` };
  }
  return { ok: true, step: { args, argv, image, command: argv.slice(imageIndex + 1) } };
}

/** A local image's ID, full or short (`sha256:` optional): podman finds it in its stores, there is no reference to pull. */
export function isImageId(image: string): boolean {
  return /^(sha256:)?[0-9a-f]{12,64}$/.test(image);
}

/** The options before the image, each with the words it takes (`['--tls-verify=false']`, `['--creds', 'user:pass']`). */
export function stepOptions(step: ContainerStep): string[][] {
  return readOptions(step.argv).options;
}

function readOptions(argv: readonly string[]): { options: string[][]; imageIndex: number } {
  const options: string[][] = [];
  let i = 0;
  while (i < argv.length) {
    const word = argv[i] as string;
    if (word === '--') return { options, imageIndex: i + 1 };
    if (!word.startsWith('-') || word === '-') break;
    const width = optionWidth(word);
    options.push(argv.slice(i, i + width));
    i += width;
  }
  return { options, imageIndex: i };
}

/** How many words an option occupies: 2 when its value is the next word. */
function optionWidth(word: string): number {
  if (word.startsWith('--')) {
    const name = word.slice(2);
    return !name.includes('=') && LONG_OPTIONS_WITH_VALUE.has(name) ? 2 : 1;
  }
  // A group of short flags such as -ti or -it; the first one that takes a
  // value takes the rest of the word, or the next word when nothing is left.
  for (let j = 1; j < word.length; j++) {
    if (SHORT_OPTIONS_WITH_VALUE.has(word[j] as string)) return j === word.length - 1 ? 2 : 1;
  }
  return 1;
}
