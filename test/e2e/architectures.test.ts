// The other architectures in real VMs under their own QEMU: each built from Debian's packages, each pulling its own platform from one multi-arch reference.
//
// amd64 gets the full suite; here each other architecture gets one build and
// one boot of the basic pipeline, which keeps the run within CI's time.

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { architecture } from '../../src/architectures.ts';
import { outputNames } from '../../src/image/output-names.ts';
import { bootB2c, expectCleanEnd, runB2c, step } from './boot.ts';
import { blankDisk } from './disks.ts';
import { expectModulePolicyShipped } from './module-policy.ts';

const folder = mkdtempSync(join(tmpdir(), 'b2c-architectures-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

async function build(arch: string): Promise<void> {
  // The options of serve.test.ts's arm64 build: whichever file comes second finds the first's outputs and keeps them.
  const result = await runB2c(['build', '--arch', arch, '--addons', 'dtbs', '--compress', 'none']);
  if (result.status !== 0) throw new Error(`b2c build --arch ${arch} failed with status ${result.status}:\n${result.stderr}`);
}

/** The device-tree board each ARM architecture boots on, and the driver that takes its own MAC. */
const BOARD_OF: Record<string, { name: string; driver: string }> = {
  arm64: { name: 'imx8mp-evk', driver: 'fec' },
  armhf: { name: 'orangepi-pc', driver: 'dwmac-sun8i' },
};

describe.each(['arm64', 'riscv64', 'armhf'])('%s', (name) => {
  const arch = architecture(name);
  const names = outputNames(name);

  beforeAll(() => build(name));

  it('builds the initramfs, the kernel a bootloader takes, and a manifest of its own', () => {
    expect(existsSync(`out/${names.initramfs.xz}`)).toBe(true);
    const manifest = JSON.parse(readFileSync(`out/${names.manifest}`, 'utf8')) as {
      arch: string;
      kernel: { release: string };
      packages: Array<{ name: string; arch: string }>;
    };
    expect(manifest.arch).toBe(name);
    expect(manifest.kernel.release).toMatch(new RegExp(`-${name === 'armhf' ? 'armmp' : name}$`));
    expect(manifest.packages.find((pkg) => pkg.name === 'podman')?.arch).toBe(name);
    // The kernel's own magic: ARM64 and RISC-V Images carry it at a fixed offset, a zImage at 0x24.
    const kernel = readFileSync(`out/${names.kernel}`);
    const magic = { arm64: [0x38, 'ARM\x64'], riscv64: [0x38, 'RSC\x05'], armhf: [0x24, '\x18\x28\x6f\x01'] }[name] as [number, string];
    expect(kernel.subarray(magic[0], magic[0] + 4).toString('latin1')).toBe(magic[1]);
  });

  // The board's own SoC, its device tree as Debian ships it: on orangepi-pc the EMAC's glue driver and the PHY behind its MDIO mux,
  // on imx8mp-evk (trixie's QEMU) the ENET, the PHY on its MDIO bus and the fuses its MAC address comes from.
  const board = BOARD_OF[name];
  it.runIf(board !== undefined)(`reaches its status line on QEMU's ${board?.name} board over the board's own MAC`, async () => {
    const { name: boardName, driver: expected } = board as { name: string; driver: string };
    const driver = step('b2c.container', `sh -c 'echo board-nic-$(basename $(readlink /sys/class/net/eth0/device/driver))'`);
    const result = await bootB2c([driver], { runOptions: ['--arch', name, '--board', boardName], timeoutSeconds: 600 });
    expectCleanEnd(result, 0);
    expect(result.output).toMatch(new RegExp(`^board-nic-${expected}\\r?$`, 'm'));
  });

  it("ships its module policy, the boards' SoC glue included, with the soft dependencies and PHY drivers the kernel's own index names", () => {
    expectModulePolicyShipped(name);
  });

  it('runs the basic pipeline on a cache disk: its own platform of the image, the status of the first failure, pipefail, the post container', async () => {
    // The cache loads ext4 and crc32c: modules beyond the network driver, stripped on riscv64.
    const disk = blankDisk(folder, `cache-${name}.img`, 1024 ** 3);
    const result = await bootB2c(
      [
        'b2c.cache_device=auto',
        'b2c.pipefail',
        step('b2c.container', `sh -c 'echo machine-$(uname -m)-$((6*7))'`),
        step('b2c.container', `sh -c 'echo failing-$((2+3)); exit 5'`),
        step('b2c.container', `sh -c 'echo never-$((5*5))'`),
        step('b2c.post_container', `sh -c 'echo post-$B2C_PIPELINE_STATUS-$((3*3))'`),
      ],
      { runOptions: ['--arch', name], timeoutSeconds: 600, disks: [disk] },
    );
    expectCleanEnd(result, 5);
    expect(result.output).toContain('No B2C_CACHE partition: making one on the blank disk /dev/vda');
    expect(result.output).not.toContain('The cache could not be set up');
    expect(result.console).toMatch(new RegExp(`^\\[[0-9.]+\\]: Architecture: ${arch.machine}\\r?$`, 'm'));
    const order = [`machine-${arch.machine}-42`, 'failing-5', 'post-5-9'].map((marker) => result.output.indexOf(marker));
    expect(order.every((position) => position >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(result.output).not.toContain('never-25');
    process.stdout.write(`${name}: the status line after ${result.secondsUntil('Execution is over')?.toFixed(1)} s\n`);
  });
});
