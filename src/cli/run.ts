// `b2c run`: boots a kernel and initramfs in QEMU, streams the console, and exits with the pipeline status.

import { InvalidArgumentError, type Command } from 'commander';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { normalizeMac } from '../mac.ts';
import { architecture } from '../architectures.ts';
import { outputNames } from '../image/output-names.ts';
import { concatenateArchives } from '../vm/initrd.ts';
import { prepareUefiFirmware, UEFI_ARCHITECTURES, type UefiFirmware } from '../vm/firmware.ts';
import { bootMachine, checkHostTools, chooseAccelerator, HostToolError } from '../vm/machine.ts';
import { describeOutcome, exitCodeOf, RUN_EXIT } from '../vm/outcome.ts';
import { formatRunTimes, runTimes } from '../vm/run-times.ts';
import { BOARDS, boardFor, type Board } from '../vm/boards.ts';
import {
  boardProblem,
  DEFAULT_NIC_MODEL,
  DISK_BUSES,
  diskBusProblem,
  FIRMWARES,
  FORWARD_ADDRESS,
  HOTPLUG_PORT,
  parseNics,
  type DiskBus,
  type Nic,
  type VmSpec,
} from '../vm/qemu.ts';
import { describeError } from '../errors.ts';
import { ExitError } from './errors.ts';
import { B2C_VERSION } from './version.ts';
import { collect } from './options.ts';
import { acceleratorMemo, hostCacheDir } from '../host-cache.ts';
import { parseLocalImage, type LocalImageSource } from '../vm/local-images-plan.ts';
import type { LocalImages } from '../vm/local-images.ts';

/** Debian trixie's QEMU for a board the host's does not have, fetched into the host cache the first time. */
async function boardQemu(board: Board, qemu: NonNullable<Board['trixieQemu']>): Promise<string[]> {
  process.stderr.write(`b2c: ${board.name} is a board of Debian trixie's QEMU: using ${qemu.package} from the host cache (fetched the first time)\n`);
  try {
    // Loaded here: the apt code stays out of every other `b2c run`.
    const { DebianTools } = await import('../debian/tools.ts');
    return (await DebianTools.prepare([qemu.package])).command(qemu.package, qemu.program);
  } catch (error) {
    throw new HostToolError(`cannot fetch Debian trixie's ${qemu.package} for ${board.name}: ${describeError(error)}`);
  }
}

function macOption(value: string): string {
  const mac = normalizeMac(value);
  if (mac === undefined) throw new InvalidArgumentError(`${value} is not a MAC address such as 52:54:00:12:34:56`);
  if (parseInt(mac.slice(0, 2), 16) % 2 === 1) throw new InvalidArgumentError(`${value} is a multicast address: a card's first byte is even`);
  return mac;
}

function firmware(value: string): 'bios' | 'uefi' {
  if (value !== 'bios' && value !== 'uefi') throw new InvalidArgumentError(`choose ${FIRMWARES.join(' or ')}`);
  return value;
}

function positiveInteger(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) <= 0) throw new InvalidArgumentError(`${value} is not a positive whole number`);
  return Number(value);
}

function port(value: string, previous: number[] = []): number[] {
  const number = positiveInteger(value);
  if (number > 65535) throw new InvalidArgumentError(`${value} is not a TCP port`);
  return [...previous, number];
}

function nics(value: string): Nic[] {
  const parsed = parseNics(value);
  if (typeof parsed === 'string') throw new InvalidArgumentError(parsed);
  return parsed;
}

function diskBus(value: string): DiskBus {
  const bus = DISK_BUSES.find((known) => known === value);
  if (bus === undefined) throw new InvalidArgumentError(`choose ${DISK_BUSES.join(', ')}`);
  return bus;
}

/** A QEMU device name: the model is checked by QEMU itself, which names its own models best. */
function nicModel(value: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(value))
    throw new InvalidArgumentError('give a QEMU network device model, e.g. e1000e (qemu-system-x86_64 -device help lists them)');
  return value;
}

