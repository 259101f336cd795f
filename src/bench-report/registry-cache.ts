// The registry-cache benchmark's arithmetic: the bytes that left the upstream, by its own log, and the table rows of a round.

import { parseMachineRequest } from '../serve/registries-plan.ts';
import { statusLineCells } from './netboot.ts';

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
  return [
    String(round.machines),
    round.mode,
    round.cache,
    `${(round.upstreamBytes / 1e6).toFixed(1)} MB`,
    (round.upstreamBytes / round.imageBytes).toFixed(2),
    ...statusLineCells(round.seconds),
  ];
}
