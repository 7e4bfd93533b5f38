// Access to the project's parts the engine figures need: the simulator and the
// engine. They are imported lazily so a missing or broken part makes only the
// figures that need it "unavailable" (with the reason), never the whole run.
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import type { Simulator, SimulatorOptions } from '../../src/sim/index.js';
import type { MailboxSync, MailboxSyncOptions } from '../../src/index.js';
import type { SqliteStorage, SqliteStorageOptions } from '../../src/sqlite.js';
import type { BenchContext } from './context.js';

export type { Simulator, MailboxSync, MailboxSyncOptions };

/** The engine as the bench drives it. */
export type Engine = MailboxSync;

export interface EngineFactory {
  create(options: MailboxSyncOptions): Engine;
  /** Where the factory came from (recorded in figure notes). */
  source: string;
}

function reasonOf(e: unknown): string {
  return e instanceof Error ? (e.message.split('\n')[0] ?? e.name) : String(e);
}

export async function loadSimulator(): Promise<{ start(o: SimulatorOptions): Promise<Simulator> } | string> {
  try {
    const m = (await import('../../src/sim/index.js')) as { startSimulator?: (o: SimulatorOptions) => Promise<Simulator> };
    if (typeof m.startSimulator !== 'function') return 'src/sim/index.ts does not export startSimulator yet';
    const start = m.startSimulator;
    return { start: (o) => start(o) };
  } catch (e) {
    return `simulator not available: ${reasonOf(e)}`;
  }
}

/** The public `createMailboxSync` from src/index.ts. */
export async function loadEngine(): Promise<EngineFactory | string> {
  try {
    const m = (await import('../../src/index.js')) as { createMailboxSync?: (o: MailboxSyncOptions) => Engine };
    if (typeof m.createMailboxSync !== 'function') return 'src/index.ts does not export createMailboxSync yet';
    const create = m.createMailboxSync;
    return { create: (o) => create(o), source: 'createMailboxSync (src/index.ts)' };
  } catch (e) {
    return `engine not available: ${reasonOf(e)}`;
  }
}

/** `sqliteStorage` of the public `sendmux-sync/sqlite` entry (src/sqlite.ts; needs better-sqlite3). */
export async function loadSqliteStorage(): Promise<((options: SqliteStorageOptions) => SqliteStorage) | string> {
  try {
    const m = (await import('../../src/sqlite.js')) as { sqliteStorage?: (o: SqliteStorageOptions) => SqliteStorage };
    if (typeof m.sqliteStorage !== 'function') return 'src/sqlite.ts does not export sqliteStorage yet';
    return m.sqliteStorage;
  } catch (e) {
    return `SQLite storage not available: ${reasonOf(e)}`;
  }
}

/** A fresh fake-indexeddb factory (isolated, garbage-collected with the engine). */
export function nodeIdb(): { indexedDB: IDBFactory; IDBKeyRange: typeof IDBKeyRange } {
  return { indexedDB: new IDBFactory(), IDBKeyRange };
}

/** Counts what an engine's fetch sees: requests by method and URL path, responses by status (429s). */
export interface FetchCounter {
  fetch: typeof fetch;
  requests: number;
  byPath: Record<string, number>;
  byStatus: Record<number, number>;
}

export function countingFetch(): FetchCounter {
  const c: FetchCounter = {
    requests: 0,
    byPath: {},
    byStatus: {},
    fetch: async (input, init) => {
      c.requests++;
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
      const key = `${method.toUpperCase()} ${new URL(url).pathname}`;
      c.byPath[key] = (c.byPath[key] ?? 0) + 1;
      const res = await fetch(input, init);
      c.byStatus[res.status] = (c.byStatus[res.status] ?? 0) + 1;
      return res;
    },
  };
  return c;
}

/** Simulators shared across figures of one run (generating 100k messages takes seconds). */
export class SimPool {
  private readonly sims = new Map<string, Promise<Simulator>>();
  constructor(private readonly start: (o: SimulatorOptions) => Promise<Simulator>) {}

  /** A simulator for `options`; `tag` separates instances with equal options. */
  get(options: SimulatorOptions, tag = ''): Promise<Simulator> {
    const key = JSON.stringify(options) + tag;
    let s = this.sims.get(key);
    if (!s) {
      s = this.start({ port: 0, ...options });
      this.sims.set(key, s);
    }
    return s;
  }

  /** Closes one simulator early (big mailboxes hold hundreds of MB). */
  async release(options: SimulatorOptions, tag = ''): Promise<void> {
    const key = JSON.stringify(options) + tag;
    const s = this.sims.get(key);
    if (!s) return;
    this.sims.delete(key);
    await (await s).close().catch(() => undefined);
  }

  async closeAll(): Promise<void> {
    for (const s of this.sims.values()) await (await s).close().catch(() => undefined);
    this.sims.clear();
  }
}

/** Resolves the simulator and engine, or the reason a figure cannot run. */
export async function needParts(ctx: BenchContext, want: { engine: boolean }): Promise<{ sims: SimPool; engine: EngineFactory | null } | string> {
  const sims = await ctx.sims();
  if (typeof sims === 'string') return sims;
  if (!want.engine) return { sims, engine: null };
  const engine = await loadEngine();
  if (typeof engine === 'string') return engine;
  return { sims, engine };
}
