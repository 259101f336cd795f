// Orders the test files longest first, by the times a run recorded (test/file-seconds.json), so that two workers end together rather
// than one waiting while the other runs a long file it started last; a file with no recorded time goes first.

import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Where `B2C_RECORD_TEST_TIMES=1 npm test` writes each file's time, and this sequencer reads it. */
export const FILE_SECONDS = 'test/file-seconds.json';

/** Longest first; files with no time, in the order the base sequencer gives, before them. */
export function longestFirst<T>(files: readonly T[], nameOf: (file: T) => string, seconds: Readonly<Record<string, number>>): T[] {
  const known = files.filter((file) => seconds[nameOf(file)] !== undefined);
  const unknown = files.filter((file) => seconds[nameOf(file)] === undefined);
  return [...unknown, ...known.sort((a, b) => (seconds[nameOf(b)] as number) - (seconds[nameOf(a)] as number))];
}

function recordedSeconds(): Record<string, number> | undefined {
  try {
    return JSON.parse(readFileSync(FILE_SECONDS, 'utf8')) as Record<string, number>;
  } catch {
    return undefined;
  }
}

export default class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const ordered = await super.sort(files);
    const seconds = recordedSeconds();
    return seconds === undefined ? ordered : longestFirst(ordered, (file) => relative(process.cwd(), file.moduleId), seconds);
  }
}
