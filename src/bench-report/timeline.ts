// Turns a boot's console, with the time each piece arrived, into the phases the benchmark reports.

export interface ConsoleArrival {
  /** Seconds since QEMU was started. */
  seconds: number;
  /** The console's length once this piece had arrived. */
  length: number;
}

export interface BootTimeline {
  /** Seconds from QEMU's start: when the kernel started, when it ran /init, the first container output, QEMU's exit. */
  kernelStart?: number;
  initStart?: number;
  firstOutput?: number;
  exit: number;
  /** Seconds the init spent from its start to the podman exec of the first step, less the DHCP wait. */
  initWork?: number;
  dhcpWait?: number;
  /** MiB of RAM in use before the first container, as the init reports it. */
  memoryInUse?: number;
  /** Seconds from the first step's podman run to its exit: its pull and start, for a command that does nothing. */
  firstStep?: number;
  /** Seconds the init's module step took (its console section), coldplug's matching of every device against the aliases included. */
  modulesStep?: number;
}

const PRINTK = /^\[\s*(\d+\.\d+)\] /;
const LOG = /^\[(\d+\.\d+)\]: (.*)$/;

function arrivalOf(arrivals: readonly ConsoleArrival[], index: number): number | undefined {
  return arrivals.find((arrival) => arrival.length > index)?.seconds;
}

/** Reads the phases from the console: printk stamps give kernel time, b2c's `[uptime]:` lines give the init's. */
export function bootTimeline(consoleText: string, arrivals: readonly ConsoleArrival[], exitSeconds: number, firstOutputMarker?: string): BootTimeline {
  let kernelStart: number | undefined;
  let runInit: number | undefined;
  let memoryInUse: number | undefined;
  const uptimes = new Map<string, number>();
  let offset = 0;
  for (const rawLine of consoleText.split('\n')) {
    const line = rawLine.replace(/\r$/, '');
    const printk = PRINTK.exec(line);
    if (printk) {
      const arrived = arrivalOf(arrivals, offset);
      // The kernel started when a line arrived, less the kernel time printed on it; the earliest estimate is the least delayed.
      if (arrived !== undefined) kernelStart = Math.min(kernelStart ?? Infinity, arrived - Number(printk[1]));
      if (line.includes('Run /init as init process')) runInit = Number(printk[1]);
    }
    const log = LOG.exec(line);
    if (log) {
      const message = log[2] as string;
      const memory = /^Memory in use before the first container: (\d+) MiB/.exec(message);
      if (memory) memoryInUse = Number(memory[1]);
      const key = message.startsWith('Asking for a DHCP lease')
        ? 'dhcp-start'
        : message.startsWith('Got the address')
          ? 'dhcp-end'
          : /^Container 1: podman run/.test(message)
            ? 'first-step'
            : /^Container 1 exited with status/.test(message)
              ? 'first-step-end'
              : undefined;
      if (key && !uptimes.has(key)) uptimes.set(key, Number(log[1]));
    }
    offset += rawLine.length + 1;
  }
  const markerIndex = firstOutputMarker === undefined ? -1 : consoleText.indexOf(firstOutputMarker);
  // The section lines carry whole seconds only: their arrival times are finer.
  const modulesStartIndex = consoleText.search(/section_start:\d+:b2c_modules\b/);
  const modulesEndIndex = consoleText.search(/section_end:\d+:b2c_modules\b/);
  const modulesStart = modulesStartIndex >= 0 ? arrivalOf(arrivals, modulesStartIndex) : undefined;
  const modulesEnd = modulesEndIndex >= 0 ? arrivalOf(arrivals, modulesEndIndex) : undefined;
  const dhcpStart = uptimes.get('dhcp-start');
  const dhcpEnd = uptimes.get('dhcp-end');
  const dhcpWait = dhcpStart !== undefined && dhcpEnd !== undefined ? dhcpEnd - dhcpStart : undefined;
  const firstStep = uptimes.get('first-step');
  const firstStepEnd = uptimes.get('first-step-end');
  return {
    ...(kernelStart !== undefined ? { kernelStart } : {}),
    ...(kernelStart !== undefined && runInit !== undefined ? { initStart: kernelStart + runInit } : {}),
    ...(markerIndex >= 0 ? { firstOutput: arrivalOf(arrivals, markerIndex + (firstOutputMarker as string).length - 1) } : {}),
    exit: exitSeconds,
    ...(runInit !== undefined && firstStep !== undefined ? { initWork: firstStep - runInit - (dhcpWait ?? 0) } : {}),
    ...(dhcpWait !== undefined ? { dhcpWait } : {}),
    ...(memoryInUse !== undefined ? { memoryInUse } : {}),
    ...(firstStep !== undefined && firstStepEnd !== undefined ? { firstStep: firstStepEnd - firstStep } : {}),
    ...(modulesStart !== undefined && modulesEnd !== undefined ? { modulesStep: modulesEnd - modulesStart } : {}),
  };
}

export interface Summary {
  median: number;
  min: number;
  max: number;
  runs: number;
}

export function summarize(values: readonly number[]): Summary | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
  return { median, min: sorted[0] as number, max: sorted[sorted.length - 1] as number, runs: sorted.length };
}

/** A markdown table; numbers are the caller's to format. */
export function markdownTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** How long /init said a volume's sync took: its `Pulled the volume NAME … in N s` or `Pushed …` line. */
export function volumeSyncSeconds(consoleText: string, direction: 'pull' | 'push', volume: string): number | undefined {
  const verb = direction === 'pull' ? 'Pulled' : 'Pushed';
  const match = new RegExp(`${verb} the volume ${volume} (?:from|to) \\S+ in ([0-9.]+) s: [1-9]`).exec(consoleText);
  return match ? Number(match[1]) : undefined;
}
