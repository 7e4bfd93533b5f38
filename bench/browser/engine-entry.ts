// Browser bundle for the engine figures in Chromium (real IndexedDB). The page is
// served from the harness origin, which proxies /api/* to the current simulator.
import { firstValueFrom } from 'rxjs';
import { createMailboxSync } from '../../src/index.js';
import { measureOptimistic } from '../engine/optimistic.js';
import type { OptimisticSamples } from '../engine/optimistic.js';
import { measureFirstRows } from '../engine/first-rows.js';

let seq = 0;

function engine(apiKey: string, extra: { events?: boolean } = {}) {
  return createMailboxSync({ apiKey, baseUrl: `${location.origin}/api/v1`, dbName: `bench-${Date.now()}-${++seq}`, ...extra });
}

/** What the page exposes as `globalThis.__benchEngine`. */
export interface BrowserEngine {
  /** Bootstraps an empty replica; resolves with the time and the replica's message count. */
  bootstrap(apiKey: string): Promise<{ ms: number; count: number }>;
  optimistic(apiKey: string, folderId: string, sizes: number[], samples: number): Promise<OptimisticSamples>;
  /**
   * start() on an empty replica → a messages$ subscription made before it emits
   * `want` rows of the folder (null when it has not after `waitMs`), and when a fresh
   * subscription first returns them.
   */
  firstRows(apiKey: string, folderId: string, want: number, waitMs: number): Promise<{ live: number | null; available: number }>;
}

const api: BrowserEngine = {
  async bootstrap(apiKey) {
    const sync = engine(apiKey, { events: false });
    const t0 = performance.now();
    await sync.start();
    const ms = performance.now() - t0;
    const count = await firstValueFrom(sync.count$({}));
    await sync.clear();
    return { ms, count };
  },
  async optimistic(apiKey, folderId, sizes, samples) {
    const sync = engine(apiKey);
    try {
      await sync.start();
      return await measureOptimistic(sync, folderId, sizes, samples);
    } finally {
      await sync.clear();
    }
  },
  firstRows: (apiKey, folderId, want, waitMs) => measureFirstRows(engine(apiKey), folderId, want, waitMs),
};

(globalThis as unknown as { __benchEngine: BrowserEngine }).__benchEngine = api;
