// The default image on hardware other than virtio, as QEMU emulates it: cards and disk buses get their drivers, a card without one is named, firmware loads.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hostCacheDir } from '../../src/host-cache.ts';
import { MODULE_INDEXES_FOLDER } from '../../src/image-layout.ts';
import { cpioChunks } from '../../src/image/cpio.ts';
import { outputNames } from '../../src/image/output-names.ts';
import { ImageTree } from '../../src/image/tree.ts';
import { bootB2c, expectCleanEnd, step, testImage } from './boot.ts';
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

describe('firmware', () => {
  const folder = mkdtempSync(join(tmpdir(), 'b2c-firmware-'));
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it("the kernel loads what the image and the firmware add-on ship: the image's rtl_nic as is, the add-on's files compressed", async () => {
    // The kernel's own test_firmware module asks the firmware loader for any name written to it, and /dev/test_firmware reads back what it got.
    // It is in no archive b2c ships: the test brings it in an archive of its own, with its index, as an add-on would.
    const manifest = JSON.parse(readFileSync(join('out', outputNames('amd64').manifest), 'utf8')) as {
      kernel: { package: string; version: string; release: string };
    };
    const extracted = join(hostCacheDir(), 'extracted', `${manifest.kernel.package}_${manifest.kernel.version}_amd64`);
    const modulesFolder = `usr/lib/modules/${manifest.kernel.release}`;
    const module = execFileSync('xz', ['--decompress', '--stdout', join(extracted, modulesFolder, 'kernel/lib/test_firmware.ko.xz')]);
    const tree = new ImageTree();
    tree.add(`${modulesFolder}/kernel/lib/test_firmware.ko`, { kind: 'file', mode: 0o644, data: module, origin: 'test' });
    tree.add(`${modulesFolder}/${MODULE_INDEXES_FOLDER}/test/modules.dep`, {
      kind: 'file',
      mode: 0o644,
      data: Buffer.from('kernel/lib/test_firmware.ko:\n'),
      origin: 'test',
    });
    const testArchive = join(folder, 'test-firmware.cpio');
    writeFileSync(testArchive, Buffer.concat([...cpioChunks(tree.toCpioEntries(), 0)]));

    const firmwareAddon = join('out', outputNames('amd64').addons.firmware);
    const sysfs = '/sys/devices/virtual/misc/test_firmware';
    // The kernel reads a command line's double quotes only, around the whole value: the script has none of its own.
    const request = (name: string): string =>
      `if echo -n ${name} > ${sysfs}/trigger_request; ` + `then echo loaded ${name} $(md5sum < /dev/test_firmware | cut -c1-32); else echo refused ${name}; fi`;
    const names = ['rtl_nic/rtl8168h-2.fw', 'tigon/tg3_tso5.bin', 'b2c/no-such-firmware.bin'];
    const result = await bootB2c(
      ['b2c.modules=test_firmware', `b2c.container="--privileged --tls-verify=false ${testImage()} sh -c '${names.map(request).join('; ')}'"`],
      { runOptions: ['--addon', firmwareAddon, '--addon', testArchive] },
    );
    expectCleanEnd(result, 0);
    // The package the build extracted last, should the cache hold older versions too.
    const firmwarePackage = (name: string): string => {
      const extractedFolder = join(hostCacheDir(), 'extracted');
      const found = readdirSync(extractedFolder)
        .filter((entry) => entry.startsWith(`${name}_`) && !entry.endsWith('.partial'))
        .sort((a, b) => statSync(join(extractedFolder, b)).mtimeMs - statSync(join(extractedFolder, a)).mtimeMs)[0];
      if (found === undefined) throw new Error(`${name} was not extracted by the build`);
      return join(extractedFolder, found, 'usr/lib/firmware');
    };
    const md5 = (path: string): string => createHash('md5').update(readFileSync(path)).digest('hex');
    expect(result.output).toContain(`loaded rtl_nic/rtl8168h-2.fw ${md5(join(firmwarePackage('firmware-realtek'), 'rtl_nic/rtl8168h-2.fw'))}`);
    expect(result.output).toContain(`loaded tigon/tg3_tso5.bin ${md5(join(firmwarePackage('firmware-misc-nonfree'), 'tigon/tg3_tso5.bin'))}`);
    // The add-on has it compressed only: the kernel's loader (which logs each try) misses the plain name, then reads NAME.xz.
    expect(result.console).toContain('failed to load tigon/tg3_tso5.bin (-2)');
    expect(result.output).toContain('refused b2c/no-such-firmware.bin');
  });
});
