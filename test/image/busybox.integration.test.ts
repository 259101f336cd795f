import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { busyboxAppletNames } from '../../src/image/busybox.ts';

describe('busyboxAppletNames', () => {
  it('finds the applets of a real static busybox', () => {
    const applets = busyboxAppletNames(readFileSync('/bin/busybox'));
    expect(applets).toEqual(expect.arrayContaining(['sh', 'mount', 'udhcpc', 'nc', 'poweroff']));
    expect(applets.length).toBeGreaterThan(200);
  });
});
