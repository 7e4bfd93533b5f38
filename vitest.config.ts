import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

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

/**
 * Files that take minutes (the 100k demo in Chromium) or spawn many processes. They
 * start first, so the rest runs beside them instead of after them: with no timing
 * cache (CI) vitest orders by file size, which put the 100k run near the end, alone.
 */
const LONG_FIRST = [
  'test/browser/scale.test.ts',
  'test/cli/cli.test.ts',
  'test/integration/sqlite-processes.test.ts',
  'test/chaos/chaos.test.ts',
  'test/windows/partialReplica.test.ts',
];

class LongFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = LONG_FIRST.findIndex((p) => f.moduleId.replaceAll('\\', '/').endsWith(p));
      return i < 0 ? LONG_FIRST.length : i;
    };
    // Stable: within a rank (and for every other file) vitest's own order.
    return sorted.map((f, i) => ({ f, i })).sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i).map(({ f }) => f);
  }
}

export default defineConfig({
  test: {
    // Fails a test during which an unhandled promise rejection surfaced.
    setupFiles: ['test/setup/unhandled.ts'],
    // Integration tests run real HTTP servers and databases; keep parallelism
    // modest on 2-core machines.
    pool: 'forks',
    sequence: { sequencer: LongFirstSequencer },
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
