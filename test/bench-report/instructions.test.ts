import { describe, expect, it } from 'vitest';
import { instructionCells, instructionSpread, instructionTimeline, INSTRUCTION_PHASES, type InstructionTimeline } from '../../src/bench-report/instructions.ts';

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

describe('instruction table cells', () => {
  const boot = (initStart: number, statusLine: number): InstructionTimeline => ({
    initStart,
    sections: [{ name: 'modules', start: initStart + 0.5, end: initStart + 1.5 }],
    statusLine,
    powerOff: statusLine + 0.01,
  });

  it('gives each phase as the median over the boots, and – for a phase no boot showed', () => {
    const cells = instructionCells([boot(10, 12), boot(10.2, 12.4), boot(10.1, 12.2)]);
    const at = (label: string): string | undefined => cells[INSTRUCTION_PHASES.findIndex((phase) => phase.label === label)];
    expect(at('/init start')).toBe('10.10');
    expect(at('module step')).toBe('1.00');
    expect(at('network')).toBe('–');
    expect(at('status line')).toBe('12.20');
    expect(at("init's own work (/init start to status)")).toBe('2.10');
  });

  it('gives the spread at the status line, or at power-off for a boot that prints none', () => {
    expect(instructionSpread([boot(10, 12), boot(10, 12.12)])).toBeCloseTo(0.995, 3);
    expect(instructionSpread([boot(10, 12)])).toBeUndefined();
    expect(
      instructionSpread([
        { sections: [], powerOff: 2 },
        { sections: [], powerOff: 2.02 },
      ]),
    ).toBeCloseTo(0.995, 3);
  });
});
