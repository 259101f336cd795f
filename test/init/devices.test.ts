import { describe, expect, it } from 'vitest';
import { describeDevice, deviceTreeCompatible, driverlessDevices, reportDriverlessDevices, usbIds } from '../../src/init/devices.ts';
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

  it("on a board, names the MAC's unmet supplier and the add-on module for it, and counts the nodes nothing matches", async () => {
    const platform = '/sys/bus/platform/devices';
    const fake = new FakeSystem()
      .file(`${platform}/30be0000.ethernet/modalias`, 'of:NethernetT(null)Cfsl,imx8mp-fecCfsl,imx8mq-fecCfsl,imx6sx-fec\n')
      .file(`${platform}/30350000.efuse/modalias`, 'of:NefuseT(null)Cfsl,imx8mp-ocotpCfsl,imx8mm-ocotpCsyscon\n')
      .file(`${platform}/30280000.watchdog/modalias`, 'of:NwatchdogT(null)Cfsl,imx8mp-wdtCfsl,imx21-wdt\n')
      .file(`${platform}/30660000.pwm/modalias`, 'of:NpwmT(null)Cfsl,imx8mp-pwmCfsl,imx27-pwm\n')
      .file(`${platform}/30380000.clock-controller/modalias`, 'of:Nclock-controllerT(null)Cfsl,imx8mp-ccm\n')
      // The fec's device links: to its clocks, whose driver is bound, and to the fuses, whose driver is not.
      .file(`${platform}/30be0000.ethernet/supplier:platform:30380000.clock-controller/status`, 'available\n')
      .file(`${platform}/30be0000.ethernet/supplier:platform:30350000.efuse/status`, 'dormant\n');
    await fake.makeDirectory(`${platform}/30380000.clock-controller/driver`);
    const finder = {
      modulesMatching: async (modalias: string) => (modalias.includes('imx8mp-fec') ? ['fec'] : []),
      addonsMatching: async (modalias: string) =>
        modalias.includes('ocotp') ? [{ addon: 'modules', file: 'linux-arm64.modules.cpio.xz', modules: ['nvmem_imx_ocotp'] }] : [],
    };
    const lines: string[] = [];
    await reportDriverlessDevices(fake, { log: async (line: string) => void lines.push(line) }, finder);
    expect(lines).toEqual([
      'Devices no driver took:',
      '  device-tree fsl,imx8mp-ocotp at 30350000.efuse, modalias of:NefuseT(null)Cfsl,imx8mp-ocotpCfsl,imx8mm-ocotpCsyscon: ' +
        'the modules add-on has nvmem_imx_ocotp for it: load linux-arm64.modules.cpio.xz after the initramfs',
      '  device-tree fsl,imx8mp-fec at 30be0000.ethernet, modalias of:NethernetT(null)Cfsl,imx8mp-fecCfsl,imx8mq-fecCfsl,imx6sx-fec: ' +
        'fec matches it but did not take it: it waits for 30350000.efuse, which no driver took either',
      '  and 2 more device-tree nodes that no module of this image or its add-ons matches',
    ]);

    // With no module for the fuses anywhere, the node the fec waits for is still named; one node left is counted as one.
    lines.length = 0;
    await reportDriverlessDevices(fake, { log: async (line: string) => void lines.push(line) }, { ...finder, addonsMatching: async () => [] });
    expect(lines[1]).toMatch(/^ {2}device-tree fsl,imx8mp-ocotp at 30350000\.efuse, .*: no module of this image or its add-ons matches it$/);
    expect(lines.at(-1)).toBe('  and 2 more device-tree nodes that no module of this image or its add-ons matches');
    // Links the kernel does not track: a supplier on a bus is looked at itself, one of a class (no bus folder) is taken as there.
    const untracked = new FakeSystem()
      .file(`${platform}/30be0000.ethernet/modalias`, 'of:NethernetT(null)Cfsl,imx8mp-fec\n')
      .file(`${platform}/30be0000.ethernet/supplier:platform:30350000.efuse/status`, 'not tracked\n')
      .file(`${platform}/30be0000.ethernet/supplier:regulator:regulator.3/status`, 'not tracked\n')
      .file(`${platform}/30350000.efuse/modalias`, 'of:NefuseT(null)Cfsl,imx8mp-ocotp\n');
    expect((await driverlessDevices(untracked)).find((device) => device.address === '30be0000.ethernet')?.waitsFor).toEqual(['30350000.efuse']);
    const lone = new FakeSystem().file(`${platform}/30280000.watchdog/modalias`, 'of:NwatchdogT(null)Cfsl,imx8mp-wdt\n');
    lines.length = 0;
    await reportDriverlessDevices(lone, { log: async (line: string) => void lines.push(line) }, finder);
    expect(lines).toEqual(['Devices no driver took:', '  1 device-tree node that no module of this image or its add-ons matches']);
  });
});
