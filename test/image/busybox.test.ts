import { describe, expect, it } from 'vitest';
import { busyboxAppletNames } from '../../src/image/busybox.ts';
import { B2cError } from '../../src/errors.ts';

describe('busyboxAppletNames', () => {
  it('reads the sorted applet table and stops where it ends', () => {
    const binary = new TextEncoder().encode('\x7fELF junk\0[\0[[\0ash\0cat\0sh\0\0/var/log/wtmp\0');
    expect(busyboxAppletNames(binary)).toEqual(['[', '[[', 'ash', 'cat', 'sh']);
  });

  it('stops at a name that does not sort after the previous one', () => {
    expect(busyboxAppletNames(new TextEncoder().encode('[\0[[\0sh\0ash\0'))).toEqual(['[', '[[', 'sh']);
  });

  it('says so when there is no applet table', () => {
    expect(() => busyboxAppletNames(new Uint8Array(100))).toThrow(B2cError);
  });
});
