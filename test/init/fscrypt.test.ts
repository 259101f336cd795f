import { describe, expect, it } from 'vitest';
import { filesystemTypeOf, readAddKeyOutput } from '../../src/init/fscrypt.ts';

const PROMPT = 'Enter passphrase (echo disabled): \n';

describe('readAddKeyOutput', () => {
  it('reads success, another key, a non-empty folder and other failures from what e4crypt prints', () => {
    expect(readAddKeyOutput(`${PROMPT}Added key with descriptor [0123456789abcdef]\nKey with descriptor [0123456789abcdef] applied to /v/_data.\n`, 0)).toEqual(
      { kind: 'applied' },
    );
    const refused = (error: string) =>
      `${PROMPT}Key with descriptor [0123456789abcdef] already exists\nError [${error}] setting policy.\n` +
      'The key descriptor [0123456789abcdef] may not match the existing encryption context for directory [/v/_data].\n';
    expect(readAddKeyOutput(refused('File exists'), 0)).toEqual({ kind: 'other-key' });
    expect(readAddKeyOutput(refused('Directory not empty'), 0)).toEqual({ kind: 'not-empty' });
    expect(readAddKeyOutput(refused('Operation not supported'), 0)).toEqual({ kind: 'failed', detail: 'Operation not supported' });
    expect(readAddKeyOutput(`${PROMPT}No salt values available\n`, 1)).toEqual({ kind: 'failed', detail: 'No salt values available' });
  });
});

describe('filesystemTypeOf', () => {
  const mounts = [
    'rootfs / rootfs rw 0 0',
    'tmpfs /run tmpfs rw 0 0',
    '/dev/vda1 /var/lib/containers ext4 rw 0 0',
    'overlay /var/lib/containers/storage/overlay/x/merged overlay rw 0 0',
  ].join('\n');

  it('takes the deepest mount that holds the path', () => {
    expect(filesystemTypeOf(mounts, '/var/lib/containers/storage/volumes/job/_data')).toBe('ext4');
    expect(filesystemTypeOf(mounts, '/run/b2c')).toBe('tmpfs');
    expect(filesystemTypeOf(mounts, '/var/lib/containersX')).toBe('rootfs');
  });
});
