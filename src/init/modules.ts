// Loads kernel modules: the image's boot list, the drivers the machine's devices ask for (coldplug), and b2c.modules.

import { ADDON_ALIASES_FOLDER, BOOT_MODULES_LIST, MODULE_INDEX_FILES, MODULE_INDEXES_FOLDER, MODULES_ROOT } from '../image-layout.ts';
import type { System } from '../system/system.ts';
import type { Log } from './console.ts';
import { canonicalModuleName, parseSoftDependencies, type SoftDependencies } from '../module-index.ts';
import { indexAliases, modulesForDevices, parseModulesAlias, type AliasIndex } from './modules-plan.ts';

/** Where each modprobe's words go while it runs, to be read once it ends: /run is the init's own tmpfs. */
const MODPROBE_OUTPUT_FOLDER = '/run';

/** The CPU's modalias (its vendor, family and features), which is on no bus. */
const CPU_MODALIAS = '/sys/devices/system/cpu/modalias';

export class KernelModules {
  private readonly loaded = new Set<string>();
  private readonly seenModaliases = new Set<string>();
  private aliases: AliasIndex | undefined;
  /** Each add-on's aliases and archive file name, read the first time a device without a driver is looked up. */
  private addonAliases: Map<string, { file: string; aliases: AliasIndex }> | undefined;
  private softdeps: Map<string, SoftDependencies> | undefined;
  /** The archives whose module indexes were joined: the image's, and each add-on's that was loaded. */
  private archives: string[] = [];
  /** null until looked up. */
  private modulesFolder: string | undefined | null = null;

  constructor(
    private readonly system: System,
    private readonly console: Log,
  ) {}

  /** Loads what the image lists, then what the devices match (coldplug), then what the command line names. */
  async loadModules(requested: readonly string[]): Promise<void> {
    if ((await this.modulesDirectory()) === undefined) {
      await this.loadNamed(requested);
      return;
    }
    const bootList = ((await this.system.readText(BOOT_MODULES_LIST)) ?? '').split('\n').filter((name) => name !== '');
    // The boot list loads along with the first pass, and the second pass is for devices found through a driver either loaded.
    const first = await this.coldplug(bootList);
    if (first.length > 0 || bootList.length > 0) await this.coldplug();
    await this.load(requested.map((name) => [name]));
  }

  /** Loads modules named later (by the extra arguments); those already loaded are skipped. */
  async loadNamed(names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    if ((await this.modulesDirectory()) === undefined) {
      await this.console.log(`Warning: b2c.modules (${names.join(', ')}) cannot be loaded: the image has no modules for this kernel`);
      return;
    }
    await this.load(names.map((name) => [name]));
  }

  /**
   * Loads the drivers that devices which appeared since the last call ask
   * for, and returns their names. Also called while waiting for a disk, since
   * no udev loads a driver for a device that shows up late. `alongside` are
   * modules to load at the same time (the boot list).
   */
  async coldplug(alongside: readonly string[] = []): Promise<string[]> {
    const aliases = await this.aliasIndex();
    if (aliases === undefined) return [];
    const modaliases = (await this.readModaliases()).filter((modalias) => !this.seenModaliases.has(modalias));
    for (const modalias of modaliases) this.seenModaliases.add(modalias);
    // One chain per device, its drivers in modules.alias order: the first to load binds it, as when they loaded one by one.
    const claimed = new Set([...this.loaded, ...alongside]);
    const chains: string[][] = [];
    for (const modalias of modaliases) {
      const chain = modulesForDevices(aliases, [modalias]).filter((name) => !claimed.has(name));
      for (const name of chain) claimed.add(name);
      if (chain.length > 0) chains.push(chain);
    }
    const drivers = chains.flat();
    if (drivers.length > 0) await this.console.log(`Loading the drivers of this machine's devices: ${drivers.join(', ')}`);
    await this.load([...alongside.map((name) => [name]), ...chains]);
    return drivers;
  }

  /** The modules of the image (and its add-ons) whose aliases match a device's modalias. */
  async modulesMatching(modalias: string): Promise<string[]> {
    const aliases = await this.aliasIndex();
    return aliases === undefined ? [] : modulesForDevices(aliases, [modalias]);
  }

  /** The joined modules.alias, read once; undefined without modules for this kernel. */
  private async aliasIndex(): Promise<AliasIndex | undefined> {
    const directory = await this.modulesDirectory();
    if (directory === undefined) return undefined;
    this.aliases ??= indexAliases(parseModulesAlias((await this.system.readText(`${directory}/modules.alias`)) ?? ''));
    return this.aliases;
  }

