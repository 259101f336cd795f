import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildKey, digestFolder, fingerprint, keptBuild, stampPath, writeStamp, type BuildInputs } from '../../src/image/build-stamp.ts';

const inputs: BuildInputs = {
  arch: 'amd64',
  suite: 'trixie',
  mirror: 'http://deb.debian.org/debian',
  keyring: '/usr/share/keyrings/debian-archive-keyring.gpg',
  compressions: ['xz', 'none'],
  addons: ['modules', 'firmware'],
  sourceDateEpoch: 0,
  version: '0.1.0',
  packageLists: 'lists-1',
  ownKernel: '',
  builder: 'code-1',
  hostTools: 'xz 5.4',
};

const folder = mkdtempSync(join(tmpdir(), 'b2c-stamp-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('buildKey', () => {
  it('is the same for the same inputs in any order, and changes with every input', () => {
    const key = buildKey(inputs);
    expect(buildKey({ ...inputs, addons: ['firmware', 'modules', 'modules'], compressions: ['none', 'xz'] })).toBe(key);
    const changes: Array<Partial<BuildInputs>> = [
      { arch: 'arm64' },
      { suite: 'forky' },
      { mirror: 'http://127.0.0.1/debian' },
      { keyring: '/other.gpg' },
      { compressions: ['xz'] },
      { addons: ['modules'] },
      { sourceDateEpoch: 1 },
      { version: '0.2.0' },
      { packageLists: 'lists-2' },
      { ownKernel: 'a kernel' },
      { builder: 'code-2' },
      { hostTools: 'xz 5.6' },
    ];
    const keys = changes.map((change) => buildKey({ ...inputs, ...change }));
    expect(new Set([key, ...keys]).size).toBe(changes.length + 1);
  });
});

describe('keptBuild', () => {
  const output = join(folder, 'initramfs.cpio');
  const stamp = stampPath(folder, 'amd64');

  it("gives the last build's result while its key holds and its outputs are as written, and nothing otherwise", async () => {
    writeFileSync(output, 'archive');
    await writeStamp(stamp, 'key-1', { archive: output }, [output]);
    expect(await keptBuild(stamp, 'key-1')).toEqual({ archive: output });
    expect(await keptBuild(stamp, 'key-2')).toBeUndefined();
    // Written again by someone else: same size, another time.
    utimesSync(output, new Date(2001, 0, 1), new Date(2001, 0, 1));
    expect(await keptBuild(stamp, 'key-1')).toBeUndefined();
    await writeStamp(stamp, 'key-1', { archive: output }, [output]);
    rmSync(output);
    expect(await keptBuild(stamp, 'key-1')).toBeUndefined();
    expect(await keptBuild(join(folder, 'no-stamp.json'), 'key-1')).toBeUndefined();
  });
});

describe('digests of folders', () => {
  it('digestFolder follows the bytes, fingerprint the sizes and times', async () => {
    const tree = join(folder, 'tree');
    const file = join(tree, 'a/b.txt');
    mkdirSync(join(tree, 'a'), { recursive: true });
    writeFileSync(file, 'one');
    utimesSync(file, 1000, 1000);
    const [digest, print] = [await digestFolder(tree), await fingerprint(tree)];
    writeFileSync(file, 'two');
    utimesSync(file, 1000, 1000);
    expect(await digestFolder(tree)).not.toBe(digest);
    expect(await fingerprint(tree)).toBe(print);
    utimesSync(file, 2000, 2000);
    expect(await fingerprint(tree)).not.toBe(print);
  });
});
