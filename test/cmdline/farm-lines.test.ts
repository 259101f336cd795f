// Every line of the corpus of real farm lines (farm-lines.ts) reads without an error, and warns only of what a farm should hear.

import { describe, expect, it } from 'vitest';
import { explainConfig } from '../../src/cmdline/explain.ts';
import { parseCmdline, parseCmdlineWithExtraArgs } from '../../src/cmdline/parse.ts';
import { FARM_LINES } from './farm-lines.ts';

/** The warnings a farm's real line may get, each with why the farm should hear it. */
const FARM_WORTHY: RegExp[] = [
  // The kernel prints its line on the console: an S3 secret or fscrypt key there is on every job log.
  /puts a secret on the kernel command line/,
  // What a template renders for an unset variable (ci-tron's exclude= when a job excludes nothing): nothing is lost, and a typo would show.
  /is empty \(a template left it unset\?\): ignored/,
  // A line a shell's quoting cut short: the machine still runs it, as upstream did.
  /leaves a double quote open/,
];

describe('the corpus of real farm lines', () => {
  for (const line of FARM_LINES) {
    it(`${line.source}: ${line.what}`, () => {
      const config = line.extra === undefined ? parseCmdline(line.kernel) : parseCmdlineWithExtraArgs(line.kernel, line.extra);
      expect(config.errors).toEqual([]);
      for (const warning of config.warnings)
        expect(
          FARM_WORTHY.some((pattern) => pattern.test(warning)),
          warning,
        ).toBe(true);
      // b2c cmdline explains it: a step at least, each with its image.
      const explained = explainConfig(config);
      expect(explained.filter((text) => text.startsWith('Step ')).length).toBeGreaterThan(0);
    });
  }

  it('spans the farms it claims: ci-tron, Mesa, valve-infra and blog examples', () => {
    const sources = new Set(FARM_LINES.map((line) => line.source.split(' ')[0]));
    expect(FARM_LINES.length).toBeGreaterThanOrEqual(20);
    expect(sources.size).toBeGreaterThanOrEqual(4);
  });
});