  /** The add-ons this machine was booted without that have a module for a device's modalias, with those modules. */
  async addonsMatching(modalias: string): Promise<Array<{ addon: string; file: string; modules: string[] }>> {
    const directory = await this.modulesDirectory();
    if (directory === undefined) return [];
    if (this.addonAliases === undefined) {
      this.addonAliases = new Map();
      for (const addon of await this.system.listDir(`${directory}/${ADDON_ALIASES_FOLDER}`)) {
        if (this.archives.includes(addon)) continue;
        const text = (await this.system.readText(`${directory}/${ADDON_ALIASES_FOLDER}/${addon}`)) ?? '';
        this.addonAliases.set(addon, { file: /^# (\S+)/.exec(text)?.[1] ?? `the ${addon} add-on`, aliases: indexAliases(parseModulesAlias(text)) });
      }
    }
    const matching = [];
    for (const [addon, { file, aliases }] of this.addonAliases) {
      const modules = modulesForDevices(aliases, [modalias]);
      if (modules.length > 0) matching.push({ addon, file, modules });
    }
    return matching;
  }

  /**
   * The running kernel's modules folder; undefined, said once, for a farm's
   * own kernel that this image has no modules for.
   */
  private async modulesDirectory(): Promise<string | undefined> {
    if (this.modulesFolder !== null) return this.modulesFolder;
    const release = ((await this.system.readText('/proc/sys/kernel/osrelease')) ?? '').trim();
    const directory = `${MODULES_ROOT}/${release}`;
    const indexes = await this.joinIndexes(directory);
    this.archives = indexes;
    const addons = indexes.filter((name) => name !== 'image');
    if (addons.length > 0) await this.console.log(`Kernel modules from the add-ons: ${addons.join(', ')}`);
    if (await this.system.exists(`${directory}/modules.dep`)) {
      this.modulesFolder = directory;
    } else {
      this.modulesFolder = undefined;
      await this.console.log(`This image has no modules for the running kernel ${release}: going on with the drivers built into it`);
    }
    return this.modulesFolder;
  }

  /**
   * Writes the index files modprobe reads from those each archive brought
   * (the image's, and each add-on's), in whatever order the bootloader gave
   * the archives; returns their names.
   */
  private async joinIndexes(directory: string): Promise<string[]> {
    const names = await this.system.listDir(`${directory}/${MODULE_INDEXES_FOLDER}`);
    if (names.length === 0) return [];
    for (const file of MODULE_INDEX_FILES) {
      const parts = await Promise.all(names.map(async (name) => (await this.system.readText(`${directory}/${MODULE_INDEXES_FOLDER}/${name}/${file}`)) ?? ''));
      await this.system.writeText(`${directory}/${file}`, parts.join(''));
    }
    return names;
  }

  /**
   * Loads chains of modules: the chains at once, one modprobe per chain at a
   * time, in rounds. A driver's probe that waits on hardware (a SATA link, a
   * PHY) then leaves the CPU to the other chains' modprobes instead of
   * holding up the boot. Each module comes with its soft dependencies around
   * it, as kmod's modprobe would load them: busybox's does not read
   * modules.softdep, and a MAC driver such as r8169 needs its PHY driver
   * loaded first to bind its PHY. Modules already loaded are skipped.
   */
  private async load(chains: ReadonlyArray<readonly string[]>): Promise<void> {
    const directory = await this.modulesDirectory();
    this.softdeps ??= parseSoftDependencies(directory === undefined ? '' : ((await this.system.readText(`${directory}/modules.softdep`)) ?? ''));
    const steps = chains.map((chain) => chain.flatMap((name) => this.withSoftDependencies(name, false)));
    for (let round = 0; ; round++) {
      const now = steps.map((chain) => chain[round]).filter((step) => step !== undefined);
      if (now.length === 0) return;
      const running = [];
      for (const step of now) {
        const output = `${MODPROBE_OUTPUT_FOLDER}/modprobe-${step.name}`;
        running.push({ ...step, output, program: await this.system.start(['modprobe', step.name], { outputFile: output }) });
      }
      for (const { name, soft, output, program } of running) {
        const status = await program.wait();
        const said = ((await this.system.readText(output)) ?? '').trim();
        await this.system.remove(output).catch(() => undefined);
        // A soft dependency may be missing on purpose (an alias nothing in the image provides): the module works without it.
        if (status !== 0 && !soft) await this.console.log(`Could not load the module ${name}: ${said || `status ${status}`}`);
      }
    }
  }

  /** The module after its soft dependencies' `pre` and before their `post`, each once in the boot; empty when it was loaded already. */
  private withSoftDependencies(name: string, soft: boolean): Array<{ name: string; soft: boolean }> {
    if (this.loaded.has(name)) return [];
    this.loaded.add(name);
    const softdeps = this.softdeps?.get(canonicalModuleName(name));
    if (softdeps === undefined) return [{ name, soft }];
    return [
      ...softdeps.pre.flatMap((pre) => this.withSoftDependencies(pre, true)),
      { name, soft },
      ...softdeps.post.flatMap((post) => this.withSoftDependencies(post, true)),
    ];
  }

  /**
   * Every device's modalias, as the kernel wrote them: those of the devices
   * on each bus, and the CPU's, whose features select drivers such as
   * crc32c_intel. Walking all of /sys/devices would find the same ones, but
   * it visits every attribute file, which takes seconds under emulation.
   */
  private async readModaliases(): Promise<string[]> {
    const paths = [CPU_MODALIAS];
    for (const bus of await this.system.listDir('/sys/bus')) {
      for (const device of await this.system.listDir(`/sys/bus/${bus}/devices`)) paths.push(`/sys/bus/${bus}/devices/${device}/modalias`);
    }
    const modaliases: string[] = [];
    for (const path of paths) {
      let modalias = ((await this.system.readText(path)) ?? '').trim();
      // Some buses (mmc: an SD card's `mmc:block`) give their modalias only in the uevent.
      if (modalias === '' && path !== CPU_MODALIAS)
        modalias = /^MODALIAS=(.*)$/m.exec((await this.system.readText(path.replace(/modalias$/, 'uevent'))) ?? '')?.[1] ?? '';
      if (modalias !== '') modaliases.push(modalias);
    }
    return modaliases;
  }
}
