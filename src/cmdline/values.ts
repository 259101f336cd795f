// The values options take (sizes, addresses, host names, URLs, names) and what parsing one option gives. Pure, and shared by parser and init.

/** `512M`, `4G`, `1024` (bytes) → bytes; undefined when it is not a size. Powers of 1024, as podman and dd use. */
export function parseSize(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(text.trim());
  if (!match) return undefined;
  const exponent = ['', 'K', 'M', 'G', 'T'].indexOf((match[2] as string).toUpperCase());
  const bytes = Math.round(Number(match[1]) * 1024 ** exponent);
  return bytes > 0 ? bytes : undefined;
}

export function isIpv4(text: string): boolean {
  const parts = text.split('.');
  return parts.length === 4 && parts.every((part) => /^\d{1,3}$/.test(part) && Number(part) <= 255);
}

export function isIpv6(text: string): boolean {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || !text.includes(':')) return false;
  const doubleColons = text.split('::').length - 1;
  if (doubleColons > 1) return false;
  const groups = text.split(':').filter((group) => group !== '');
  const last = groups[groups.length - 1];
  const embeddedV4 = last !== undefined && last.includes('.');
  if (embeddedV4 && !isIpv4(last)) return false;
  const count = groups.length + (embeddedV4 ? 1 : 0);
  const hexGroups = embeddedV4 ? groups.slice(0, -1) : groups;
  if (!hexGroups.every((group) => /^[0-9a-fA-F]{1,4}$/.test(group))) return false;
  return doubleColons === 1 ? count < 8 : count === 8;
}

export function isIpAddress(text: string): boolean {
  return isIpv4(text) || isIpv6(text);
}

/** `10.0.0.5/24` or `fd00::5/64`. */
export function isCidr(text: string): boolean {
  const slash = text.indexOf('/');
  if (slash === -1) return false;
  const address = text.slice(0, slash);
  const prefix = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefix)) return false;
  if (isIpv4(address)) return Number(prefix) <= 32;
  return isIpv6(address) && Number(prefix) <= 128;
}

/** A DNS name as RFC 1123 allows it: labels of letters, digits and inner dashes. */
export function isHostname(text: string): boolean {
  if (text.length === 0 || text.length > 253) return false;
  return text.split('.').every((label) => /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/.test(label));
}

/** What the kernel takes as a host name: up to 64 bytes, here letters, digits, `-`, `_` and dots. */
export function isKernelHostname(text: string): boolean {
  return /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/.test(text) && !text.includes('..');
}

export function isHttpUrl(text: string): boolean {
  const match = /^(https?):\/\/([^/?#]+)/.exec(text);
  if (!match) return false;
  const authority = (match[2] as string).replace(/^[^@]*@/, '');
  const host = authority.startsWith('[') ? authority.slice(1, authority.indexOf(']')) : authority.replace(/:\d+$/, '');
  return isHostname(host) || isIpAddress(host);
}

/** A parsed option: its value, errors that reject the line, warnings that don't. */
export interface OptionResult<T> {
  value?: T;
  errors: string[];
  warnings: string[];
}

/** A name for a volume, an S3 alias or a filesystem: letters, digits, _ . -, not starting with a punctuation mark. */
export const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
