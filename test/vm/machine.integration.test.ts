// How a boot ends, with a shell script standing in for QEMU: a guest kernel that locks up cannot be had on demand from a real one.

import { describe, expect, it } from 'vitest';
import { architecture } from '../../src/architectures.ts';
import { bootMachine } from '../../src/vm/machine.ts';
import { DEFAULT_NIC_MODEL, type VmSpec } from '../../src/vm/qemu.ts';

/** A machine whose "QEMU" prints the console lines given, then runs on until killed; QEMU's arguments reach the script as $0, $1… and are ignored. */
function machinePrinting(lines: string[]): VmSpec {
  return {
    arch: architecture('amd64'),
    kernel: '/nonexistent/linux',
    initrd: '/nonexistent/initrd',
    cmdline: '',
    memoryMiB: 512,
    cpus: 1,
    accel: 'tcg',
    disks: [],
    forwards: [],
    forwarder: 'busybox',
    nics: [],
    nicModel: DEFAULT_NIC_MODEL,
    diskBus: 'virtio',
    qemuCommand: ['sh', '-c', `printf '%s\\r\\n' ${lines.map((line) => `'${line}'`).join(' ')}; exec sleep 120`],
  };
}

describe('the end of a boot', () => {
  it('stops a guest whose kernel locked up shortly after its trace, rather than at the timeout, and calls it a crash', async () => {
    const result = await bootMachine(machinePrinting(['[ 48.2] watchdog: BUG: soft lockup - CPU#0 stuck for 26s! [podman:301]', '[ 48.3] Call Trace:']), {
      timeoutSeconds: 100,
    });
    expect(result.outcome).toMatchObject({ kind: 'guest-crash', lines: [expect.stringContaining('soft lockup'), '[ 48.3] Call Trace:'] });
    expect(result.timedOut).toBe(false);
    expect(result.seconds).toBeLessThan(30);
  }, 60_000);

  it('leaves a healthy machine to its timeout', async () => {
    const result = await bootMachine(machinePrinting(['[ 3.0] b2c is starting']), { timeoutSeconds: 8 });
    expect(result.outcome).toEqual({ kind: 'timeout', seconds: 8 });
    expect(result.seconds).toBeGreaterThanOrEqual(8);
  }, 60_000);
});
