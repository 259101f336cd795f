import { describe, expect, it } from 'vitest';
import { instructionTimeline } from '../../src/bench/instructions.ts';

// Lines as a boot prints them: printk stamps, the init's stamps, and its section markers (whose seconds are wall-clock).
const consoleText = [
  '[    0.000000] Linux version 6.12.117+deb13-amd64',
  '[   10.218514] Run /init as init process',
  '\x1b[0Ksection_end:1796106270:b2c_kernel_boot\r\x1b[0K',
  '\x1b[0Ksection_start:1796106270:b2c_modules[collapsed=true]\r\x1b[0KLoading kernel modules',
  "[10.42]: Loading the drivers of this machine's devices: ahci, virtio_rng, virtio_net",
  '\x1b[0Ksection_end:1796106272:b2c_modules\r\x1b[0K',
  '\x1b[0Ksection_start:1796106272:b2c_network[collapsed=true]\r\x1b[0KSetting up the network',
  '[11.54]: Asking for a DHCP lease on eth0',
  '[11.90]: Got the address 10.0.2.15/24 on eth0',
  '\x1b[0Ksection_end:1796106272:b2c_network\r\x1b[0K',
  '\x1b[0Ksection_start:1796106272:b2c_container_1\r\x1b[0KContainer 1: docker://r/i:1',
  '[12.05]: Container 1: podman run docker://r/i:1 true',
  'output of the container, unstamped',
  '[13.26]: Container 1 exited with status 0',
  '\x1b[0Ksection_end:1796106307:b2c_container_1\r\x1b[0K',
  '[13.27]: Execution is over, pipeline status: 0',
  '[   13.557147] reboot: Power down',
].join('\r\n');

describe('instructionTimeline', () => {
  it('reads /init, the sections, the first step, the status line and the power-off in G instructions', () => {
    const timeline = instructionTimeline(consoleText);
    expect(timeline.initStart).toBe(10.218514);
    expect(timeline.sections).toEqual([
      { name: 'modules', start: 10.42, end: 11.54 },
      { name: 'network', start: 11.54, end: 12.05 },
      { name: 'container_1', start: 12.05, end: 13.27 },
    ]);
    expect(timeline.firstStepStart).toBe(12.05);
    expect(timeline.firstStepEnd).toBe(13.26);
    expect(timeline.statusLine).toBe(13.27);
    expect(timeline.powerOff).toBe(13.557147);
  });

  it('leaves out what the console never showed', () => {
    const timeline = instructionTimeline('[    0.000000] Linux version 6.12\r\n[    9.1] Kernel panic - not syncing');
    expect(timeline).toEqual({ sections: [] });
  });
});
