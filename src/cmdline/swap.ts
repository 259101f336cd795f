// Parser for b2c.swap=SIZE[,swappiness=N] (a swap file on the cache) and b2c.swap=/dev/X[,swappiness=N] (swap on a device, made at each boot).

import type { SwapConfig } from './config.ts';
import { parseSize, type OptionResult } from './values.ts';

/** The largest swap area Linux takes: the swap header's last page is a 32-bit number, of 4 KiB pages on the kernels b2c boots. */
const MAX_SWAP_BYTES = 2 ** 32 * 4096;
/** vm.swappiness takes 0 to 200 since Linux 5.8. */
const MAX_SWAPPINESS = 200;

export function parseSwap(value: string, name = 'b2c.swap'): OptionResult<SwapConfig> {
  const [where = '', ...options] = value.split(',');
  const errors: string[] = [];
  const warnings: string[] = [];
  let swap: SwapConfig | undefined;
  if (where.startsWith('/dev/')) {
    // mkswap writes over whatever the device holds: a path that leaves /dev must never reach it.
    if (where.split('/').some((part, index) => index > 1 && (part === '' || part === '.' || part === '..')))
      errors.push(`${name}=${where} is not a device path: give one below /dev without . or .. (e.g. /dev/nbd1, /dev/sdb2)`);
    else swap = { kind: 'device', path: where };
  } else {
    const bytes = parseSize(where);
    if (bytes === undefined) errors.push(`${name}=${where} is not a size or a device: use a number with K, M, G or T (e.g. ${name}=4G) or /dev/X`);
    else if (bytes > MAX_SWAP_BYTES) errors.push(`${name}=${where} is more than a swap area can be (16T: its header counts 2^32 pages of 4 KiB)`);
    else swap = { kind: 'file', bytes };
  }
  for (const option of options) {
    const equals = option.indexOf('=');
    const key = equals === -1 ? option : option.slice(0, equals);
    const optionValue = equals === -1 ? undefined : option.slice(equals + 1);
    if (key === 'swappiness') {
      if (optionValue === '') warnings.push(`${name}: swappiness= is empty (a template left it unset?): the kernel's own is kept`);
      else if (optionValue !== undefined && /^\d+$/.test(optionValue) && Number(optionValue) <= MAX_SWAPPINESS) {
        if (swap !== undefined) swap.swappiness = Number(optionValue);
      } else errors.push(`${name}: swappiness=${optionValue ?? ''} is not a number from 0 to ${MAX_SWAPPINESS}`);
    } else if (key !== '') {
      warnings.push(`${name}: unknown option ${key} ignored; b2c knows swappiness=`);
    }
  }
  return errors.length > 0 || swap === undefined ? { errors, warnings } : { value: swap, errors, warnings };
}

/**
 * Whether two device paths share storage: the same device, or a disk and one
 * of its partitions (`/dev/sda` and `/dev/sda2`; a disk whose name ends in a
 * digit numbers them after a p: `/dev/nvme0n1p2`, `/dev/nbd1p1`).
 */
export function sharesStorage(a: string, b: string): boolean {
  const partitionOf = (partition: string, disk: string): boolean =>
    partition.startsWith(disk) && (/\d$/.test(disk) ? /^p\d+$/ : /^\d+$/).test(partition.slice(disk.length));
  return a === b || partitionOf(a, b) || partitionOf(b, a);
}
