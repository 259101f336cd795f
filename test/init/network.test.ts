import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/cmdline/config.ts';
import { SetupError } from '../../src/init/errors.ts';
import { KernelModules } from '../../src/init/modules.ts';
import { NetworkSetup } from '../../src/init/network.ts';
import { dhcpLeasePath } from '../../src/image-layout.ts';
import { FakeSystem } from '../fake-system.ts';

describe('NetworkSetup', () => {
  it('looks for drivers again while it waits for an interface, then names the network card no driver took', async () => {
    const fake = new FakeSystem()
      .file('/sys/bus/pci/devices/0000:00:03.0/vendor', '0x10ec\n')
      .file('/sys/bus/pci/devices/0000:00:03.0/device', '0x8029\n')
      .file('/sys/bus/pci/devices/0000:00:03.0/class', '0x020000\n')
      .file('/sys/bus/pci/devices/0000:00:03.0/modalias', 'pci:v000010ECd00008029sv*\n');
    fake.on(['ip'], {});
    let coldplugs = 0;
    const modules = {
      coldplug: async () => {
        coldplugs++;
        return [];
      },
      modulesMatching: async () => [],
      addonsMatching: async () => [],
    } as unknown as KernelModules;
    const log = { log: async (message: string) => fake.write(`${message}\n`) };
    const error = await new NetworkSetup(fake, log, modules).setUp(defaultConfig()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SetupError);
    expect((error as SetupError).message).toContain(
      "no network interface (eth*, en* or usb*) appeared within 10 s: no driver this image has took the machine's network card",
    );
    expect(coldplugs).toBeGreaterThanOrEqual(9);
    expect(fake.consoleText).toContain(
      'Devices no driver took:\n' +
        '  PCI 10ec:8029 (network controller) at 0000:00:03.0, modalias pci:v000010ECd00008029sv*: no module of this image or its add-ons matches it\n',
    );
  });

  it('sees the lease when udhcpc exits with it, not a poll later', async () => {
    const fake = new FakeSystem();
    await fake.makeDirectory('/sys/class/net/eth0');
    await fake.makeDirectory('/etc');
    fake.on(['ip'], {});
    fake.on(['udhcpc'], (_argv, machine) => {
      machine.files.set(dhcpLeasePath('eth0'), 'interface=eth0\nip=10.0.2.15\nmask=24\nrouter=10.0.2.2\n');
      return { takes: 30 };
    });
    const log = { log: async (message: string) => fake.write(`[${(await fake.readText('/proc/uptime'))?.split(' ')[0]}]: ${message}\n`) };
    await new NetworkSetup(fake, log, { coldplug: async () => [] } as unknown as KernelModules).setUp(defaultConfig());
    // A 100 ms poll would have seen it at 0.10.
    expect(fake.consoleText).toContain('[0.03]: Got the address 10.0.2.15/24 on eth0, gateway 10.0.2.2');
  });

  it('takes a USB adapter that a later coldplug brings', async () => {
    const fake = new FakeSystem();
    fake.on(['ip'], {});
    fake.on(['udhcpc'], { status: 1 });
    let coldplugs = 0;
    const modules = {
      coldplug: async () => {
        // The adapter enumerates after 3 s; its driver then makes eth0.
        if (++coldplugs === 3) await fake.makeDirectory('/sys/class/net/eth0');
        return [];
      },
    } as unknown as KernelModules;
    const log = { log: async (message: string) => fake.write(`${message}\n`) };
    await new NetworkSetup(fake, log, modules).setUp(defaultConfig()).catch(() => undefined);
    expect(coldplugs).toBe(3);
    expect(fake.ran('udhcpc').length).toBeGreaterThan(0);
  });

  it('names the add-on that has the driver of a card the image has none for', async () => {
    const release = '6.12.0-test';
    const folder = `/usr/lib/modules/${release}`;
    const fake = new FakeSystem()
      .file('/proc/sys/kernel/osrelease', `${release}\n`)
      .file(`${folder}/b2c-indexes/image/modules.alias`, 'alias pci:v00008086d000010D3sv*sd*bc*sc*i* e1000e\n')
      .file(`${folder}/b2c-addon-aliases/modules`, '# linux-amd64.modules.cpio.xz\nalias pci:v000010ECd00008029sv*sd*bc*sc*i* ne2k_pci\n')
      .file('/sys/bus/pci/devices/0000:00:03.0/vendor', '0x10ec\n')
      .file('/sys/bus/pci/devices/0000:00:03.0/device', '0x8029\n')
      .file('/sys/bus/pci/devices/0000:00:03.0/modalias', 'pci:v000010ECd00008029sv00001AF4sd00001100bc02sc00i00\n');
    fake.on(['ip'], {}).on(['modprobe'], {});
    const log = { log: async (message: string) => fake.write(`${message}\n`) };
    const error = await new NetworkSetup(fake, log, new KernelModules(fake, log)).setUp(defaultConfig()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SetupError);
    expect(fake.consoleText).toContain(
      '  PCI 10ec:8029 at 0000:00:03.0, modalias pci:v000010ECd00008029sv00001AF4sd00001100bc02sc00i00: ' +
        'the modules add-on has ne2k_pci for it: load linux-amd64.modules.cpio.xz after the initramfs\n',
    );
  });
});
