// Says in plain words what a machine booted with a parsed command line will do (`b2c cmdline`).

import { AUTO_NTP_PEER, type B2cConfig, type FilesystemConfig, type NbdConfig, type ProxyConfig, type VolumeConfig } from './config.ts';
import { isImageId, type ContainerStep } from './container.ts';

function describeStep(label: string, step: ContainerStep): string[] {
  return [
    `${label}: ${step.image}${isImageId(step.image) ? ' (an image ID: taken from the local stores, never pulled)' : ''}`,
    `    argv: ${JSON.stringify(step.argv)}`,
    ...(step.command.length > 0 ? [`    command: ${JSON.stringify(step.command)}`] : []),
  ];
}

function describeBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1 && value % 1024 === 0) {
    value /= 1024;
    unit++;
  }
  return `${value} ${units[unit]}`;
}

function describeVolume(volume: VolumeConfig): string[] {
  const where = volume.filesystem ? ` on the filesystem ${volume.filesystem}` : '';
  const lifetime = volume.expiration === 'never' ? 'across boots' : 'until the pipeline ends';
  const lines = [`Volume ${volume.name}${where}, kept ${lifetime}`];
  if (volume.pullFrom) {
    lines.push(
      volume.pullOn.length === 0
        ? `    never pulled from ${volume.pullFrom}: no pull_on names when`
        : `    pulled from ${volume.pullFrom} at ${volume.pullOn.join(', ')}${volume.overwrite ? ', overwriting local files' : ''}`,
    );
  }
  if (volume.pushTo) {
    const when = volume.pushOn.map((condition) => (condition === 'changes' ? 'every change and at pipeline end' : condition)).join(', ');
    lines.push(
      volume.pushOn.length === 0
        ? `    never pushed to ${volume.pushTo}: no push_on names when`
        : `    pushed to ${volume.pushTo} at ${when}${volume.remove ? ', deleting remote files removed locally' : ''}`,
    );
  }
  if (volume.exclude.length > 0) lines.push(`    excluding ${volume.exclude.join(', ')}`);
  if (volume.fscryptKey) lines.push(`    encrypted with fscrypt${volume.fscryptResetKey ? ' (key reset)' : ''}`);
  if (volume.encryptKey) lines.push('    encrypt_key: not supported, so the volume is refused at boot and nothing is synced');
  if (volume.preserve) lines.push('    file modes kept on both sides');
  return lines;
}

function describeCache(config: B2cConfig): string {
  const cache = config.cacheDevice;
  const where =
    cache.kind === 'none'
      ? 'none: images and volumes live in RAM'
      : cache.kind === 'auto'
        ? 'the B2C_CACHE partition, or a blank disk formatted for it'
        : cache.kind === 'reset'
          ? 'the B2C_CACHE partition, formatted anew'
          : cache.kind === 'device'
            ? cache.path
            : `the filesystem ${cache.name}`;
  return `Cache: ${where}`;
}

function describeSwap(config: B2cConfig): string[] {
  const swap = config.swap;
  if (swap === undefined) return [];
  const swappiness = swap.swappiness === undefined ? '' : `; vm.swappiness=${swap.swappiness}`;
  if (swap.kind === 'device') return [`Swap: on ${swap.path}, made anew (mkswap) at each boot and switched off before the shutdown${swappiness}`];
  // The swap file lives on the cache: the machine makes none without one.
  if (config.cacheDevice.kind === 'none') return [`Swap: none (b2c.swap=${describeBytes(swap.bytes)} needs a cache partition)`];
  return [`Swap: a ${describeBytes(swap.bytes)} file on the cache${swappiness}`];
}

function describeNetwork(config: B2cConfig): string[] {
  if (config.ipKernelConfig !== undefined) return [`Network: configured by the kernel (ip=${config.ipKernelConfig}); b2c runs no DHCP of its own`];
  if (config.ifaces.length === 0) return ['Network: DHCP on every eth*, en* and usb* interface until one gets a lease'];
  return config.ifaces.map((iface) => {
    const parts = [
      iface.dhcp ? 'DHCP' : iface.addresses.join(' '),
      iface.gateway && `gateway ${iface.gateway}`,
      ...iface.routes.map((route) => `route ${route.network} via ${route.gateway}`),
      iface.nameservers.length > 0 && `DNS ${iface.nameservers.join(' ')}`,
      iface.forward && 'forwarding',
      iface.mtu !== undefined && `MTU ${iface.mtu}`,
    ];
    return `Network: ${iface.name}: ${parts.filter(Boolean).join(', ') || 'up, no address'}`;
  });
}

