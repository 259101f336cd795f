// Where a `b2c run` spent its time, read from the console: boot to /init, pulls and steps, beside the host's own preparation.

export interface RunTimes {
  /** Seconds on the host before QEMU started: add-ons, --image, the accelerator probe. */
  preparing: number;
  /** Kernel seconds until it ran /init, when the kernel printed it (not under `quiet`). */
  bootToInit?: number;
  /** Seconds the init's pulls took, by its `Pulled IMAGE in S s` lines. */
  pulls: number;
  /** Seconds the steps ran, from each `Container N: podman run` to its exit, less their pulls. */
  steps: number;
  /** Seconds from power-on to the end. */
  machine: number;
}

const PRINTK = /^\[\s*(\d+\.\d+)\] (.*)$/;
const LOG = /^\[(\d+\.\d+)\]: (.*)$/;

/** Reads the phases a person asks about from a machine's console. */
export function runTimes(consoleText: string, preparing: number, machine: number): RunTimes {
  let bootToInit: number | undefined;
  let pulls = 0;
  let steps = 0;
  const started = new Map<string, number>();
  for (const raw of consoleText.split('\n')) {
    const line = raw.replace(/\r$/, '');
    const printk = PRINTK.exec(line);
    if (printk !== null && bootToInit === undefined && (printk[2] as string).startsWith('Run /init as init process')) bootToInit = Number(printk[1]);
    const log = LOG.exec(line);
    if (log === null) continue;
    const [uptime, message] = [Number(log[1]), log[2] as string];
    const pulled = /^Pulled \S+ in (\d+(?:\.\d+)?) s/.exec(message);
    if (pulled !== null) pulls += Number(pulled[1]);
    const run = /^(Container \d+|Post container \d+): podman run/.exec(message);
    if (run !== null) started.set(run[1] as string, uptime);
    const exited = /^(Container \d+|Post container \d+) exited with status/.exec(message);
    const start = exited === null ? undefined : started.get(exited[1] as string);
    if (start !== undefined) steps += uptime - start;
  }
  return { preparing, ...(bootToInit === undefined ? {} : { bootToInit }), pulls, steps: Math.max(0, steps - pulls), machine };
}

/** One line for a person: each phase in seconds, and what is left. */
export function formatRunTimes(times: RunTimes): string {
  const s = (value: number): string => `${value.toFixed(1)} s`;
  const known = (times.bootToInit ?? 0) + times.pulls + times.steps;
  return [
    `preparing ${s(times.preparing)}`,
    ...(times.bootToInit === undefined ? [] : [`boot to /init ${s(times.bootToInit)}`]),
    `pulls ${s(times.pulls)}`,
    `steps ${s(times.steps)}`,
    `the rest of the machine's ${s(times.machine)}: ${s(Math.max(0, times.machine - known))}`,
  ].join(', ');
}
