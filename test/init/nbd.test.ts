import { describe, expect, it } from 'vitest';
import type { NbdConfig } from '../../src/cmdline/config.ts';
import { NBD_CONNECT_SECONDS, NetworkBlockDevices, nbdClientArgs, nbdLogPath } from '../../src/init/nbd.ts';
import type { KernelModules } from '../../src/init/modules.ts';
import { FakeSystem } from '../fake-system.ts';

const NBD0: NbdConfig = { device: '/dev/nbd0', host: 'gateway', port: 10809, connections: 5 };

/** Records the modules asked for: the nbd module must be loaded before the client runs. */
function modulesOf(loaded: string[]): KernelModules {
  return { loadNamed: async (names: readonly string[]) => void loaded.push(...names) } as unknown as KernelModules;
}

function machine(): { fake: FakeSystem; devices: NetworkBlockDevices; loaded: string[] } {
  const fake = new FakeSystem();
  const loaded: string[] = [];
  const log = { log: async (message: string) => fake.write(`${message}\n`) };
  return { fake, devices: new NetworkBlockDevices(fake, log, modulesOf(loaded)), loaded };
}

describe('NetworkBlockDevices', () => {
  it('connects with the nbd module loaded and knows the device is up once it has a size; disconnects what it connected', async () => {
    const { fake, devices, loaded } = machine();
    fake.on(['nbd-client', '-t'], (_argv, system) => {
      // The server answered after 300 ms: the kernel then gives the device its size.
      system.elapsed += 300;
      system.files.set('/sys/block/nbd0/size', '2097152\n');
      return { hangs: true };
    });
    fake.on(['nbd-client', '-d'], {});
    expect([...(await devices.connect([NBD0]))]).toEqual([]);
    expect(loaded).toEqual(['nbd']);
    expect(fake.ran('nbd-client', '-t')).toEqual([nbdClientArgs(NBD0)]);
    expect(nbdClientArgs(NBD0)).toEqual(['nbd-client', '-t', '120', 'gateway', '10809', '/dev/nbd0']);
    expect(fake.consoleText).toContain('/dev/nbd0 is connected to gateway:10809: 1073741824 bytes');
    await devices.disconnect();
    await devices.disconnect();
    expect(fake.ran('nbd-client', '-d')).toEqual([['nbd-client', '-d', '/dev/nbd0']]);
    expect(fake.consoleText).toContain('Disconnected /dev/nbd0');
  });

  it("says why a connection failed, with the client's own words, and reports the device as unconnected", async () => {
    const { fake, devices } = machine();
    fake.on(['nbd-client', '-t'], { status: 1, stderr: 'nbd-client: connect: Connection refused\n' });
    expect([...(await devices.connect([NBD0]))]).toEqual(['/dev/nbd0']);
    expect(fake.files.get(nbdLogPath('/dev/nbd0'))).toBe('nbd-client: connect: Connection refused\n');
    expect(fake.consoleText).toContain('Could not connect /dev/nbd0 to gateway:10809: nbd-client exited with 1: nbd-client: connect: Connection refused');
    await devices.disconnect();
    expect(fake.ran('nbd-client', '-d')).toEqual([]);
  });

  it('gives up on a server that never answers, and kills the client', async () => {
    const { fake, devices } = machine();
    fake.on(['nbd-client', '-t'], { hangs: true });
    fake.on(['kill'], {});
    expect([...(await devices.connect([NBD0]))]).toEqual(['/dev/nbd0']);
    expect(fake.elapsed).toBeGreaterThanOrEqual(NBD_CONNECT_SECONDS * 1000);
    expect(fake.elapsed).toBeLessThan(NBD_CONNECT_SECONDS * 1000 + 1000);
    expect(fake.ran('kill')).toHaveLength(1);
    expect(fake.consoleText).toContain(`Could not connect /dev/nbd0 to gateway:10809 within ${NBD_CONNECT_SECONDS} s: no message`);
  });
});
