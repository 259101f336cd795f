// What `b2c serve` reports: one event per boot step, as a line of text or a JSON object.

export type ServeStep = 'ready' | 'dhcp' | 'tftp' | 'script' | 'kernel' | 'initrd' | 'reload' | 'warning' | 'error' | 'dnsmasq' | 'registry' | 'stop';

export interface ServeEvent {
  /** ISO 8601, UTC. */
  time: string;
  step: ServeStep;
  /** The machine's MAC address, when the step is known to be its. */
  mac?: string;
  /** The machine's IPv4 address. */
  address?: string;
  /** A served file's path on the host. */
  file?: string;
  /** Bytes sent for a file. */
  bytes?: number;
  message: string;
}

/** A line for a person: time, step, machine, what happened. */
export function formatEvent(event: ServeEvent): string {
  const who = event.mac ?? event.address ?? '-';
  return `${event.time.replace(/\.\d+Z$/, 'Z')} ${event.step.padEnd(8)} ${who.padEnd(17)} ${event.message}`;
}

/** A line for a program: the event as one JSON object. */
export function eventJson(event: ServeEvent): string {
  return JSON.stringify(event);
}
