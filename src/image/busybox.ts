// Finds busybox's applet names inside the binary itself, so the build makes its links without running a target binary.

import { B2cError } from '../errors.ts';

const APPLET_NAME = /^[a-z0-9[][a-z0-9_.[-]*$/;

/**
 * busybox keeps its applet names as one sorted run of NUL-terminated strings
 * that starts with the `[` and `[[` test applets. Reads that run.
 */
export function busyboxAppletNames(binary: Uint8Array): string[] {
  const start = indexOf(binary, new TextEncoder().encode('[\0[[\0'));
  if (start === -1) throw new B2cError('no applet table in this busybox (it has no [ and [[ applets)');
  const names: string[] = [];
  let offset = start;
  while (offset < binary.length) {
    let end = offset;
    while (end < binary.length && binary[end] !== 0) end++;
    const name = new TextDecoder('latin1').decode(binary.subarray(offset, end));
    const previous = names[names.length - 1];
    // The table ends where the next string is not a name that sorts after the last one.
    if (!APPLET_NAME.test(name) || (previous !== undefined && name <= previous)) break;
    names.push(name);
    offset = end + 1;
  }
  return names;
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
