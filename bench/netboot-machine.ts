// One benchmark machine netbooting from a `b2c serve` on a test LAN, timed from power-on to its status line.

import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { architecture } from '../src/architectures.ts';
import type { TestNetwork } from '../src/testbed/netns.ts';
import { prepareUefiFirmware } from '../src/vm/firmware.ts';
import { bootMachine } from '../src/vm/machine.ts';
import { DEFAULT_NIC_MODEL, type VmSpec } from '../src/vm/qemu.ts';

const STATUS_LINE = 'Execution is over, pipeline status: 0';
const arch = architecture('amd64');
const BENCH_OUT = resolve('out/bench');
export const macOf = (index: number): string => `52:54:00:b2:c1:${(index + 1).toString(16).padStart(2, '0')}`;

/**
 * Boots machine `index` (tap b2ctapINDEX, MAC macOf(index)) through OVMF's PXE
 * inside the LAN's namespace: seconds from power-on to the status line,
 * undefined if it never came. Its console is kept as out/bench/LABEL-MAC.console.
 */
export async function netbootOnce(lan: TestNetwork, index: number, label: string): Promise<number | undefined> {
  const firmware = await prepareUefiFirmware(arch);
  const started = Date.now();
  let consoleText = '';
  let seconds: number | undefined;
  const output = new Writable({
    write(chunk: Buffer, _encoding, done) {
      consoleText += chunk.toString();
      if (seconds === undefined && consoleText.includes(STATUS_LINE)) seconds = (Date.now() - started) / 1000;
      done();
    },
  });
  const spec: VmSpec = {
    arch,
    kernel: '',
    initrd: '',
    cmdline: '',
    memoryMiB: 1024,
    cpus: 1,
    accel: 'tcg',
    disks: [],
    forwards: [],
    forwarder: 'busybox',
    nics: [{ kind: 'tap', ifname: `b2ctap${index}` }],
    nicModel: DEFAULT_NIC_MODEL,
    diskBus: 'virtio',
    netboot: { firmware: 'uefi', code: firmware.code, vars: firmware.vars },
    mac: macOf(index),
    qemuCommand: lan.inside([arch.qemu.binary]),
  };
  try {
    await bootMachine(spec, { timeoutSeconds: 600, output });
  } finally {
    await firmware.remove();
    await mkdir(BENCH_OUT, { recursive: true });
    await writeFile(join(BENCH_OUT, `${label}-${macOf(index).replaceAll(':', '')}.console`), consoleText);
  }
  return seconds;
}
