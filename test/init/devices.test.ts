import { describe, expect, it } from 'vitest';
import { describeDevice, deviceTreeCompatible, driverlessDevices, usbIds } from '../../src/init/devices.ts';
import { FakeSystem } from '../fake-system.ts';

describe('devices without a driver', () => {
  it('reads IDs from USB and device-tree modaliases', () => {
    expect(usbIds('usb:v0BDAp8153d3000dc00dsc00dp00icFFiscFFip00in00')).toBe('0bda:8153');
    expect(usbIds('pci:v000010ECd00008029sv*')).toBeUndefined();
    expect(deviceTreeCompatible('of:NethernetT(null)Cstarfive,jh7110-dwmacCsnps,dwmac-5.20')).toBe('starfive,jh7110-dwmac');
    expect(deviceTreeCompatible('platform:serial8250')).toBeUndefined();
  });

  it('lists unbound PCI devices with their class, USB interfaces and device-tree nodes; bound ones and x86 platform devices are left out', async () => {
    const pci = '/sys/bus/pci/devices';
    const fake = new FakeSystem()
      .file(`${pci}/0000:00:03.0/vendor`, '0x10ec\n')
      .file(`${pci}/0000:00:03.0/device`, '0x8029\n')
      .file(`${pci}/0000:00:03.0/class`, '0x020000\n')
      .file(`${pci}/0000:00:03.0/modalias`, 'pci:v000010ECd00008029sv00001AF4sd00001100bc02sc00i00\n')
      .file(`${pci}/0000:00:04.0/vendor`, '0x1af4\n')
      .file(`${pci}/0000:00:04.0/modalias`, 'pci:v00001AF4d00001000sv*\n')
      .file('/sys/bus/usb/devices/1-1/modalias', 'usb:v0BDAp8153d3000dc00dsc00dp00ic00isc00ip00in00\n')
      .file('/sys/bus/usb/devices/1-1:1.0/modalias', 'usb:v0BDAp8153d3000dc00dsc00dp00icFFiscFFip00in00\n')
      .file('/sys/bus/virtio/devices/virtio0/modalias', 'virtio:d00000001v00001AF4\n')
      .file('/sys/bus/platform/devices/serial8250/modalias', 'platform:serial8250\n')
      .file('/sys/bus/platform/devices/16030000.ethernet/modalias', 'of:NethernetT(null)Cstarfive,jh7110-dwmac\n');
    await fake.makeDirectory(`${pci}/0000:00:04.0/driver`);
    const devices = await driverlessDevices(fake);
    expect(devices.map(describeDevice)).toEqual([
      'PCI 10ec:8029 (network controller) at 0000:00:03.0, modalias pci:v000010ECd00008029sv00001AF4sd00001100bc02sc00i00',
      'virtio type 1 (network card) at virtio0, modalias virtio:d00000001v00001AF4',
      'USB 0bda:8153 at 1-1:1.0, modalias usb:v0BDAp8153d3000dc00dsc00dp00icFFiscFFip00in00',
      'device-tree starfive,jh7110-dwmac at 16030000.ethernet, modalias of:NethernetT(null)Cstarfive,jh7110-dwmac',
    ]);
  });
});
