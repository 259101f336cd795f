// Three suites: unit tests that need nothing but Node, integration tests that run host tools and local servers, and end-to-end tests that boot
// the real image in QEMU. Each run ends with the time of each test file.

import { defineConfig } from 'vitest/config';
import LongestFirstSequencer from './test/reporters/sequencer.ts';

export default defineConfig({
  test: {
    // Two at a time: a VM under TCG keeps one host core busy, and the machines here have two. The end-to-end files share no counters and
    // no fixed names, so any two of them may run side by side.
    maxWorkers: 2,
    minWorkers: 1,
    reporters: ['default', './test/reporters/file-times.ts'],
    sequence: { sequencer: LongestFirstSequencer },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/e2e/**', 'test/**/*.integration.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.integration.test.ts'],
          exclude: ['test/e2e/**'],
          testTimeout: 120_000,
          hookTimeout: 10 * 60_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/e2e/global-setup.ts'],
          // After the quick suites: a unit failure shows before the boots start.
          sequence: { groupOrder: 1 },
          // A test's own boots are bounded by b2c run's --timeout; this bounds what hangs around them.
          testTimeout: 10 * 60_000,
          hookTimeout: 30 * 60_000,
        },
      },
    ],
  },
});
