// Names the devices no driver took, with their IDs, so that a farm admin can find the driver a machine's network card or disk needs.

import type { System } from '../system/system.ts';
import type { Log } from './console.ts';

export interface DriverlessDevice {
  bus: 'pci' | 'usb' | 'virtio' | 'platform';
  /** Where sysfs has it: `0000:00:03.0`, `1-1:1.0`, `fe300000.ethernet`. */
  address: string;
  /** `10ec:8029` for PCI and USB; the first compatible string of a device-tree node. */
  id: string;
  /** What kind of device, when the bus says: `network controller`. */
  kind?: string;
  modalias: string;
  /** The devices it depends on (the kernel's device links: its fuses, clocks, regulators) that no driver took either: its probe waits for them. */
  waitsFor: string[];
}

/** PCI base classes (the class file's first byte), as lspci names them. */
const PCI_CLASSES: Record<string, string> = {
  '00': 'unclassified device',
  '01': 'storage controller',
  '02': 'network controller',
  '03': 'display controller',
  '04': 'multimedia controller',
  '05': 'memory controller',
  '06': 'bridge',
  '07': 'communication controller',
  '08': 'system peripheral',
  '0c': 'serial bus controller',
  '0d': 'wireless controller',
};

/** Virtio device types (the virtio spec's device IDs) a machine boots with. */
const VIRTIO_TYPES: Record<string, string> = { '1': 'network card', '2': 'block device', '3': 'console', '4': 'entropy source', '8': 'SCSI host' };

/** The vendor and product of a USB interface's modalias (`usb:v0BDAp8153d3000dc00…`), lowercase. */
export function usbIds(modalias: string): string | undefined {
  const match = /^usb:v([0-9A-F]{4})p([0-9A-F]{4})/i.exec(modalias);
  return match ? `${(match[1] as string).toLowerCase()}:${(match[2] as string).toLowerCase()}` : undefined;
}

/** The first compatible string of a device-tree modalias (`of:NethernetT(null)Csnps,dwmac-4.20aCsnps,dwmac` → `snps,dwmac-4.20a`). */
export function deviceTreeCompatible(modalias: string): string | undefined {
  const match = /^of:N[^T]*T[^C]*C([^C]+)/.exec(modalias);
  return match?.[1];
}

/** One console line for a device: `PCI 10ec:8029 (network controller) at 0000:00:03.0, modalias pci:v000010ECd00008029…`. */
export function describeDevice(device: DriverlessDevice): string {
  const kind = device.kind ? ` (${device.kind})` : '';
  const bus = device.bus === 'platform' ? 'device-tree' : device.bus === 'virtio' ? 'virtio' : device.bus.toUpperCase();
  return `${bus} ${device.id}${kind} at ${device.address}, modalias ${device.modalias}`;
}

async function readTrimmed(system: System, path: string): Promise<string> {
  return ((await system.readText(path)) ?? '').trim();
}

/**
 * PCI devices, virtio devices and USB interfaces with no driver bound, and device-tree
 * nodes (platform devices with an `of:` modalias) without one; the platform
 * devices x86 firmware describes are left out, as none of them is a NIC or
 * a disk controller.
 */
export async function driverlessDevices(system: System): Promise<DriverlessDevice[]> {
  const devices: DriverlessDevice[] = [];
  const unbound = async (bus: string): Promise<Array<{ address: string; path: string; modalias: string; waitsFor: string[] }>> => {
    const found = [];
    for (const address of await system.listDir(`/sys/bus/${bus}/devices`)) {
      const path = `/sys/bus/${bus}/devices/${address}`;
      if (await system.exists(`${path}/driver`)) continue;
      const modalias = await readTrimmed(system, `${path}/modalias`);
      if (modalias !== '') found.push({ address, path, modalias, waitsFor: await suppliersWithoutDriver(system, path) });
    }
    return found;
  };
  for (const { address, path, modalias, waitsFor } of await unbound('pci')) {
    const vendor = (await readTrimmed(system, `${path}/vendor`)).replace(/^0x/, '');
    const product = (await readTrimmed(system, `${path}/device`)).replace(/^0x/, '');
    const kind = PCI_CLASSES[(await readTrimmed(system, `${path}/class`)).replace(/^0x/, '').slice(0, 2)];
    devices.push({ bus: 'pci', address, id: `${vendor}:${product}`, ...(kind ? { kind } : {}), modalias, waitsFor });
  }
  // A virtio card sits on the PCI device virtio_pci took (often built in): the virtio device is what virtio_net must take.
  for (const { address, modalias, waitsFor } of await unbound('virtio')) {
    const type = /^virtio:d0*([0-9a-f]+)v/i.exec(modalias)?.[1];
    if (type !== undefined)
      devices.push({ bus: 'virtio', address, id: `type ${type}`, ...(VIRTIO_TYPES[type] ? { kind: VIRTIO_TYPES[type] } : {}), modalias, waitsFor });
  }
  // USB devices themselves are the generic usb driver's: their interfaces (1-1:1.0) are what a NIC driver takes.
  for (const { address, modalias, waitsFor } of await unbound('usb')) {
    const id = usbIds(modalias);
    if (address.includes(':') && id !== undefined) devices.push({ bus: 'usb', address, id, modalias, waitsFor });
  }
  for (const { address, modalias, waitsFor } of await unbound('platform')) {
    const id = deviceTreeCompatible(modalias);
    if (id !== undefined) devices.push({ bus: 'platform', address, id, modalias, waitsFor });
  }
  return devices;
}

