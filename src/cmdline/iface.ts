// Parser for b2c.iface=NAME,opts: static addresses, routes, name servers, forwarding, or DHCP.

import type { IfaceConfig } from './config.ts';
import { isCidr, isIpAddress, isIpv4, type OptionResult } from './values.ts';

export function parseIface(value: string): OptionResult<IfaceConfig> {
  const [name = '', ...options] = value.split(',');
  const errors: string[] = [];
  const warnings: string[] = [];
  if (!/^[A-Za-z0-9_.:-]{1,15}$/.test(name)) {
    return { errors: [`b2c.iface: "${name}" is not an interface name (at most 15 letters, digits, _ . : -)`], warnings: [] };
  }
  const iface: IfaceConfig = { name, addresses: [], nameservers: [], routes: [], forward: false, dhcp: false };
  const where = `b2c.iface=${name}`;
  for (const option of options) {
    const equals = option.indexOf('=');
    const key = equals === -1 ? option : option.slice(0, equals);
    const optionValue = equals === -1 ? '' : option.slice(equals + 1);
    switch (key) {
      case 'address':
        if (isCidr(optionValue)) {
          iface.addresses.push(optionValue);
        } else if (isIpAddress(optionValue)) {
          // What `ip addr add` assumes too: the address alone, the rest of its network reached through routes.
          const assumed = `${optionValue}/${isIpv4(optionValue) ? 32 : 128}`;
          iface.addresses.push(assumed);
          warnings.push(`${where}: address=${optionValue} has no prefix length: ${assumed} is assumed (give e.g. ${optionValue}/24 for its network)`);
        } else {
          errors.push(`${where}: address=${optionValue} is not an IP address, e.g. address=192.168.1.10/24`);
        }
        break;
      case 'mtu':
        if (/^\d+$/.test(optionValue) && Number(optionValue) >= 68 && Number(optionValue) <= 65535) iface.mtu = Number(optionValue);
        else errors.push(`${where}: mtu=${optionValue} is not an MTU (68 to 65535 bytes)`);
        break;
      case 'gateway':
        if (isIpAddress(optionValue)) iface.gateway = optionValue;
        else errors.push(`${where}: gateway=${optionValue} is not an IP address`);
        break;
      case 'nameserver':
        if (isIpAddress(optionValue)) iface.nameservers.push(optionValue);
        else errors.push(`${where}: nameserver=${optionValue} is not an IP address`);
        break;
      case 'route': {
        // NET:GW, split right after the prefix length: both sides may be IPv6 addresses full of colons.
        const match = /^([^/]+\/\d{1,3}|default):(.+)$/.exec(optionValue);
        const network = match?.[1] ?? '';
        const gateway = match?.[2] ?? '';
        if ((isCidr(network) || network === 'default') && isIpAddress(gateway)) iface.routes.push({ network, gateway });
        else errors.push(`${where}: route=${optionValue} is not NETWORK/PREFIX:GATEWAY, e.g. route=10.42.0.0/16:192.168.1.1`);
        break;
      }
      case 'forward':
        iface.forward = true;
        break;
      case 'auto':
      case 'dhcp':
        iface.dhcp = true;
        break;
      default:
        // A farm's line may carry keys of a newer boot2container: they are said, not fatal.
        warnings.push(`${where}: unknown option ${key} ignored; b2c knows address=, gateway=, nameserver=, route=, mtu=, forward, auto and dhcp`);
    }
  }
  if (iface.dhcp && iface.addresses.length > 0) errors.push(`${where}: give either dhcp (or auto) or address=, not both`);
  return errors.length > 0 ? { errors, warnings } : { value: iface, errors, warnings };
}
