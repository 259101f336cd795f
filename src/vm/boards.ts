// Boards QEMU emulates with their own SoC and device tree: the image's SoC glue and a MAC's PHY, tested without the board.

import type { Architecture } from '../architectures.ts';

export interface Board {
  /** The name `b2c run --board` takes. */
  name: string;
  /** Debian's name of the architecture whose kernel boots it. */
  arch: string;
  /** QEMU's machine arguments. */
  machine: string[];
  /** The board's device tree, as Debian's kernel package names it below its dtbs folder. */
  dtb: string;
  /** The console= of the board's console UART (see consoleSerial), which differs from the architecture's virt machine. */
  console: string;
  /** The cores QEMU gives the board (-smp): all the SoC's where QEMU's board takes no other count, fewer where it does. */
  cpus: number;
  /** The most RAM the board's memory map has. */
  maxMemoryMiB: number;
  /** What the board's own network card is, for the user. */
  network: string;
  /** Kernel parameters the board boots with, after the console's. */
  kernelArgs: string[];
  /** Which of QEMU's serial ports (in the SoC's UART order) is the console; the ones before it go nowhere. */
  consoleSerial: number;
  /** A QEMU from Debian trixie, run through its own loader, for a board the host's QEMU does not have. */
  trixieQemu?: { package: string; program: string };
}

export const BOARDS: Record<string, Board> = {
  // Allwinner H3: the EMAC is dwmac-sun8i with the internal PHY behind its MDIO mux, the SoC glue armhf's image ships.
  'orangepi-pc': {
    name: 'orangepi-pc',
    arch: 'armhf',
    machine: ['-machine', 'orangepi-pc'],
    dtb: 'sun8i-h3-orangepi-pc.dtb',
    console: 'ttyS0',
    cpus: 4,
    maxMemoryMiB: 1024,
    network: 'the H3 EMAC (dwmac-sun8i) and its internal PHY',
    // QEMU gives the H3 its four cores, each a host thread: on a busy 2-core host, stop_machine (module loading) then waits on
    // the others long enough for the soft-lockup watchdog. One online core boots the same SoC without that.
    kernelArgs: ['maxcpus=1'],
    consoleSerial: 0,
  },
  // NXP i.MX 8M Plus: the ENET is fec with its PHY on the MAC's own MDIO bus, and its MAC address is read from the OCOTP fuses.
  'imx8mp-evk': {
    name: 'imx8mp-evk',
    arch: 'arm64',
    machine: ['-machine', 'imx8mp-evk'],
    dtb: 'freescale/imx8mp-evk.dtb',
    // The EVK's console is UART2; UART1 carries the Bluetooth module.
    console: 'ttymxc1,115200',
    // The SoC has four cores; QEMU starts the others powered off, and one host thread keeps the soft-lockup watchdog quiet as on orangepi-pc.
    cpus: 1,
    maxMemoryMiB: 3072,
    network: 'the ENET (fec) and the PHY on its MDIO bus',
    // The device tree's CPU idle states ask PSCI for a suspend QEMU's board does not give, and the first idle CPU never wakes.
    kernelArgs: ['cpuidle.off=1'],
    consoleSerial: 1,
    trixieQemu: { package: 'qemu-system-arm', program: 'usr/bin/qemu-system-aarch64' },
  },
};

/** The board of that name, or a message naming the boards there are; one of another architecture is refused. */
export function boardFor(name: string, arch: Architecture): Board | string {
  const board = BOARDS[name];
  if (board === undefined) return `${name} is not a board b2c boots (${Object.keys(BOARDS).join(', ')})`;
  if (board.arch !== arch.debian) return `${name} is an ${board.arch} board: add --arch ${board.arch}`;
  return board;
}