function rtcBase(value: string): string {
  if (!/^\d{4}-\d\d-\d\d(T\d\d:\d\d:\d\d)?$/.test(value)) throw new InvalidArgumentError(`${value} is not a date such as 2001-01-01 or 2001-01-01T00:00:00`);
  return value;
}

function accel(value: string): 'auto' | 'kvm' | 'tcg' {
  if (value !== 'auto' && value !== 'kvm' && value !== 'tcg') throw new InvalidArgumentError('choose auto, kvm or tcg');
  return value;
}

interface RunOptions {
  arch: string;
  kernel?: string;
  initrd?: string;
  addon: string[];
  out: string;
  memory: number;
  cpus: number;
  accel: 'auto' | 'kvm' | 'tcg';
  disk: string[];
  forward: number[];
  forwarder: string;
  timeout: number;
  qmp?: string;
  network: Nic[];
  nicModel: string;
  diskBus: DiskBus;
  rtcBase?: string;
  board?: string;
  dtb?: string;
  netboot: boolean;
  firmware?: 'bios' | 'uefi';
  mac?: string;
  image: string[];
  kernelTree?: string;
}

/** Makes the host's images of --image available to the guest, saying what moved; the registry to stop afterwards and its drop-in archive. */
async function prepareLocalImages(sources: readonly LocalImageSource[], machineArchitecture: string): Promise<{ images: LocalImages; dropIn: string }> {
  // Loaded here: the registry and its Debian package stay out of every run without --image.
  const { LocalImages, PREFERRED_PORT } = await import('../vm/local-images.ts');
  const started = Date.now();
  process.stderr.write("b2c: --image: starting b2c run's registry (Debian's docker-registry, its storage in the host cache)\n");
  const images = await LocalImages.start(hostCacheDir());
  if (images.port !== PREFERRED_PORT)
    process.stderr.write(`b2c: --image: port ${PREFERRED_PORT} is taken (another b2c run?): on ${images.port}, podman sends every layer again\n`);
  try {
    for (const source of sources) {
      const what = source.kind === 'storage' ? source.name : `${source.kind}:${source.path}`;
      process.stderr.write(`b2c: --image: making ${what} available\n`);
      const report = await images.add(source, machineArchitecture);
      const kept = report.blobsKept === 0 ? '' : `, ${report.blobsKept} already there`;
      const layers = `${report.layersMoved} ${report.layersMoved === 1 ? 'layer' : 'layers'}`;
      process.stderr.write(`b2c: --image: ${report.name}: ${layers} moved (${(report.bytesMoved / 1e6).toFixed(1)} MB)${kept}\n`);
    }
    const dropIn = await images.dropInArchive(`${FORWARD_ADDRESS}:${images.port}`);
    process.stderr.write(`b2c: --image: ready in ${((Date.now() - started) / 1000).toFixed(1)} s, at ${FORWARD_ADDRESS}:${images.port} for the guest\n`);
    return { images, dropIn };
  } catch (error) {
    await images.stop();
    throw error;
  }
}

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('boot a kernel and initramfs in a local QEMU VM and exit with the pipeline status')
    .argument('[cmdline...]', 'kernel command line words, e.g. b2c.container="docker://10.0.2.100:5000/img:1"')
    .option('--arch <arch>', 'architecture of the kernel and initramfs', 'amd64')
    .option('--kernel <file>', 'kernel image (default: OUT/linux-ARCH)')
    .option('--initrd <file>', 'initramfs (default: OUT/initramfs.linux_ARCH.cpio.xz)')
    .option('--addon <file>', 'an add-on archive loaded after the initramfs (e.g. OUT/linux-ARCH.modules.cpio.xz); repeatable, in order', collect, [])
    .option('--out <dir>', 'where b2c build wrote its output', 'out')
    .option('--memory <MiB>', 'guest memory in MiB', positiveInteger, 2048)
    .option('--cpus <n>', 'guest CPUs', positiveInteger, 2)
    .option('--accel <auto|kvm|tcg>', 'auto: KVM only when a quick probe shows it is fast', accel, 'auto')
    .option('--disk <file>', 'a raw (or .qcow2) disk image, as a virtio disk; repeatable; writes persist', collect, [])
    .option('--disk-bus <bus>', `what the disks hang on: ${DISK_BUSES.join(', ')} (sd: one SD card on an SDHCI controller)`, diskBus, 'virtio')
    .option('--forward <port>', `make 127.0.0.1:PORT reachable from the guest at ${FORWARD_ADDRESS}:PORT; repeatable`, port, [])
    .option('--forwarder <busybox>', 'busybox binary that carries forwarded connections', 'busybox')
    .option('--timeout <seconds>', 'stop the machine after this long', positiveInteger, 600)
    .option(
      '--network <cards>',
      'network cards, comma-separated: user (restricted to the forwards), nat (what the host reaches), tap=IFNAME (an existing tap), or none',
      nics,
      [{ kind: 'user' }],
    )
    .option(
      '--nic-model <model>',
      'the QEMU model of the network cards, e.g. e1000e, rtl8139, usb-net (USB cards get an xHCI controller)',
      nicModel,
      DEFAULT_NIC_MODEL,
    )
    .option('--rtc-base <date>', "what the guest's clock says at power on (UTC), e.g. 2001-01-01", rtcBase)
    .option('--board <name>', `boot a board QEMU emulates, with its device tree, instead of the virt machine (${Object.keys(BOARDS).join(', ')})`)
    .option('--dtb <file>', "the board's device tree (default: OUT/linux-ARCH.dtbs/, from b2c build --addons dtbs)")
    .option('--netboot', 'boot through the firmware from the network (b2c serve), as a farm machine does: no kernel, initramfs or command line given', false)
    .option('--firmware <bios|uefi>', "with --netboot: SeaBIOS with the card's iPXE, or UEFI (OVMF on amd64, AAVMF on arm64) with its own PXE", firmware)
    .option('--mac <address>', "the first card's MAC address (the others follow it), which a netboot server knows the machine by", macOption)
    .option(
      '--kernel-tree <dir>',
      'a kernel tree built with make: boots its arch/…/boot image with its modules (the image is made for it, and kept while they do not change)',
    )
    .option(
      '--image <source>',
      "an image of the host's podman storage (localhost/NAME:TAG), docker-archive:PATH[:NAME] or oci-archive:PATH:NAME that the line names; repeatable",
      collect,
      [],
    )
    .option('--qmp <socket>', `serve QEMU's QMP on this unix socket, with a PCIe port (${HOTPLUG_PORT}) to hot-plug disks into`)
    .addHelpText(
      'after',
      `
With --network user (the default), the guest reaches nothing but the forwarded
ports (QEMU user networking with restrict=on). With --network nat, it reaches
whatever the host reaches (docker.io, the host's LAN, the host itself at
10.0.2.2), through QEMU's NAT: for a developer's own machine, not a test host.
A tap card is only as isolated as the host side of the tap: put it in a
network namespace of its own.

Exit status: the pipeline status the machine printed, or
  ${RUN_EXIT.guestCrash}  the guest kernel crashed (oops or panic; the lines are on stderr)
  ${RUN_EXIT.timeout}  no pipeline status before --timeout
  ${RUN_EXIT.noStatus}  the machine stopped without printing a pipeline status
  ${RUN_EXIT.hostProblem}  QEMU could not run (a missing tool or file, named on stderr)`,
    )
    .action(async (words: string[], options: RunOptions, command: Command) => {
      const commandStarted = Date.now();
      const arch = architecture(options.arch);
      const names = outputNames(arch.debian);
      const spec: VmSpec = {
        arch,
        kernel: resolve(options.kernel ?? join(options.out, names.kernel)),
        initrd: resolve(options.initrd ?? join(options.out, names.initramfs.xz)),
        cmdline: words.join(' '),
        memoryMiB: options.memory,
        cpus: options.cpus,
        accel: 'tcg',
        disks: options.disk.map((disk) => resolve(disk)),
        forwards: options.forward,
        forwarder: options.forwarder,
        nics: options.network,
        nicModel: options.nicModel,
        diskBus: options.diskBus,
        ...(options.rtcBase !== undefined ? { rtcBase: options.rtcBase } : {}),
        ...(options.qmp !== undefined ? { qmpSocket: resolve(options.qmp) } : {}),
        ...(options.mac !== undefined ? { mac: options.mac } : {}),
      };
      if (options.firmware !== undefined && !options.netboot) throw new ExitError(2, '--firmware goes with --netboot');
      if (options.netboot) {
        if (words.length > 0) throw new ExitError(2, `--netboot takes its command line from the server: leave out ${words.join(' ')}`);
        if (options.kernel !== undefined || options.initrd !== undefined || options.addon.length > 0)
          throw new ExitError(2, '--netboot takes its kernel and archives from the server: leave out --kernel, --initrd and --addon');
        const uefiOnly = arch.debian !== 'amd64';
        if (uefiOnly && !UEFI_ARCHITECTURES.includes(arch.debian))
          throw new ExitError(2, `--netboot boots ${[...new Set(['amd64', ...UEFI_ARCHITECTURES])].join(' and ')} machines; ${arch.debian} is not done yet`);
        if (uefiOnly && options.firmware !== 'uefi') throw new ExitError(2, `an ${arch.debian} machine netboots through UEFI: add --firmware uefi`);
        // QEMU's user network answers DHCP itself, with no boot file: the machine would wait for its timeout.
        if (!spec.nics.some((nic) => nic.kind === 'tap')) throw new ExitError(2, "--netboot needs a card on the server's LAN: give --network tap=IF");
        spec.netboot = { firmware: 'bios' };
      }
      if (options.dtb !== undefined && options.board === undefined) throw new ExitError(2, '--dtb goes with --board');
      if (options.board !== undefined) {
        const board = boardFor(options.board, arch);
        if (typeof board === 'string') throw new ExitError(2, `--board: ${board}`);
        // The virt machine's default RAM is more than most boards have: a board gets what it has unless told less.
        if (command.getOptionValueSource('memory') === 'default') spec.memoryMiB = board.maxMemoryMiB;
        if (command.getOptionValueSource('cpus') === 'default') spec.cpus = board.cpus;
        spec.board = { board, dtb: resolve(options.dtb ?? join(options.out, names.addons.dtbs, board.dtb)) };
        const problem = boardProblem(spec);
        if (problem !== undefined) throw new ExitError(2, `--board ${board.name}: ${problem}`);
      }
      const busProblem = diskBusProblem(spec.diskBus, spec.disks.length);
      if (busProblem !== undefined) throw new ExitError(2, `--disk-bus ${spec.diskBus}: ${busProblem}`);
      const imageSources = options.image.map((text) => {
        const source = parseLocalImage(text);
        if (typeof source === 'string') throw new ExitError(2, `--image ${source}`);
        return source;
      });
      if (imageSources.length > 0 && spec.netboot !== undefined) throw new ExitError(2, '--image goes to a machine b2c run boots itself: leave out --netboot');
      if (imageSources.length > 0 && !spec.nics.some((nic) => nic.kind === 'user'))
        throw new ExitError(2, '--image needs a user network card (--network user, the default): the guest reaches the images through it');
      if (options.kernelTree !== undefined && (options.kernel !== undefined || options.initrd !== undefined || options.netboot))
        throw new ExitError(2, '--kernel-tree gives the kernel and the archives: leave out --kernel, --initrd and --netboot');
      let localImages: LocalImages | undefined;
      let concatenated: Awaited<ReturnType<typeof concatenateArchives>> | undefined;
      let uefi: UefiFirmware | undefined;
      try {
        let treeAddons: string[] = [];
        if (options.kernelTree !== undefined) {
          // Loaded here: the image builder stays out of every other b2c run.
          const { prepareKernelTree } = await import('../vm/kernel-tree.ts');
          const say = (line: string): void => void process.stderr.write(`b2c: ${line}\n`);
          const tree = await prepareKernelTree(options.kernelTree, arch, { cacheDir: hostCacheDir(), version: B2C_VERSION, say });
          spec.kernel = tree.kernel;
          spec.initrd = tree.initrds[0] as string;
          treeAddons = tree.initrds.slice(1);
        }
        checkHostTools(spec);
        if (spec.netboot !== undefined && options.firmware === 'uefi') {
          uefi = await prepareUefiFirmware(arch);
          spec.netboot = { firmware: 'uefi', code: uefi.code, vars: uefi.vars };
        }
        const trixieQemu = spec.board?.board.trixieQemu;
        if (spec.board !== undefined && trixieQemu !== undefined) spec.qemuCommand = await boardQemu(spec.board.board, trixieQemu);
        const archives = [...treeAddons, ...options.addon.map((addon) => resolve(addon))];
        if (imageSources.length > 0) {
          const prepared = await prepareLocalImages(imageSources, arch.oci.architecture);
          localImages = prepared.images;
          spec.forwards = [...spec.forwards, prepared.images.port];
          archives.push(prepared.dropIn);
        }
        if (archives.length > 0) {
          concatenated = await concatenateArchives([spec.initrd, ...archives]).catch((error: unknown) => {
            throw new ExitError(RUN_EXIT.hostProblem, `the add-on ${describeError(error)}`);
          });
          spec.initrd = concatenated.path;
        }
        // A board's SoC is emulated whole: its arguments are TCG's.
        if (spec.board !== undefined && options.accel === 'kvm')
          throw new ExitError(2, `--board ${spec.board.board.name} runs under software emulation: leave out --accel kvm`);
        // The accelerator probe boots the kernel, which a netbooting machine does not have here.
        const probeless = spec.board !== undefined || (spec.netboot !== undefined && options.accel === 'auto');
        spec.accel = probeless ? 'tcg' : await chooseAccelerator(options.accel, spec, acceleratorMemo());
        const what =
          spec.netboot === undefined
            ? spec.kernel
            : `from the network through ${spec.netboot.firmware === 'uefi' ? "UEFI (Debian's EDK II)" : 'BIOS (SeaBIOS, iPXE)'}`;
        process.stderr.write(`b2c: booting ${what} with ${spec.accel === 'kvm' ? 'KVM' : 'software emulation (TCG)'}\n`);
        // The console goes to stdout as it comes, and is kept for the summary of where the time went.
        let consoleText = '';
        const output = new Writable({
          write(chunk: Buffer, _encoding, done) {
            consoleText += chunk.toString();
            process.stdout.write(chunk, () => done());
          },
        });
        const preparing = (Date.now() - commandStarted) / 1000;
        const result = await bootMachine(spec, { timeoutSeconds: options.timeout, output });
        process.stderr.write(`b2c: ${describeOutcome(result.outcome)} (${result.seconds.toFixed(1)} s)\n`);
        process.stderr.write(`b2c: time: ${formatRunTimes(runTimes(consoleText, preparing, result.seconds))}\n`);
        throw new ExitError(exitCodeOf(result.outcome));
      } catch (error) {
        if (error instanceof HostToolError) throw new ExitError(RUN_EXIT.hostProblem, error.message);
        throw error;
      } finally {
        await concatenated?.remove();
        await uefi?.remove();
        await localImages?.stop();
      }
    });
}
