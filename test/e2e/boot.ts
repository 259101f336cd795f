// Boots the built image through the real `b2c run` and collects what a farm would see.

import { spawn } from 'node:child_process';
import { inject } from 'vitest';
import { FORWARD_ADDRESS } from '../../src/vm/qemu.ts';

export interface BootResult {
  /** `b2c run`'s exit status. */
  exitCode: number;
  /** The serial console. */
  console: string;
  /** What `b2c run` said on stderr. */
  stderr: string;
  /** The console without the kernel's echo of its own command line, which repeats every word of it. */
  output: string;
}

/** The reference the guest pulls the busybox test image by. */
export function testImage(name = 'busybox'): string {
  return `docker://${FORWARD_ADDRESS}:${inject('registryPort')}/b2c-test/${name}:1`;
}

/** A `b2c.container`-style parameter for the test image, pulled over plain HTTP. */
export function step(option: string, command: string, image = testImage()): string {
  return `${option}="--tls-verify=false ${image} ${command}"`;
}

export function bootB2c(words: string[], timeoutSeconds = 300): Promise<BootResult> {
  const args = ['bin/b2c.js', 'run', '--forward', String(inject('registryPort')), '--timeout', String(timeoutSeconds), ...words];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let consoleText = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (consoleText += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const output = consoleText
        .split('\n')
        .filter((line) => !/Command line: |Kernel command line: /.test(line))
        .join('\n');
      resolve({ exitCode: code ?? -1, console: consoleText, stderr, output });
    });
  });
}

/** The lines between a section's start and end markers. */
export function sectionText(consoleText: string, name: string): string {
  const start = consoleText.indexOf(`section_start:`, consoleText.search(new RegExp(`section_start:\\d+:${name}[\\[\\r]`)));
  const end = consoleText.search(new RegExp(`section_end:\\d+:${name}\\r`));
  return start === -1 || end === -1 ? '' : consoleText.slice(start, end);
}
