// Brings the network up: b2c.iface settings, or DHCP on every eth*/en*/usb* interface with the first lease winning; ip= leaves it to the kernel.

import type { B2cConfig, IfaceConfig } from '../cmdline/config.ts';
import { B2C_RUN_DIRECTORY, dhcpLeasePath, UDHCPC_SCRIPT } from '../image-layout.ts';
import type { RunningProgram, System } from '../system/system.ts';
import type { Log } from './console.ts';
import { reportDriverlessDevices } from './devices.ts';
import { SetupError } from './errors.ts';
import type { KernelModules } from './modules.ts';
import { configureFromLease, mtuArgs, parseLease, resolvConf, staticInterfacePlan, type DhcpLease, type NetworkPlan } from './network-plan.ts';

/** udhcpc sends this many discovers, so many seconds apart: about 10 s for a server to answer. */
export const DHCP_DISCOVERS = 5;
export const DHCP_SECONDS_APART = 2;
const UDHCPC_TIMING = ['-t', String(DHCP_DISCOVERS), '-T', String(DHCP_SECONDS_APART)];
/** How long a named interface, or any interface at all, may take to appear once its driver is loaded. */
export const INTERFACE_WAIT_MS = 10_000;
const POLL_MS = 100;
/** While waiting for an interface, drivers are looked for again this often: a USB adapter can enumerate seconds after boot. */
export const COLDPLUG_EVERY_MS = 1000;

export class NetworkSetup {
  constructor(
    private readonly system: System,
    private readonly console: Log,
    private readonly modules: KernelModules,
  ) {}

  async setUp(config: B2cConfig): Promise<void> {
    await this.run(['ip', 'link', 'set', 'lo', 'up']);
    if (config.ipKernelConfig !== undefined) {
      // The kernel configured the address itself (ip=); it lists the DNS servers it got in resolv.conf form.
      const pnp = await this.system.readText('/proc/net/pnp');
      if (pnp !== undefined) {
        await this.system.writeText('/etc/resolv.conf', pnp);
        await this.console.log(`The kernel configured the network (ip=${config.ipKernelConfig}): no DHCP`);
        return;
      }
      // Debian's kernels, for one, are built without CONFIG_IP_PNP and ignore ip=.
      await this.console.log(`Warning: this kernel ignores ip=${config.ipKernelConfig} (it has no CONFIG_IP_PNP): b2c configures the network itself`);
    }
    await this.system.makeDirectory(B2C_RUN_DIRECTORY);
    if (config.ifaces.length > 0) await this.configureInterfaces(config.ifaces);
    else await this.dhcpOnEveryInterface();
  }

  /** Each `b2c.iface`, in order; name servers from all of them (and their leases) go to resolv.conf. */
  private async configureInterfaces(ifaces: readonly IfaceConfig[]): Promise<void> {
    const nameservers: string[] = [];
    let domain: string | undefined;
    for (const iface of ifaces) {
      await this.waitForInterface(iface.name);
      if (iface.dhcp) {
        if (iface.mtu !== undefined) await this.run(['ip', 'link', 'set', iface.name, ...mtuArgs(iface)]);
        const lease = await this.firstLease([iface.name]);
        if (lease === undefined) throw new SetupError(`b2c.iface=${iface.name}: no DHCP server answered within about 10 s`);
        await this.configureLease(lease);
        nameservers.push(...lease.dns);
        domain ??= lease.domain;
        continue;
      }
      const plan = staticInterfacePlan(iface);
      for (const argv of plan.commands) {
        const result = await this.run(argv);
        if (result.status !== 0) throw new SetupError(`b2c.iface=${iface.name}: ${argv.join(' ')} failed: ${result.stderr.trim()}`);
      }
      for (const sysctl of plan.sysctls) await this.system.writeText(sysctl.path, sysctl.value);
      nameservers.push(...iface.nameservers);
      const settings = [
        ...iface.addresses,
        ...(iface.gateway ? [`gateway ${iface.gateway}`] : []),
        ...iface.routes.map((route) => `route ${route.network} via ${route.gateway}`),
        ...(iface.forward ? ['forwarding'] : []),
        ...(iface.mtu !== undefined ? [`MTU ${iface.mtu}`] : []),
      ];
      await this.console.log(`Configured ${iface.name}: ${settings.join(', ') || 'up, no address'}`);
    }
    await this.system.writeText('/etc/resolv.conf', resolvConf(nameservers, domain));
  }

