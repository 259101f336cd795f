import { describe, expect, it } from 'vitest';
import { AptError } from '../../src/build/apt.ts';
import { describeError, ExitError } from '../../src/cli/errors.ts';
import { B2cError } from '../../src/errors.ts';
import { CommandError } from '../../src/system/system.ts';

describe('errors', () => {
  it('keep their own name and their cause', () => {
    const cause = new CommandError(['apt-get', 'update'], { status: 100, stdout: '', stderr: 'E: Temporary failure resolving deb.debian.org\n' });
    const error = new AptError('cannot fetch the package lists', { cause });
    expect(error).toBeInstanceOf(B2cError);
    expect(error.name).toBe('AptError');
    expect(error.cause).toBe(cause);
    expect(describeError(error)).toBe(
      'cannot fetch the package lists\n  caused by: apt-get update failed with status 100:\nE: Temporary failure resolving deb.debian.org',
    );
  });

  it('carry an exit status', () => {
    expect(new ExitError(3).code).toBe(3);
    expect(new ExitError(254, 'qemu-system-x86_64 is missing').message).toBe('qemu-system-x86_64 is missing');
  });
});
