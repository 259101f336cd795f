// Three suites: unit tests that need nothing but Node, integration tests that run host tools and local servers, and end-to-end tests that boot
// the real image in QEMU.
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
          testTimeout: 15 * 60_000,
          hookTimeout: 60 * 60_000,
        },
      },
    ],
  },
});
