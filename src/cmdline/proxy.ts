// Parser for b2c.proxy="https=URL[,http=URL][,no=HOST|HOST…]": the proxy of b2c's own transfers (pulls, S3, downloads), and its environment.

import type { ProxyConfig } from './config.ts';
import { isHttpUrl, type OptionResult } from './values.ts';

export function parseProxy(value: string, name = 'b2c.proxy'): OptionResult<ProxyConfig> {
  const proxy: ProxyConfig = { noProxy: [] };
  const errors: string[] = [];
  const warnings: string[] = [];
  for (const item of value.split(',')) {
    if (item === '') continue;
    const equals = item.indexOf('=');
    const key = equals === -1 ? item : item.slice(0, equals);
    const itemValue = equals === -1 ? undefined : item.slice(equals + 1);
    if (key !== 'https' && key !== 'http' && key !== 'no') {
      warnings.push(`${name}: unknown option ${key} ignored; b2c knows https=URL, http=URL and no=HOST|HOST`);
    } else if (itemValue === undefined) {
      errors.push(`${name}: ${key} needs a value, e.g. ${key === 'no' ? 'no=registry.local|10.42.0.1' : `${key}=http://gateway:3128`}`);
    } else if (itemValue === '') {
      warnings.push(`${name}: ${key}= is empty (a template left it unset?): ignored`);
    } else if (key === 'no') {
      proxy.noProxy.push(...itemValue.split('|').filter((host) => host !== ''));
    } else if (!isHttpUrl(itemValue)) {
      errors.push(`${name}: ${key}=${itemValue} is not an http:// or https:// URL of a proxy`);
    } else {
      proxy[key] = itemValue;
    }
  }
  if (errors.length > 0) return { errors, warnings };
  return { value: proxy, errors, warnings };
}

/** The variables that make curl and podman (Go) use the proxy; curl reads only the lower-case http_proxy. */
export function proxyEnvironment(proxy: ProxyConfig | undefined): Record<string, string> {
  if (proxy === undefined) return {};
  const environment: Record<string, string> = {};
  if (proxy.https !== undefined) environment.https_proxy = environment.HTTPS_PROXY = proxy.https;
  if (proxy.http !== undefined) environment.http_proxy = environment.HTTP_PROXY = proxy.http;
  if (proxy.noProxy.length > 0) environment.no_proxy = environment.NO_PROXY = proxy.noProxy.join(',');
  return environment;
}
