import { defineConfig } from 'vitest/config';

/** The suites that run on every storage backend (test/helpers/storage.ts picks it). */
const EVERY_BACKEND = [
  'test/integration/**/*.test.ts',
  'test/engine/**/*.test.ts',
  'test/outbox/**/*.test.ts',
  'test/content/**/*.test.ts',
  'test/windows/**/*.test.ts',
  'test/store/**/*.test.ts',
  'test/chaos/**/*.test.ts',
];

export default defineConfig({
  test: {
    // Fails a test during which an unhandled promise rejection surfaced.
    setupFiles: ['test/setup/unhandled.ts'],
    // Integration tests run real HTTP servers and databases; keep parallelism
    // modest on 2-core machines.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
    projects: [
      // Everything, with the replica on fake-indexeddb (the browser suites use Chromium's IndexedDB).
      { extends: true, test: { name: 'indexeddb', include: ['test/**/*.test.ts', 'test/**/*.test.tsx'] } },
      // The same engine suites with the replica on SQLite (sendmux-sync/sqlite).
      {
        extends: true,
        test: {
          name: 'sqlite',
          include: EVERY_BACKEND,
          // Always on SQLite already (child processes on one file): once is enough.
          exclude: ['test/integration/sqlite-processes.test.ts'],
          env: { SENDMUX_TEST_STORAGE: 'sqlite' },
        },
      },
    ],
  },
});
