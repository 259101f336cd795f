import { describe, expect, it } from 'vitest';
import { B2cError, describeError, describeFailure } from '../src/errors.ts';
import { ExitError } from '../src/cli/errors.ts';

describe('errors', () => {
  it('keep their cause, and the message a user sees names each cause in turn', () => {
    const cause = new B2cError('apt-get update failed with status 100:\nE: Temporary failure resolving deb.debian.org');
    const error = new B2cError('cannot fetch the package lists', { cause });
    expect(error.cause).toBe(cause);
    expect(describeError(error)).toBe(
      'cannot fetch the package lists\n  caused by: apt-get update failed with status 100:\nE: Temporary failure resolving deb.debian.org',
    );
  });

  it('show the stack of an error b2c did not mean to throw, and only the message of one it did', () => {
    let bug: unknown;
    try {
      bug = (undefined as unknown as { length: number }).length;
    } catch (error) {
      bug = error;
    }
    expect(bug).toBeInstanceOf(TypeError);
    const shown = describeFailure(bug);
    expect(shown).toMatch(/^unexpected error \(a bug in b2c/);
    expect(shown).toMatch(/TypeError: Cannot read properties of undefined/);
    expect(shown).toMatch(/\n\s+at .*errors\.test\.ts/);
    expect(describeFailure(new B2cError('no disk named /dev/vdz', { cause: new B2cError('it never appeared') }))).toBe(
      'no disk named /dev/vdz\n  caused by: it never appeared',
    );
  });

  it('carry an exit status', () => {
    expect(new ExitError(3).code).toBe(3);
    expect(new ExitError(254, 'qemu-system-x86_64 is missing').message).toBe('qemu-system-x86_64 is missing');
  });
});
