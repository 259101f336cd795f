// Debian's docker-registry (CNCF distribution 2.8): its configuration, and the fields of its log lines.

import { stringify } from 'yaml';

/** A login an upstream registry asks for. */
export interface RegistryCredentials {
  username: string;
  password: string;
}

/** One docker-registry: where it listens (127.0.0.1 behind nginx, or the gateway), where it stores, and the upstream it mirrors. */
export interface DistributionPlan {
  listen: string;
  storage: string;
  /** Signs upload state: random per start, as nothing outlives one. */
  secret: string;
  upstream?: { url: string; credentials?: RegistryCredentials };
}

/** docker-registry's configuration (CNCF distribution 2.8): filesystem storage, every request logged, a pull-through proxy when it has an upstream. */
export function distributionConfig(plan: DistributionPlan): string {
  const proxy =
    plan.upstream === undefined
      ? {}
      : { proxy: { remoteurl: plan.upstream.url, ...(plan.upstream.credentials === undefined ? {} : plan.upstream.credentials) } };
  return stringify({
    version: 0.1,
    // Info level logs each request, which is where an unreachable upstream and a full disk show.
    log: { level: 'info', formatter: 'text', accesslog: { disabled: true } },
    // A cache expires what it fetched (7 days after the fetch) by deleting it; a plain registry takes no deletes from the LAN.
    storage: { filesystem: { rootdirectory: plan.storage }, delete: { enabled: plan.upstream !== undefined }, cache: { blobdescriptor: 'inmemory' } },
    http: { addr: plan.listen, secret: plan.secret },
    ...proxy,
  });
}

/** The value of `key=` in a logrus text line, quoted or not. */
export function logField(line: string, key: string): string | undefined {
  const match = new RegExp(`(?:^| )${key.replaceAll('.', '\\.')}=("(?:[^"\\\\]|\\\\.)*"|\\S+)`).exec(line);
  if (match === null) return undefined;
  const value = match[1] as string;
  if (!value.startsWith('"')) return value;
  try {
    return JSON.parse(value) as string;
  } catch {
    // Go quotes with escapes JSON lacks (\x01, \a): the text between the quotes does.
    return value.slice(1, -1);
  }
}
