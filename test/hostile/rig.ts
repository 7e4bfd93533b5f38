// The engine the hostile-input tests corrupt responses for: a small simulator behind
// a HostileFetch proxy, and a started engine that only syncs when told to (no SSE,
// hour-long polls, fast retries), with its errors$ collected.
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import type { SyncError } from '../../src/index.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { createSyncEngine, type SyncEngine } from '../../src/engine.js';
import { HostileFetch } from './hostileFetch.js';

export interface HostileRig {
  sim: Simulator;
  proxy: HostileFetch;
  engine: SyncEngine;
  errors: SyncError[];
}

/**
 * Starts the rig; the caller stops `engine.sync` and closes `sim`. With `start: false`
 * the engine is created but not started (arm the proxy, then start it yourself).
 */
export async function startHostileRig(options: { dbName: string; pageSize?: number; start?: boolean }): Promise<HostileRig> {
  const sim = await startSimulator({ port: 0, seed: 7, messages: 60, rateLimitPerMinute: 0 });
  const proxy = new HostileFetch(sim.url);
  const engine = createSyncEngine({
    apiKey: sim.apiKey,
    baseUrl: sim.url,
    fetch: proxy.fetch,
    indexedDB: new IDBFactory(),
    IDBKeyRange,
    dbName: options.dbName,
    leader: 'always',
    events: false,
    ...(options.pageSize ? { pageSize: options.pageSize } : {}),
    poll: { visibleMs: 3_600_000, hiddenMs: 3_600_000, offlineBackoff: { baseMs: 3_600_000, maxMs: 3_600_000 } },
    apiOptions: { retry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 20 }, rateLimit: false },
  });
  const errors: SyncError[] = [];
  engine.sync.errors$.subscribe((e) => errors.push(e));
  if (options.start !== false) await engine.sync.start();
  return { sim, proxy, engine, errors };
}
