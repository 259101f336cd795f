import { spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, ftruncateSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { singlePartitionGpt } from '../../src/init/gpt.ts';

describe('GPT writer', () => {
  it('writes a table that sfdisk reads back: one aligned Linux partition named B2C_CACHE', () => {
    const disk = join(mkdtempSync(join(tmpdir(), 'b2c-gpt-')), 'disk.img');
    const size = 256 * 1024 * 1024;
    const fd = openSync(disk, 'w');
    ftruncateSync(fd, size);
    const layout = singlePartitionGpt(size, 512, 'B2C_CACHE', () => '12345678-1234-4abc-8def-123456789abc');
    for (const write of layout.writes) writeSync(fd, write.data, 0, write.data.length, write.offset);
    closeSync(fd);
    // sfdisk checks both headers and both CRCs; --verify complains about any problem.
    const verify = spawnSync('sfdisk', ['--verify', disk], { encoding: 'utf8' });
    expect(verify.stderr).toBe('');
    const table = JSON.parse(spawnSync('sfdisk', ['--json', disk], { encoding: 'utf8' }).stdout) as {
      partitiontable: { label: string; lastlba: number; partitions: Array<{ start: number; size: number; type: string; name: string }> };
    };
    expect(table.partitiontable.label).toBe('gpt');
    expect(table.partitiontable.partitions).toEqual([
      {
        node: `${disk}1`,
        start: 2048,
        size: layout.lastLba - 2048 + 1,
        type: '0FC63DAF-8483-4772-8E79-3D69D8477DE4',
        uuid: '12345678-1234-4ABC-8DEF-123456789ABC',
        name: 'B2C_CACHE',
      },
    ]);
    expect((layout.lastLba + 1) % 2048).toBe(0);
  });
});