/** The states of a device link (its `status` file) in which the supplier has its driver. */
const SUPPLIER_BOUND = new Set(['available', 'consumer probing', 'active']);

/**
 * The suppliers of a device (`supplier:BUS:NAME` entries: the device links
 * the kernel makes from a device tree's references) that no driver took. A
 * MAC whose driver is there still waits for them, e.g. i.MX's fec for the
 * fuses that hold its MAC address. The link's own state says so whatever
 * the supplier is (a class device has no bus folder to look in).
 */
async function suppliersWithoutDriver(system: System, path: string): Promise<string[]> {
  const waiting = [];
  for (const entry of await system.listDir(path)) {
    const groups = /^supplier:(?<bus>[^:]+):(?<name>.+)$/.exec(entry)?.groups;
    if (groups?.bus === undefined || groups.name === undefined) continue;
    const status = await readTrimmed(system, `${path}/${entry}/status`);
    if (SUPPLIER_BOUND.has(status)) continue;
    if (status === 'dormant' || status === 'supplier unbinding') {
      waiting.push(groups.name);
      continue;
    }
    // A link the kernel does not track (`not tracked`) says nothing of the supplier: its own folder does, when it is on a bus.
    const supplier = `/sys/bus/${groups.bus}/devices/${groups.name}`;
    if ((await system.exists(supplier)) && !(await system.exists(`${supplier}/driver`))) waiting.push(groups.name);
  }
  return waiting;
}

/** What the report asks of the module index: the image's modules and the add-ons' that match a modalias. */
export interface DriverFinder {
  modulesMatching(modalias: string): Promise<string[]>;
  addonsMatching(modalias: string): Promise<Array<{ addon: string; file: string; modules: string[] }>>;
}

/** What the image and its add-ons offer for a device; undefined for a device-tree node that nothing matches, which the report only counts. */
async function driverVerdict(modules: DriverFinder, device: DriverlessDevice, awaited: boolean): Promise<string | undefined> {
  const matching = await modules.modulesMatching(device.modalias);
  if (matching.length > 0) {
    const waits = device.waitsFor.length > 0 ? `: it waits for ${device.waitsFor.join(', ')}, which no driver took either` : '';
    return `${matching.join(', ')} matches it but did not take it${waits}`;
  }
  const addons = await modules.addonsMatching(device.modalias);
  if (addons.length > 0)
    return addons.map(({ addon, file, modules: names }) => `the ${addon} add-on has ${names.join(', ')} for it: load ${file} after the initramfs`).join('; ');
  // A node another device waits for is named, whatever is known of it.
  return device.bus === 'platform' && !awaited ? undefined : 'no module of this image or its add-ons matches it';
}

/**
 * Lists the devices no driver took, each with whether a module of the image
 * matches it or which add-on has one: the lines a farm admin needs when a
 * network card or a disk does not show up. A board's device tree has
 * hundreds of nodes (buses, timers, audio) that no module is for: those are
 * counted, not listed, unless another device waits for one.
 */
export async function reportDriverlessDevices(system: System, output: Log, modules: DriverFinder): Promise<void> {
  const devices = await driverlessDevices(system);
  if (devices.length === 0) {
    await output.log('Every PCI, virtio and USB device of this machine has a driver');
    return;
  }
  await output.log('Devices no driver took:');
  const awaited = new Set(devices.flatMap((device) => device.waitsFor));
  let listed = 0;
  for (const device of devices) {
    const verdict = await driverVerdict(modules, device, awaited.has(device.address));
    if (verdict === undefined) continue;
    await output.log(`  ${describeDevice(device)}: ${verdict}`);
    listed++;
  }
  const unmatched = devices.length - listed;
  if (unmatched === 0) return;
  const nodes = `${unmatched} ${listed > 0 ? 'more ' : ''}device-tree ${unmatched === 1 ? 'node' : 'nodes'}`;
  await output.log(`  ${listed > 0 ? 'and ' : ''}${nodes} that no module of this image or its add-ons matches`);
}
