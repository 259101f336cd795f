// Loads kernel modules: the image's boot list, the drivers the machine's devices ask for (coldplug), and b2c.modules.

import { ADDON_ALIASES_FOLDER, BOOT_MODULES_LIST, MODULE_INDEX_FILES, MODULE_INDEXES_FOLDER, MODULES_ROOT } from '../image-layout.ts';
import type { RunningProgram, System } from '../system/system.ts';
import type { Log } from './console.ts';
import { canonicalModuleName, parseSoftDependencies, type SoftDependencies } from '../module-index.ts';
import { indexAliases, modulesForDevices, parseModulesAlias, type AliasIndex } from './modules-plan.ts';

/** Where each modprobe's words go while it runs, to be read once it ends: /run is the init's own tmpfs. */
const MODPROBE_OUTPUT_FOLDER = '/run';
/** The longest wait between looks at running modprobes, should the signal of one's end come in the gap QuickJS leaves. */
const MODPROBE_POLL_MS = 100;

/** One modprobe: a soft dependency's failure is not reported (it may be missing on purpose). */
interface ModuleStep {
  name: string;
  soft: boolean;
}

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

  /** Loads what the image lists along with what the devices match (coldplug), then what the command line names. */
  async loadModules(requested: readonly string[]): Promise<void> {
    if ((await this.modulesDirectory()) === undefined) {
      await this.loadNamed(requested);
      return;
    }
    const bootList = ((await this.system.readText(BOOT_MODULES_LIST)) ?? '').split('\n').filter((name) => name !== '');
    // The boot list loads along with the first pass, so the second looks for devices found through a driver either loaded.
    const first = await this.coldplug(bootList);
    if (first.length > 0 || bootList.length > 0) await this.coldplug();
    await this.load([requested]);
  }

  /** Loads modules named later (by the extra arguments), in their order; those already loaded are skipped. */
  async loadNamed(names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    if ((await this.modulesDirectory()) === undefined) {
      await this.console.log(`Warning: b2c.modules (${names.join(', ')}) cannot be loaded: the image has no modules for this kernel`);
      return;
    }
    await this.load([names]);
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
    // One chain per device, its drivers in modules.alias order, so that the first binds it as when they loaded one by one.
    const chains = modaliases.map((modalias) => modulesForDevices(aliases, [modalias]).filter((name) => !this.loaded.has(name)));
    const drivers = [...new Set(chains.flat())].filter((name) => !alongside.includes(name));
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
   * Loads chains of modules, the chains side by side and each chain's
   * modules one after the other: a driver's probe that waits on hardware (a
   * SATA link, a PHY) then holds up only its own chain. Each module comes
   * after its soft dependencies' `pre` and before their `post`, as kmod's
   * modprobe would load them: busybox's does not read modules.softdep, and a
   * MAC driver such as r8169 needs its PHY driver loaded first to bind its
   * PHY. Modules already loaded are skipped.
   */
  private async load(chains: ReadonlyArray<readonly string[]>): Promise<void> {
    const directory = await this.modulesDirectory();
    this.softdeps ??= parseSoftDependencies(directory === undefined ? '' : ((await this.system.readText(`${directory}/modules.softdep`)) ?? ''));
    const running: Array<{ step: ModuleStep; chain: ModuleStep[]; output: string; program: RunningProgram }> = [];
    const startNext = async (chain: ModuleStep[]): Promise<void> => {
      const step = chain.shift();
      if (step === undefined) return;
      const output = `${MODPROBE_OUTPUT_FOLDER}/modprobe-${step.name}`;
      running.push({ step, chain, output, program: await this.system.start(['modprobe', step.name], { outputFile: output }) });
    };
    try {
      for (const chain of this.planChains(chains)) await startNext(chain);
      while (running.length > 0) {
        await this.system.waitForAny(
          running.map((entry) => entry.program),
          MODPROBE_POLL_MS,
        );
        for (const entry of running.filter((candidate) => candidate.program.poll() !== undefined)) {
          running.splice(running.indexOf(entry), 1);
          await this.reportModprobe(entry.step, await entry.program.wait(), entry.output);
          await startNext(entry.chain);
        }
      }
    } finally {
      // Only when something threw: no modprobe is left to end unwaited, or its words in /run.
      for (const entry of running) await this.reportModprobe(entry.step, await entry.program.wait(), entry.output);
    }
  }

  private async reportModprobe(step: ModuleStep, status: number, output: string): Promise<void> {
    const said = ((await this.system.readText(output)) ?? '').trim();
    await this.system.remove(output).catch(() => undefined);
    // A soft dependency may be missing on purpose (an alias nothing in the image provides): the module works without it.
    if (status !== 0 && !step.soft) await this.console.log(`Could not load the module ${step.name}: ${said || `status ${status}`}`);
  }

  /**
   * The chains as they will load, each module once. A chain that meets a
   * module another chain of the same call loads goes after that chain: two
   * devices that share a driver keep their drivers' order, and a module
   * whose `pre` dependency another chain loads waits for it.
   */
  private planChains(chains: ReadonlyArray<readonly string[]>): ModuleStep[][] {
    const planned: ModuleStep[][] = [];
    const chainOf = new Map<string, ModuleStep[]>();
    for (const chain of chains) {
      let after: ModuleStep[] | undefined;
      const steps = chain.flatMap((name) => this.withSoftDependencies(name, false, (met) => (after ??= chainOf.get(met))));
      const target = after ?? [];
      target.push(...steps);
      if (after === undefined && target.length > 0) planned.push(target);
      for (const step of steps) chainOf.set(step.name, target);
    }
    return planned;
  }

  /**
   * The module after its soft dependencies' `pre` and before their `post`,
   * each once in the boot; `met` is told of each one already loaded or
   * planned, which is then left out.
   */
  private withSoftDependencies(name: string, soft: boolean, met: (name: string) => void): ModuleStep[] {
    if (this.loaded.has(name)) {
      met(name);
      return [];
    }
    this.loaded.add(name);
    const softdeps = this.softdeps?.get(canonicalModuleName(name));
    if (softdeps === undefined) return [{ name, soft }];
    return [
      ...softdeps.pre.flatMap((pre) => this.withSoftDependencies(pre, true, met)),
      { name, soft },
      ...softdeps.post.flatMap((post) => this.withSoftDependencies(post, true, met)),
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
