import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    // Fails a test during which an unhandled promise rejection surfaced.
    setupFiles: ['test/setup/unhandled.ts'],
    // Integration tests run real HTTP servers and fake-indexeddb; keep parallelism
    // modest on 2-core machines.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
