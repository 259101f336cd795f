// The default image on hardware other than virtio, as QEMU emulates it: network cards and disk buses get their drivers, and a card it has none for is named.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { outputNames } from '../../src/image/output-names.ts';
import { bootB2c, expectCleanEnd, step } from './boot.ts';
import { blankDisk } from './disks.ts';

/** A step that prints the driver of the machine's one card, which the pull over that card already proved works. */
const driverStep = step('b2c.container', `sh -c 'echo nic-driver=$(basename $(readlink /sys/class/net/*/device/driver))'`);

describe('network cards', () => {
  // usb-net is a CDC Ethernet (and RNDIS) gadget on an xHCI controller: cdc_ether takes it.
  const cards: Array<[string, RegExp]> = [
    ['e1000', /^nic-driver=e1000\r?$/m],
    ['e1000e', /^nic-driver=e1000e\r?$/m],
    ['rtl8139', /^nic-driver=8139(cp|too)\r?$/m],
    ['usb-net', /^nic-driver=(cdc_ether|rndis_host)\r?$/m],
  ];
  for (const [model, driver] of cards) {
    it(`pulls and runs a step over ${model}`, async () => {
      const result = await bootB2c([driverStep], { runOptions: ['--nic-model', model] });
      expectCleanEnd(result, 0);
      expect(result.output).toMatch(driver);
    });
  }

  it('names a card no driver of the image takes, and the add-on that has its driver; booted with it, the step runs', async () => {
    const without = await bootB2c([driverStep], { runOptions: ['--nic-model', 'ne2k_pci'] });
    expectCleanEnd(without, 1);
    expect(without.output).toContain('Devices no driver took:');
    expect(without.output).toMatch(
      /PCI 10ec:8029 \(network controller\) at 0000:00:0\d\.0, modalias pci:v000010ECd00008029\S*: the modules add-on has ne2k_pci/,
    );
    expect(without.output).toContain('has ne2k_pci for it: load linux-amd64.modules.cpio.xz after the initramfs');
    expect(without.output).toContain('no network interface (eth*, en* or usb*) appeared within 10 s');

    const addon = join('out', outputNames('amd64').addons.modules);
    const withAddon = await bootB2c([driverStep], { runOptions: ['--nic-model', 'ne2k_pci', '--addon', addon] });
    expectCleanEnd(withAddon, 0);
    expect(withAddon.output).toMatch(/^nic-driver=ne2k-pci\r?$/m);
  });
});

describe('cache disks on other buses', () => {
  const folder = mkdtempSync(join(tmpdir(), 'b2c-buses-'));
  afterAll(() => rmSync(folder, { recursive: true, force: true }));
  // The disk's name on each bus, as the kernel gives it.
  const buses: Array<[string, string]> = [
    ['nvme', '/dev/nvme0n1'],
    ['ahci', '/dev/sda'],
    ['usb', '/dev/sda'],
    ['sd', '/dev/mmcblk0'],
  ];
  for (const [bus, disk] of buses) {
    it(`auto formats a blank disk on ${bus} as the cache, and the next boot reuses it`, async () => {
      // A power of two: QEMU's SD card takes no other size.
      const image = blankDisk(folder, `${bus}.img`, 512 * 1024 * 1024);
      // SDHCI and eMMC are in the modules add-on: the image every farm fetches stays within 20 MiB.
      const addon = bus === 'sd' ? ['--addon', join('out', outputNames('amd64').addons.modules)] : [];
      const options = { disks: [image], runOptions: ['--disk-bus', bus, ...addon] };
      const first = await bootB2c(['b2c.cache_device=auto', step('b2c.container', `sh -c 'echo first-$((6*7))'`)], options);
      expectCleanEnd(first, 0);
      expect(first.output).toContain(`No B2C_CACHE partition: making one on the blank disk ${disk}`);
      expect(first.output).toMatch(/^first-42\r?$/m);
      const second = await bootB2c(['b2c.cache_device=auto', step('b2c.container', `sh -c 'echo second-$((6*7))'`)], options);
      expectCleanEnd(second, 0);
      expect(second.output).toContain(`Using the cache partition ${disk}${/\d$/.test(disk) ? 'p1' : '1'}`);
      expect(second.output).toMatch(/^second-42\r?$/m);
    });
  }
});