function describeFilesystem(filesystem: FilesystemConfig, config: B2cConfig): string {
  const nfs = filesystem.type === 'nfs' || filesystem.type === 'nfs4';
  const type = nfs ? ' (NFSv4 over TCP; needs the modules add-on)' : filesystem.type ? ` (${filesystem.type})` : '';
  const options = filesystem.opts.length > 0 ? ` with ${filesystem.opts.join(',')}` : '';
  const store = config.storage.additionalImageStores.includes(filesystem.name) ? "; podman's read-only image store" : '';
  return `Filesystem ${filesystem.name}: ${filesystem.src}${type}${options}${store}`;
}

function describeProxy(proxy: ProxyConfig): string {
  const through = [proxy.https && `https through ${proxy.https}`, proxy.http && `http through ${proxy.http}`].filter(Boolean).join(', ') || 'none';
  const direct = proxy.noProxy.length > 0 ? `; directly: ${proxy.noProxy.join(', ')}` : '';
  return `Proxy for b2c's own transfers (pulls, S3, downloads; not the containers' own): ${through}${direct}`;
}

function describeNbd(nbd: NbdConfig): string {
  const connections = nbd.connections > 1 ? ` (${nbd.connections} connections asked, b2c opens one)` : '';
  return `Network block device ${nbd.device}: ${nbd.host}:${nbd.port}${connections}; connected before the cache, disconnected after it is unmounted`;
}

export function explainConfig(config: B2cConfig): string[] {
  const lines: string[] = [];
  if (config.modules.length > 0) lines.push(`Modules loaded first: ${config.modules.join(', ')}`);
  if (config.extraArgsUrl) lines.push(`More parameters are downloaded from ${config.extraArgsUrl} and parsed after these; a failed download runs nothing.`);
  lines.push(...config.nbds.map(describeNbd), describeCache(config), ...describeSwap(config), ...describeNetwork(config));
  const ntpServer = config.ntpPeer.kind === 'auto' ? AUTO_NTP_PEER : config.ntpPeer.kind === 'host' ? config.ntpPeer.host : undefined;
  lines.push(`Clock: ${ntpServer === undefined ? 'left as the machine has it' : `set by NTP from ${ntpServer} before any pull`}`);
  lines.push(`Host name: ${config.hostname}${config.keymap ? `; keymap ${config.keymap}` : ''}`);
  if (config.proxy !== undefined) lines.push(describeProxy(config.proxy));
  for (const alias of config.minio) lines.push(`S3 endpoint ${alias.alias}: ${alias.url}`);
  for (const filesystem of config.filesystems) lines.push(describeFilesystem(filesystem, config));
  for (const volume of config.volumes) lines.push(...describeVolume(volume));
  config.services.forEach((step, index) => lines.push(...describeStep(`Service ${index + 1} (runs during the pipeline)`, step)));
  if (config.containers.length === 0) lines.push('No pipeline step: the machine boots, runs nothing and shuts down.');
  config.containers.forEach((step, index) => lines.push(...describeStep(`Step ${index + 1}`, step)));
  if (config.pipefail) lines.push('The pipeline stops at the first failing step (b2c.pipefail).');
  config.postContainers.forEach((step, index) => lines.push(...describeStep(`Post container ${index + 1} (always runs)`, step)));
  const delay = config.poweroffDelay > 0 ? `wait ${config.poweroffDelay} s, then ` : '';
  lines.push(
    `Then: ${delay}sh -c '${config.shutdownCmd}' (sh -c '${config.rebootCmd}', at once, when a container asks for a reboot), ` +
      "with the pipeline's B2C_PIPELINE_* variables in their environment.",
  );
  return lines;
}
