import { describe, expect, it } from 'vitest';
import {
  formatBytes,
  logLine,
  memoryInUseMessage,
  parseCpuInfo,
  parseMemTotalKiB,
  pipelineStatusMessage,
  runtimeSummary,
  sectionEnd,
  sectionStart,
  shellQuote,
  shutdownNotice,
} from '../../src/init/console.ts';

describe('console lines', () => {
  it('matches what farms match on', () => {
    const line = logLine('12.34', pipelineStatusMessage(0));
    expect(line).toBe('[12.34]: Execution is over, pipeline status: 0\n');
    // A farm's expression, with the serial line's \r before the newline.
    expect(`${line.slice(0, -1)}\r`).toMatch(/\[.*\]: Execution is over, pipeline status: 0\r$/);
    expect(`${shutdownNotice('poweroff')}\r`).toMatch(/^.*It's now safe to turn off your computer\r$/);
    expect(shutdownNotice('reboot')).toBe('Rebooting the computer');
  });

  it('writes GitLab section markers', () => {
    expect(sectionStart(1700000000.7, 'b2c_network', 'Network')).toBe('\x1b[0Ksection_start:1700000000:b2c_network[collapsed=true]\r\x1b[0KNetwork\n');
    expect(sectionStart(1, 'x', 'X', false)).toBe('\x1b[0Ksection_start:1:x\r\x1b[0KX\n');
    expect(sectionEnd(1700000001, 'b2c_network')).toBe('\x1b[0Ksection_end:1700000001:b2c_network\r\x1b[0K\n');
  });

  it('quotes an argv for display only where needed', () => {
    expect(shellQuote(['sh', '-c', "echo it's", 'a=b'])).toBe(`sh -c 'echo it'\\''s' a=b`);
  });

  it('summarises the machine', () => {
    const cpuinfo = 'processor\t: 0\nmodel name\t: QEMU Virtual CPU\n\nprocessor\t: 1\nmodel name\t: QEMU Virtual CPU\n';
    expect(parseCpuInfo(cpuinfo)).toEqual({ cpu: 'QEMU Virtual CPU', cpuCount: 2 });
    const arm64 = [
      'processor\t: 0',
      'BogoMIPS\t: 125.00',
      'CPU implementer\t: 0x41',
      'CPU architecture: 8',
      'CPU part\t: 0xd08',
      '',
      'processor\t: 1',
      'CPU implementer\t: 0x41',
      'CPU part\t: 0xd08',
    ].join('\n');
    expect(parseCpuInfo(arm64)).toEqual({ cpu: 'ARM implementer 0x41 part 0xd08', cpuCount: 2 });
    expect(parseCpuInfo('processor : 0\nisa : rv64imafdc\nuarch : sifive,u74-mc\n')).toEqual({ cpu: 'rv64imafdc', cpuCount: 1 });
    expect(parseCpuInfo('')).toEqual({ cpu: 'unknown', cpuCount: 1 });
    expect(parseMemTotalKiB('MemTotal:        2014256 kB\nMemFree: 1 kB\n')).toBe(2014256);
    expect(memoryInUseMessage('MemTotal: 2097152 kB\nMemFree: 1 kB\nMemAvailable: 1843200 kB\n')).toBe(
      'Memory in use before the first container: 248 MiB of 2048 MiB',
    );
    expect(
      runtimeSummary({
        linuxVersion: 'Linux version 6.12',
        b2cVersion: '0.1.0',
        architecture: 'x86_64',
        cpu: 'QEMU Virtual CPU',
        cpuCount: 2,
        memoryKiB: 2097152,
        blockDevices: [{ name: 'vda', bytes: 1073741824 }],
      }),
    ).toEqual(['Linux: Linux version 6.12', 'b2c: 0.1.0', 'Architecture: x86_64', 'CPU: 2 x QEMU Virtual CPU', 'RAM: 2.0 GiB', 'Block devices: vda (1.0 GiB)']);
    expect(formatBytes(512)).toBe('512 B');
  });
});
