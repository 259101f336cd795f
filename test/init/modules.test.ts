import { describe, expect, it } from 'vitest';
import { BOOT_MODULES_LIST } from '../../src/image-layout.ts';
import { KernelModules } from '../../src/init/modules.ts';
import { FakeSystem } from '../fake-system.ts';

const RELEASE = '6.12.0-test';
const FOLDER = `/usr/lib/modules/${RELEASE}`;

describe('KernelModules', () => {
  it("joins the image's module index with the add-ons' before the first modprobe, whatever order they came in", async () => {
    const fake = new FakeSystem()
      .file('/proc/sys/kernel/osrelease', `${RELEASE}\n`)
      .file(`${FOLDER}/b2c-indexes/image/modules.dep`, 'kernel/net/sunrpc/sunrpc.ko:\n')
      .file(`${FOLDER}/b2c-indexes/image/modules.alias`, 'alias pci:v00008086d000010D3sv*sd*bc*sc*i* e1000e\n')
      .file(`${FOLDER}/b2c-indexes/modules/modules.dep`, 'kernel/fs/nfs/nfsv4.ko: kernel/net/sunrpc/sunrpc.ko\n')
      .file(`${FOLDER}/b2c-indexes/modules/modules.alias`, 'alias fs-nfs4 nfsv4\n');
    const mergedAtModprobe: string[] = [];
    fake.on(['modprobe'], (_argv, system) => {
      mergedAtModprobe.push(String(system.files.get(`${FOLDER}/modules.dep`)));
      return {};
    });
    const log = { log: async (message: string) => fake.write(`${message}\n`) };
    await new KernelModules(fake, log).loadNamed(['nfsv4']);
    expect(fake.ran('modprobe')).toEqual([['modprobe', 'nfsv4']]);
    expect(mergedAtModprobe).toEqual(['kernel/net/sunrpc/sunrpc.ko:\nkernel/fs/nfs/nfsv4.ko: kernel/net/sunrpc/sunrpc.ko\n']);
    expect(fake.files.get(`${FOLDER}/modules.alias`)).toBe('alias pci:v00008086d000010D3sv*sd*bc*sc*i* e1000e\nalias fs-nfs4 nfsv4\n');
    expect(fake.files.get(`${FOLDER}/modules.softdep`)).toBe('');
    expect(fake.consoleText).toContain('Kernel modules from the add-ons: modules');
  });

  it('names the add-ons the machine was booted without that have a module for a device, reading each once', async () => {
    const fake = new FakeSystem()
      .file('/proc/sys/kernel/osrelease', `${RELEASE}\n`)
      .file(`${FOLDER}/modules.dep`, '')
      .file(`${FOLDER}/b2c-indexes/image/modules.alias`, '')
      .file(`${FOLDER}/b2c-indexes/firmware/modules.alias`, '')
      // The firmware add-on was loaded: its aliases file is not offered again. The modules one was not.
      .file(`${FOLDER}/b2c-addon-aliases/firmware`, '# linux-arm64.firmware.cpio.xz\nalias of:N*T*Cfsl,imx8mp-ocotp never_offered\n')
      .file(`${FOLDER}/b2c-addon-aliases/modules`, '# linux-arm64.modules.cpio.xz\nalias of:N*T*Cfsl,imx8mm-ocotpC* nvmem_imx_ocotp\n');
    let aliasReads = 0;
    const readText = fake.readText.bind(fake);
    fake.readText = async (path: string) => {
      if (path.endsWith('b2c-addon-aliases/modules')) aliasReads++;
      return readText(path);
    };
    const modules = new KernelModules(fake, { log: async () => {} });
    const fuses = 'of:NefuseT(null)Cfsl,imx8mp-ocotpCfsl,imx8mm-ocotpCsyscon';
    expect(await modules.addonsMatching(fuses)).toEqual([{ addon: 'modules', file: 'linux-arm64.modules.cpio.xz', modules: ['nvmem_imx_ocotp'] }]);
    expect(await modules.addonsMatching('of:NwatchdogT(null)Cfsl,imx8mp-wdt')).toEqual([]);
    expect(aliasReads).toBe(1);
  });

  it("says so when the image has no modules for the running kernel (a farm's own)", async () => {
    const fake = new FakeSystem().file('/proc/sys/kernel/osrelease', '6.99.0-farm\n');
    const log = { log: async (message: string) => fake.write(`${message}\n`) };
    await new KernelModules(fake, log).loadNamed(['nfsv4']);
    expect(fake.ran('modprobe')).toEqual([]);
    expect(fake.consoleText).toContain('This image has no modules for the running kernel 6.99.0-farm');
  });

  it('loads a soft dependency before the module (the PHY before its MAC), and says nothing when one is missing', async () => {
    const fake = new FakeSystem()
      .file('/proc/sys/kernel/osrelease', `${RELEASE}\n`)
      .file(`${FOLDER}/b2c-indexes/image/modules.dep`, 'kernel/drivers/net/phy/realtek.ko:\nkernel/drivers/net/ethernet/realtek/r8169.ko:\n')
      .file(`${FOLDER}/b2c-indexes/image/modules.softdep`, 'softdep r8169 pre: realtek\nsoftdep ext4 pre: crypto-crc32c\n');
    fake.on(['modprobe'], {});
    fake.on(['modprobe', 'crypto-crc32c'], { status: 1, stderr: 'modprobe: module crypto-crc32c not found in modules.dep\n' });
    const log = { log: async (message: string) => fake.write(`${message}\n`) };
    const modules = new KernelModules(fake, log);
    await modules.loadNamed(['r8169', 'ext4']);
    await modules.loadNamed(['realtek']);
    // Named modules load in the order given.
    expect(fake.ran('modprobe')).toEqual([
      ['modprobe', 'realtek'],
      ['modprobe', 'r8169'],
      ['modprobe', 'crypto-crc32c'],
      ['modprobe', 'ext4'],
    ]);
    expect(fake.consoleText).not.toContain('Could not load');
  });

  it("loads different devices' drivers at once, one device's in alias order, and says what a failing modprobe said", async () => {
    const fake = new FakeSystem()
      .file('/proc/sys/kernel/osrelease', `${RELEASE}\n`)
      .file(
        `${FOLDER}/b2c-indexes/image/modules.alias`,
        'alias pci:v00001AF4d00001000* virtio_net\nalias pci:v00008086d00002922* ahci\nalias pci:v00008086d* intel_generic\n',
      )
      .file('/sys/bus/pci/devices/0000:00:1f.2/modalias', 'pci:v00008086d00002922sv00001AF4sd00001100bc01sc06i01\n')
      .file('/sys/bus/pci/devices/0000:00:02.0/modalias', 'pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00\n')
      .file(BOOT_MODULES_LIST, 'overlay\n');
    fake.on(['modprobe'], { takes: 1000 });
    fake.on(['modprobe', 'intel_generic'], { status: 1, stderr: 'modprobe: cannot load intel_generic: No such device\n', takes: 1000 });
    const log = { log: async (message: string) => fake.write(`${message}\n`) };
    await new KernelModules(fake, log).loadModules([]);
    const runs = fake.runs.filter((run) => run.argv[0] === 'modprobe').map((run) => `${run.argv[1]}@${run.at}`);
    // Three chains (the boot list's, the disk controller's, the card's) in one round; the controller's second driver after its first.
    expect(runs).toEqual(['overlay@0', 'virtio_net@0', 'ahci@0', 'intel_generic@1000']);
    expect(fake.consoleText).toContain("Loading the drivers of this machine's devices: virtio_net, ahci, intel_generic");
    expect(fake.consoleText).toContain('Could not load the module intel_generic: modprobe: cannot load intel_generic: No such device');
    expect([...fake.files.keys()].filter((path) => path.startsWith('/run/'))).toEqual([]);
  });

  describe('chains side by side', () => {
    const aliases = [
      'alias pci:v00008086d00002922* ahci',
      'alias pci:v000010ECd00008168* r8169',
      'alias pci:v00008086d0000293A* ehci_pci',
      'alias pci:v00008086d00002934* uhci_hcd',
      'alias usb:v0BDAp8153* r8152',
      'alias usb:v0BDAp8153* cdc_ether',
      'alias usb:v0BDAp8156* cdc_ether',
      'alias usb:v0BDAp8156* cdc_ncm',
    ].join('\n');
    async function coldplugged(devices: Record<string, string>, softdeps: string, takes: Record<string, number>): Promise<string[]> {
      const fake = new FakeSystem()
        .file('/proc/sys/kernel/osrelease', `${RELEASE}\n`)
        .file(`${FOLDER}/b2c-indexes/image/modules.alias`, `${aliases}\n`)
        .file(`${FOLDER}/b2c-indexes/image/modules.softdep`, softdeps);
      for (const [path, modalias] of Object.entries(devices)) fake.file(`/sys/bus/${path}/modalias`, `${modalias}\n`);
      fake.on(['modprobe'], (argv) => ({ takes: takes[argv[1] as string] ?? 100 }));
      await new KernelModules(fake, { log: async () => undefined }).coldplug();
      return fake.runs.filter((run) => run.argv[0] === 'modprobe').map((run) => `${run.argv[1]}@${run.at}`);
    }

    it("starts a chain's next module when its own last one ends, whatever another chain's probe waits on", async () => {
      const runs = await coldplugged(
        { 'pci/devices/0000:00:1f.2': 'pci:v00008086d00002922sv0sd0bc01sc06i01', 'pci/devices/0000:01:00.0': 'pci:v000010ECd00008168sv0sd0bc02sc00i00' },
        'softdep r8169 pre: realtek\n',
        { ahci: 1000, realtek: 100 },
      );
      expect(runs).toEqual(['ahci@0', 'realtek@0', 'r8169@100']);
    });

    it("waits for a module's pre dependency that another device's chain loads", async () => {
      // The EHCI controller's function comes first; its companion UHCI's driver wants ehci_pci loaded before it.
      const runs = await coldplugged(
        { 'pci/devices/0000:00:1a.0': 'pci:v00008086d0000293Asv0sd0bc0Csc03i20', 'pci/devices/0000:00:1a.1': 'pci:v00008086d00002934sv0sd0bc0Csc03i00' },
        'softdep uhci_hcd pre: ehci_pci\n',
        { ehci_pci: 500 },
      );
      expect(runs).toEqual(['ehci_pci@0', 'uhci_hcd@500']);
    });

    it('keeps the drivers of two devices that share one in their order', async () => {
      const runs = await coldplugged({ 'usb/devices/1-1:1.0': 'usb:v0BDAp8153d3100', 'usb/devices/2-1:1.0': 'usb:v0BDAp8156d3100' }, '', {
        r8152: 300,
        cdc_ether: 200,
      });
      // The second adapter's cdc_ncm comes after the cdc_ether the first adapter's chain loads, as it did one by one.
      expect(runs).toEqual(['r8152@0', 'cdc_ether@300', 'cdc_ncm@500']);
    });
  });

  it("loads the driver a device names only in its uevent, as an SD card's mmc:block", async () => {
    const fake = new FakeSystem()
      .file('/proc/sys/kernel/osrelease', `${RELEASE}\n`)
      .file(`${FOLDER}/b2c-indexes/image/modules.alias`, 'alias mmc:block mmc_block\n')
      .file('/sys/bus/mmc/devices/mmc0:4567/uevent', 'MMC_TYPE=SD\nMMC_NAME=QEMU!\nMODALIAS=mmc:block\n');
    fake.on(['modprobe'], {});
    const log = { log: async (message: string) => fake.write(`${message}\n`) };
    expect(await new KernelModules(fake, log).coldplug()).toEqual(['mmc_block']);
  });
});
