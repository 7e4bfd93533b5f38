// Shared setup of engine integration tests: a simulator over real HTTP/SSE and an
// engine on a fresh fake-indexeddb factory.
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { firstValueFrom, filter, timeout } from 'rxjs';
import { createSyncEngine, type MailboxSync, type MailboxSyncOptions, type SyncEngine } from '../../src/sync/engine.js';
import type { SyncStatus } from '../../src/sync/status.js';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/sim/index.js';

export type { Simulator };

export async function sim(options: SimulatorOptions = {}): Promise<Simulator> {
  return startSimulator({ port: 0, seed: 1, messages: 120, rateLimitPerMinute: 0, ...options });
}

export interface EngineHandle extends SyncEngine {
  sync: MailboxSync;
  factory: IDBFactory;
}

/** An engine against `s`; pass `factory` to reopen the same database (a reload). */
export function engine(s: Simulator, options: Partial<MailboxSyncOptions> & { factory?: IDBFactory } = {}): EngineHandle {
  const { factory = new IDBFactory(), ...rest } = options;
  const e = createSyncEngine({
    apiKey: s.apiKey,
    baseUrl: s.url,
    indexedDB: factory,
    IDBKeyRange,
    dbName: 'replica',
    leader: 'always',
    poll: { visibleMs: 60_000, hiddenMs: 60_000, offlineBackoff: { baseMs: 50, maxMs: 200 } },
    apiOptions: { retry: { attempts: 4, baseDelayMs: 10, maxDelayMs: 100 }, rateLimit: false },
    ...rest,
  });
  return { ...e, factory };
}

/** Waits until status$ satisfies `pred` (default: live). */
export function waitStatus(sync: MailboxSync, pred: (s: SyncStatus) => boolean = (s) => s.phase === 'live', ms = 20_000): Promise<SyncStatus> {
  return firstValueFrom(sync.status$.pipe(filter(pred), timeout(ms)));
}

/** Polls `check` until it returns true (for effects of background work). */
export async function eventually(check: () => Promise<boolean> | boolean, ms = 20_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Deep-equality helper for convergence messages: the first differing record. */
export function firstDiff(a: Record<string, { id: string }[]>, b: Record<string, { id: string }[]>): string | undefined {
  for (const key of Object.keys(b)) {
    const la = a[key] ?? [];
    const lb = b[key] ?? [];
    if (la.length !== lb.length) return `${key}: ${la.length} local vs ${lb.length} server`;
    for (let i = 0; i < lb.length; i++) {
      if (JSON.stringify(la[i]) !== JSON.stringify(lb[i])) return `${key}[${i}]: local ${JSON.stringify(la[i])}\nserver ${JSON.stringify(lb[i])}`;
    }
  }
  return undefined;
}