  private async dhcpOnEveryInterface(): Promise<void> {
    const interfaces = await this.waitForAnyInterface();
    if (interfaces.length === 0) {
      await reportDriverlessDevices(this.system, this.console, this.modules);
      throw new SetupError(
        `no network interface (eth*, en* or usb*) appeared within ${INTERFACE_WAIT_MS / 1000} s: no driver this image has took the machine's network card ` +
          '(b2c.modules loads only modules the image and its add-ons ship)',
      );
    }
    const lease = await this.firstLease(interfaces);
    if (lease === undefined) throw new SetupError(`no DHCP server answered on ${interfaces.join(', ')} within about 10 s`);
    await this.system.writeText('/etc/resolv.conf', (await this.configureLease(lease)).resolvConf);
  }

  /**
   * Asks for a lease on every interface at once and takes the first one
   * that comes; the other clients are stopped and waited for, so that no
   * exit status is left behind for a later process with the same pid.
   */
  private async firstLease(interfaces: readonly string[]): Promise<DhcpLease | undefined> {
    const clients: Array<{ name: string; program: RunningProgram }> = [];
    for (const name of interfaces) {
      await this.run(['ip', 'link', 'set', name, 'up']);
      await this.console.log(`Asking for a DHCP lease on ${name}`);
      const argv = ['udhcpc', '-i', name, '-f', '-q', '-n', ...UDHCPC_TIMING, '-s', UDHCPC_SCRIPT];
      clients.push({ name, program: await this.system.start(argv, { outputFile: '/dev/null' }) });
    }
    let lease: DhcpLease | undefined;
    const pending = new Set(clients);
    while (lease === undefined && pending.size > 0) {
      for (const client of pending) {
        if (client.program.poll() === undefined) continue;
        pending.delete(client);
        const status = await client.program.wait();
        lease = status === 0 ? parseLease((await this.system.readText(dhcpLeasePath(client.name))) ?? '') : undefined;
        if (lease !== undefined) break;
        await this.console.log(
          `No DHCP lease on ${client.name}${(await this.hasCarrier(client.name)) ? '' : ': it has no link (no cable, or the switch port is down)'}`,
        );
      }
      // udhcpc exits with its lease: woken by that, not a poll later.
      if (lease === undefined && pending.size > 0)
        await this.system.waitForAny(
          [...pending].map((client) => client.program),
          POLL_MS,
        );
    }
    for (const client of pending) {
      await this.run(['kill', String(client.program.pid)]);
      await client.program.wait();
    }
    return lease;
  }

  /** The kernel's carrier flag of an interface that is up: false when no link was ever detected. */
  private async hasCarrier(name: string): Promise<boolean> {
    return ((await this.system.readText(`/sys/class/net/${name}/carrier`)) ?? '1').trim() !== '0';
  }

  private async configureLease(lease: DhcpLease): Promise<NetworkPlan> {
    const plan = configureFromLease(lease);
    for (const argv of plan.commands) {
      const result = await this.run(argv);
      if (result.status !== 0) throw new SetupError(`${argv.join(' ')} failed: ${result.stderr.trim()}`);
    }
    await this.console.log(`Got the address ${lease.ip}/${plan.prefixLength} on ${lease.interface}${lease.router ? `, gateway ${lease.router}` : ''}`);
    return plan;
  }

  private async waitForInterface(name: string): Promise<void> {
    const found = await this.waitUntil(async () => await this.system.exists(`/sys/class/net/${name}`));
    if (!found) {
      const present = (await this.system.listDir('/sys/class/net')).filter((item) => item !== 'lo');
      if (present.length === 0) await reportDriverlessDevices(this.system, this.console, this.modules);
      throw new SetupError(`b2c.iface=${name}: the machine has no interface ${name} (it has: ${present.join(', ') || 'none'})`);
    }
  }

  /**
   * The eth*, en* and usb* interfaces (usbnet names a USB adapter with a
   * locally administered address usb0); a driver loaded a moment ago may
   * still be registering its interface.
   */
  private async waitForAnyInterface(): Promise<string[]> {
    let interfaces: string[] = [];
    await this.waitUntil(async () => {
      interfaces = (await this.system.listDir('/sys/class/net')).filter((name) => /^(eth|en|usb)/.test(name));
      return interfaces.length > 0;
    });
    return interfaces;
  }

  /** Polls `ready` for up to INTERFACE_WAIT_MS, loading the drivers of devices that appear meanwhile (no udev does it here). */
  private async waitUntil(ready: () => Promise<boolean>): Promise<boolean> {
    const started = this.system.now();
    let lastColdplug = started;
    for (;;) {
      if (await ready()) return true;
      const now = this.system.now();
      if (now - started > INTERFACE_WAIT_MS) return false;
      if (now - lastColdplug >= COLDPLUG_EVERY_MS) {
        lastColdplug = now;
        await this.modules.coldplug();
      }
      await this.system.sleep(POLL_MS);
    }
  }

  private run(argv: readonly string[]): ReturnType<System['run']> {
    return this.system.run(argv, { captureStdout: true, captureStderr: true });
  }
}
