// The registry-cache benchmark's arithmetic: the bytes that left the upstream, by its own log, and the table rows of a round.

import { parseMachineRequest } from '../serve/registries-plan.ts';

/** Bytes a registry sent for blobs and manifests, by its log's "response completed" lines (GETs only: a HEAD sends no body). */
export function bytesSent(registryLog: string): number {
  let total = 0;
  for (const line of registryLog.split('\n')) {
    const request = parseMachineRequest(line);
    if (request !== undefined && request.method === 'GET' && request.status < 400) total += request.bytes;
  }
  return total;
}

export interface RegistryCacheRound {
  machines: number;
  /** 'single flight': docker-registry behind nginx; 'proxy alone': docker-registry fetching from the upstream itself. */
  mode: 'single flight' | 'proxy alone';
  /** Cold: the gateway's storage empty; warm: what the cold round left. */
  cache: 'cold' | 'warm';
  upstreamBytes: number;
  imageBytes: number;
  /** Seconds from each machine's power-on to its status line; undefined for one that never printed it. */
  seconds: Array<number | undefined>;
}

export const REGISTRY_CACHE_HEADER = ['machines', 'gateway', 'cache', 'left the upstream', '× image', 'status lines', 'median s', 'slowest s'];

export function registryCacheRow(round: RegistryCacheRound): string[] {
  const done = round.seconds.filter((value): value is number => value !== undefined).sort((a, b) => a - b);
  const median = done.length === 0 ? undefined : done[Math.floor((done.length - 1) / 2)];
  const slowest = done.at(-1);
  return [
    String(round.machines),
    round.mode,
    round.cache,
    `${(round.upstreamBytes / 1e6).toFixed(1)} MB`,
    (round.upstreamBytes / round.imageBytes).toFixed(2),
    `${done.length} of ${round.machines}`,
    median === undefined ? '–' : median.toFixed(1),
    slowest === undefined ? '–' : slowest.toFixed(1),
  ];
}
