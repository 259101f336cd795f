// Swap on a scripted machine: a file on the cache or a whole device, vm.swappiness, and how it ends when a step fails.

import { describe, expect, it } from 'vitest';
import { Swap, SWAP_FILE } from '../../src/init/swap.ts';
import { FakeSystem } from '../fake-system.ts';

function machine(): { fake: FakeSystem; swap: Swap } {
  const fake = new FakeSystem();
  fake.file('/proc/sys/vm/swappiness', '60\n');
  for (const program of ['fallocate', 'chmod', 'mkswap', 'swapon', 'swapoff', 'rm']) fake.on([program], {});
  const log = { log: async (message: string) => fake.write(`[0.00]: ${message}\n`) };
  return { fake, swap: new Swap(fake, log) };
}

const none = new Set<string>();

describe('Swap', () => {
  it('adds no swap file when a step fails, and removes the half-made file', async () => {
    for (const failing of ['fallocate', 'mkswap', 'swapon']) {
      const { fake, swap } = machine();
      fake.on([failing], { status: 1, stderr: `${failing}: No space left on device\n` });
      expect(await swap.setUp({ kind: 'file', bytes: 8 * 1024 ** 3, swappiness: 10 }, true, none), failing).toBe(false);
      expect(fake.logLines()).toContain(`No swap: ${failing} exited with 1: ${failing}: No space left on device`);
      // Nothing runs after the failing step but the clean-up, and the swappiness is left alone.
      const programs = fake.runs.map((run) => run.argv[0]);
      expect(programs.slice(programs.indexOf(failing) + 1)).toEqual(['rm']);
      expect(fake.ran('rm')).toEqual([
        ['rm', '-f', SWAP_FILE],
        ['rm', '-f', SWAP_FILE],
      ]);
      expect(fake.files.get('/proc/sys/vm/swappiness')).toBe('60\n');
      await swap.tearDown();
      expect(fake.ran('swapoff')).toEqual([]);
    }
  });

  it('makes the file in order, sets vm.swappiness, and switches it off and removes it at the end', async () => {
    const { fake, swap } = machine();
    expect(await swap.setUp({ kind: 'file', bytes: 64 * 1024 * 1024, swappiness: 60 }, true, none)).toBe(true);
    expect(fake.runs.map((run) => run.argv.join(' '))).toEqual([
      `rm -f ${SWAP_FILE}`,
      `fallocate -l 67108864 ${SWAP_FILE}`,
      `chmod 600 ${SWAP_FILE}`,
      `mkswap ${SWAP_FILE}`,
      `swapon ${SWAP_FILE}`,
    ]);
    expect(fake.files.get('/proc/sys/vm/swappiness')).toBe('60\n');
    expect(fake.logLines()).toEqual([`Swap: 67108864 bytes in ${SWAP_FILE}`, 'vm.swappiness set to 60']);
    await swap.tearDown();
    await swap.tearDown();
    expect(fake.ran('swapoff')).toEqual([['swapoff', SWAP_FILE]]);
    expect(fake.ran('rm')).toEqual([
      ['rm', '-f', SWAP_FILE],
      ['rm', '-f', SWAP_FILE],
    ]);
    expect(fake.logLines().at(-1)).toBe(`Swap off: ${SWAP_FILE}`);
  });

  it('makes no file without a cache, and says so', async () => {
    const { fake, swap } = machine();
    expect(await swap.setUp({ kind: 'file', bytes: 8 * 1024 ** 3 }, false, none)).toBe(false);
    expect(fake.runs).toEqual([]);
    expect(fake.logLines()).toEqual(['b2c.swap needs a cache partition for its file: no swap']);
  });

  it('makes a device swap anew at each boot, and switches it off without removing anything', async () => {
    const { fake, swap } = machine();
    fake.file('/dev/nbd1', new Uint8Array(0));
    expect(await swap.setUp({ kind: 'device', path: '/dev/nbd1', swappiness: 60 }, false, none)).toBe(true);
    expect(fake.runs.map((run) => run.argv.join(' '))).toEqual(['mkswap /dev/nbd1', 'swapon /dev/nbd1']);
    expect(fake.files.get('/proc/sys/vm/swappiness')).toBe('60\n');
    await swap.tearDown();
    expect(fake.ran('swapoff')).toEqual([['swapoff', '/dev/nbd1']]);
    expect(fake.ran('rm')).toEqual([]);
  });

  it('goes on without swap when its device did not connect, does not exist, or mkswap fails', async () => {
    const unconnected = machine();
    unconnected.fake.file('/dev/nbd1', new Uint8Array(0));
    expect(await unconnected.swap.setUp({ kind: 'device', path: '/dev/nbd1' }, true, new Set(['/dev/nbd1']))).toBe(false);
    expect(unconnected.fake.logLines()).toEqual(['The swap device /dev/nbd1 is not connected: no swap']);
    expect(unconnected.fake.runs).toEqual([]);

    const partitionOfUnconnected = machine();
    partitionOfUnconnected.fake.file('/dev/nbd1p2', new Uint8Array(0));
    expect(await partitionOfUnconnected.swap.setUp({ kind: 'device', path: '/dev/nbd1p2' }, true, new Set(['/dev/nbd1']))).toBe(false);
    expect(partitionOfUnconnected.fake.logLines()).toEqual(['The swap device /dev/nbd1p2 is not connected: no swap']);

    const missing = machine();
    expect(await missing.swap.setUp({ kind: 'device', path: '/dev/sdz2' }, true, none)).toBe(false);
    expect(missing.fake.logLines()).toEqual(['The swap device /dev/sdz2 does not exist: no swap']);

    const failing = machine();
    failing.fake.file('/dev/sdb2', new Uint8Array(0));
    failing.fake.on(['mkswap'], { status: 1, stderr: 'mkswap: /dev/sdb2: Device or resource busy\n' });
    expect(await failing.swap.setUp({ kind: 'device', path: '/dev/sdb2' }, true, none)).toBe(false);
    expect(failing.fake.logLines()).toEqual(['No swap on /dev/sdb2: mkswap exited with 1: mkswap: /dev/sdb2: Device or resource busy']);
    expect(failing.fake.ran('swapon')).toEqual([]);
  });
});
