// The child process of the storage figures (bench/figures/sqlite.ts): one task per
// process, so each backend's RSS is its own and a restart starts from a cold process
// on the file the previous one left. The simulator runs in the parent.
//   raw:       list every page with plain fetch, then insert it with raw better-sqlite3
//   bootstrap: an engine on an empty replica, start() until caught up; RSS after it
//   restart:   an engine on the file a bootstrap left (fake-indexeddb: empty again,
//              it lives in memory), createMailboxSync → start(); then local searches
import { firstValueFrom } from 'rxjs';
import { serveChildTask } from '../lib/child.js';
import type { Engine, MailboxSyncOptions } from '../lib/parts.js';
import { countingFetch, loadEngine, loadSqliteStorage, nodeIdb } from '../lib/parts.js';
import { rawListAll, rawSqliteInsert, rawSqliteInsertIndexed } from '../lib/raw-client.js';

export type Backend = 'sqlite' | 'fake-indexeddb';

interface SimTarget {
  url: string;
  apiKey: string;
  /** Messages the mailbox holds (checked after every listing and start()). */
  messages: number;
}

export interface RawTask extends SimTarget {
  kind: 'raw';
  /** A new SQLite file for the raw insert. */
  path: string;
  /** Another new file for the indexed raw insert of the same listing. */
  indexedPath: string;
}

export interface EngineTask extends SimTarget {
  kind: 'bootstrap' | 'restart';
  backend: Backend;
  /** The SQLite file (unused by fake-indexeddb). */
  path: string;
  /** Local searches to time after start() (restart only). */
  queries: readonly string[];
}

export type StorageTask = RawTask | EngineTask;

export interface RawReport {
  listMs: number;
  insertMs: number;
  /** The same listing written with the replica's secondary rows (rawSqliteInsertIndexed). */
  insertIndexedMs: number;
  requests: number;
  bytes: number;
}

/** Process memory in MiB. */
export interface MemoryReport {
  /** RSS after imports, before the engine exists. */
  rssBeforeMb: number;
  /** RSS right after start() resolved (engine still running). */
  rssMb: number;
  /** Peak RSS of the process so far (getrusage maxrss). */
  maxRssMb: number;
  heapUsedMb: number;
}

export interface SearchSample {
  query: string;
  ms: number;
  hits: number;
}

export interface EngineReport {
  /** createMailboxSync (restart) or start() (bootstrap) until start() resolved. */
  ms: number;
  /** Requests the engine's fetch made until start() resolved, and by route. */
  requests: number;
  byPath: Record<string, number>;
  memory: MemoryReport;
  search: SearchSample[];
  /** SQLite bootstrap: start() until the full-text index holds every message (it fills after start() resolved). */
  indexedMs?: number;
}

export type StorageReport = RawReport | EngineReport;

const MB = 2 ** 20;

async function runRaw(task: RawTask): Promise<RawReport> {
  const raw = await rawListAll(task.url, task.apiKey);
  const got = raw.records['messages']?.length ?? 0;
  if (got !== task.messages) throw new Error(`raw listing returned ${got} of ${task.messages} messages`);
  const insertMs = await rawSqliteInsert(task.path, raw.records);
  const insertIndexedMs = await rawSqliteInsertIndexed(task.indexedPath, raw.records);
  return { listMs: raw.ms, insertMs, insertIndexedMs, requests: raw.requests, bytes: raw.bytes };
}

async function storageOptions(task: EngineTask): Promise<Partial<MailboxSyncOptions>> {
  if (task.backend === 'fake-indexeddb') return nodeIdb();
  const sqliteStorage = await loadSqliteStorage();
  if (typeof sqliteStorage === 'string') throw new Error(sqliteStorage);
  return { storage: sqliteStorage({ path: task.path }) };
}

/** Time to the first emission of a replica-only search$, and its hit count. */
async function timeSearch(engine: Engine, query: string): Promise<SearchSample> {
  const t0 = performance.now();
  const state = await firstValueFrom(engine.search$(query, { server: false }));
  return { query, ms: performance.now() - t0, hits: state.localHits };
}

async function runEngine(task: EngineTask, log: (msg: string) => void): Promise<EngineReport> {
  const factory = await loadEngine();
  if (typeof factory === 'string') throw new Error(factory);
  const storage = await storageOptions(task);
  const counter = countingFetch();
  const rssBeforeMb = process.memoryUsage().rss / MB;
  const t0 = performance.now();
  const engine = factory.create({ apiKey: task.apiKey, baseUrl: task.url, fetch: counter.fetch, leader: 'always', ...storage });
  const t1 = performance.now();
  await engine.start();
  const done = performance.now();
  const requests = counter.requests;
  const byPath = { ...counter.byPath };
  const usage = process.memoryUsage();
  const memory: MemoryReport = {
    rssBeforeMb,
    rssMb: usage.rss / MB,
    // maxRSS is in KiB.
    maxRssMb: (process.resourceUsage().maxRSS * 1024) / MB,
    heapUsedMb: usage.heapUsed / MB,
  };
  const count = await firstValueFrom(engine.count$({}));
  if (count !== task.messages) throw new Error(`${task.backend} replica holds ${count} of ${task.messages} messages after start()`);
  // The bootstrap's messages are full-text indexed in the background once its writes
  // stop: wait for that (the restarts' searches then read a complete index).
  const whenIndexed = (storage.storage as { whenIndexed?: () => Promise<void> } | undefined)?.whenIndexed;
  const indexedMs = whenIndexed ? (await whenIndexed(), performance.now() - t1) : undefined;
  const search: SearchSample[] = [];
  for (const q of task.queries) search.push(await timeSearch(engine, q));
  await engine.stop();
  const ms = task.kind === 'restart' ? done - t0 : done - t1;
  log(
    `  ${task.backend} ${task.kind}: ${(ms / 1000).toFixed(2)} s, ${requests} requests, RSS ${memory.rssMb.toFixed(0)} MB` +
      (indexedMs !== undefined ? `, indexed at ${(indexedMs / 1000).toFixed(2)} s` : ''),
  );
  return { ms, requests, byPath, memory, search, ...(indexedMs !== undefined ? { indexedMs } : {}) };
}

serveChildTask<StorageTask, StorageReport>((task, log) => (task.kind === 'raw' ? runRaw(task) : runEngine(task, log)));
