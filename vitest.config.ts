// Two suites: fast unit tests of the pure parts, and end-to-end tests that boot the real image in QEMU.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Boots share one machine's two cores: one VM at a time.
    fileParallelism: false,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/e2e/**'],
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/e2e/global-setup.ts'],
          testTimeout: 15 * 60_000,
          hookTimeout: 60 * 60_000,
        },
      },
    ],
  },
});
