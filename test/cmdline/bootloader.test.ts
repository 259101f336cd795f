import { describe, expect, it } from 'vitest';
import { kernelArgumentsOf } from '../../src/cmdline/bootloader.ts';

describe('kernelArgumentsOf', () => {
  it('takes the arguments of an iPXE kernel line, skipping its options and the image', () => {
    const script = `#!ipxe
dhcp
kernel --name linux http://farm/linux-amd64 console=ttyS0 b2c.container="docker://r/i:1 sh -c 'echo  hi'"
initrd http://farm/initramfs.linux_amd64.cpio.xz
boot`;
    expect(kernelArgumentsOf(script)).toEqual({
      line: `console=ttyS0 b2c.container="docker://r/i:1 sh -c 'echo  hi'"`,
      source: 'the arguments of the kernel line',
      notes: [],
    });
  });

  it('takes a GRUB linux line and a SYSLINUX APPEND line', () => {
    expect(kernelArgumentsOf("menuentry 'b2c' {\n  linux /linux-amd64 b2c.pipefail\n  initrd /initramfs\n}").line).toBe('b2c.pipefail');
    expect(kernelArgumentsOf('LABEL b2c\n  KERNEL linux-amd64\n  APPEND initrd=initramfs b2c.container="docker://r/i"').line).toBe(
      'initrd=initramfs b2c.container="docker://r/i"',
    );
  });

  it('notes when several kernel lines are present', () => {
    expect(kernelArgumentsOf('linux /a b2c.pipefail\nlinux /b b2c.run=x').notes).toEqual(['2 kernel lines found: checking the first (linux)']);
  });

  it('takes a bare command line, such as /proc/cmdline, as it is', () => {
    expect(kernelArgumentsOf('BOOT_IMAGE=/vmlinuz b2c.container="docker://r/i"\n')).toEqual({
      line: 'BOOT_IMAGE=/vmlinuz b2c.container="docker://r/i"',
      source: 'the command line as given',
      notes: [],
    });
  });
});
