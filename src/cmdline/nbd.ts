// Parser for b2c.nbd=DEVICE,host=H,port=P[,connections=N]: a network block device to connect before the cache is set up.

import type { NbdConfig } from './config.ts';
import { isHostname, isIpAddress, type OptionResult } from './values.ts';

/** The port the NBD protocol registered, which qemu-nbd and nbd-server listen on by default. */
export const NBD_DEFAULT_PORT = 10809;

/** The nodes the nbd module makes when it loads (its nbds_max is 16). */
const NBD_DEVICE = /^\/dev\/nbd(\d|1[0-5])$/;

/** The NBD device a cache device path is on (`/dev/nbd0p1` → `/dev/nbd0`); undefined for any other device. */
export function nbdDeviceOf(path: string): string | undefined {
  const device = path.replace(/p\d+$/, '');
  return NBD_DEVICE.test(device) ? device : undefined;
}

export function parseNbd(value: string): OptionResult<NbdConfig> {
  const [device = '', ...options] = value.split(',');
  const errors: string[] = [];
  const warnings: string[] = [];
  if (!NBD_DEVICE.test(device))
    errors.push(`b2c.nbd: "${device}" is not an NBD device (/dev/nbd0 to /dev/nbd15); start with it, e.g. b2c.nbd=/dev/nbd0,host=gateway,port=10809`);
  let host: string | undefined;
  let port = NBD_DEFAULT_PORT;
  let connections = 1;
  for (const option of options) {
    const equals = option.indexOf('=');
    const key = equals === -1 ? option : option.slice(0, equals);
    const optionValue = equals === -1 ? '' : option.slice(equals + 1);
    if (key === 'host') {
      if (isHostname(optionValue) || isIpAddress(optionValue)) host = optionValue;
      else errors.push(`b2c.nbd=${device}: host=${optionValue} is not a host name or an IP address`);
    } else if (key === 'port') {
      const number = Number(optionValue);
      if (/^\d+$/.test(optionValue) && number >= 1 && number <= 65535) port = number;
      else errors.push(`b2c.nbd=${device}: port=${optionValue} is not a TCP port (1 to 65535)`);
    } else if (key === 'connections') {
      if (/^[1-9]\d{0,2}$/.test(optionValue)) connections = Number(optionValue);
      else errors.push(`b2c.nbd=${device}: connections=${optionValue} is not a number of connections (1 or more)`);
    } else {
      warnings.push(`b2c.nbd=${device}: unknown option ${key} ignored; b2c knows host=, port= and connections=`);
    }
  }
  if (host === undefined && !errors.some((error) => error.includes('host='))) errors.push(`b2c.nbd=${device} needs host= (the NBD server)`);
  if (errors.length > 0 || host === undefined) return { errors, warnings };
  return { value: { device, host, port, connections }, errors, warnings };
}
