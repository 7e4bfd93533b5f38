// Baselines written in the bench, with plain fetch (no engine, no API client):
// - the raw limit of a bootstrap: list every page of every record type the engine
//   replicates, then one Dexie bulkPut per type (fake-indexeddb), or one
//   better-sqlite3 transaction per page (SQLite);
// - the naive "official SDK in a loop" client: re-list each folder's first page every
//   poll interval.
import type Database from 'better-sqlite3';
import { Dexie } from 'dexie';
import type { IdbEnv } from '../peers/peers.js';

/** The list endpoints a full replica needs (DESIGN.md "bootstrap"), and their page size. */
export const LIST_PATHS = ['/mailbox/folders', '/mailbox/messages', '/mailbox/threads', '/mailbox/identities', '/mailbox/submissions', '/mailbox/quotas'] as const;
export const MAX_PAGE = 100;

export interface RawListing {
  ms: number;
  requests: number;
  bytes: number;
  records: Record<string, Array<{ id: string }>>;
}

interface ListEnvelope {
  data: Array<{ id: string }>;
  pagination?: { has_more: boolean; next_cursor?: string };
}

async function getJson(url: string, apiKey: string): Promise<{ body: unknown; bytes: number }> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${apiKey}`, accept: 'application/json' } });
  const text = await res.text();
  if (!res.ok) throw new Error(`GET ${url} -> ${res.status}: ${text.slice(0, 200)}`);
  return { body: JSON.parse(text) as unknown, bytes: Buffer.byteLength(text) };
}

/** Lists every page of every replicated type, sequentially, as fast as the server answers. */
export async function rawListAll(baseUrl: string, apiKey: string): Promise<RawListing> {
  const t0 = performance.now();
  const records: RawListing['records'] = {};
  let requests = 0;
  let bytes = 0;
  for (const path of LIST_PATHS) {
    const out: Array<{ id: string }> = [];
    let cursor: string | undefined;
    for (;;) {
      const u = new URL(baseUrl + path);
      u.searchParams.set('limit', String(MAX_PAGE));
      if (cursor) u.searchParams.set('cursor', cursor);
      const { body, bytes: b } = await getJson(u.toString(), apiKey);
      requests++;
      bytes += b;
      const env = body as ListEnvelope;
      out.push(...env.data);
      if (!env.pagination?.has_more || !env.pagination.next_cursor) break;
      cursor = env.pagination.next_cursor;
    }
    records[path.slice('/mailbox/'.length)] = out;
  }
  return { ms: performance.now() - t0, requests, bytes, records };
}

/** Milliseconds for one bulkPut per type into an empty database (primary key only: the write limit). */
export async function rawDexiePut(env: IdbEnv, name: string, records: RawListing['records']): Promise<number> {
  const db = new Dexie(name, { indexedDB: env.indexedDB, IDBKeyRange: env.IDBKeyRange });
  db.version(1).stores(Object.fromEntries(Object.keys(records).map((t) => [t, 'id'])));
  await db.open();
  const t0 = performance.now();
  for (const [type, rows] of Object.entries(records)) await db.table(type).bulkPut(rows);
  const ms = performance.now() - t0;
  db.close();
  await db.delete();
  return ms;
}

/**
 * Milliseconds to write the listing into a new SQLite file with better-sqlite3, the
 * way the engine receives it: one transaction per page of `pageSize` records, one
 * prepared INSERT per type into a `(id TEXT PRIMARY KEY, json TEXT)` table, the
 * record as JSON text. WAL and synchronous=NORMAL, as the engine's file. Tables are
 * created before the clock starts; no secondary index is written.
 */
export async function rawSqliteInsert(path: string, records: RawListing['records'], pageSize: number = MAX_PAGE): Promise<number> {
  return timedInsert(path, records, pageSize, (db) => (type) => plainWriter(db, type));
}

type Row = { id: string };

/** A `(id TEXT PRIMARY KEY, json TEXT)` table for one type, and its row writer. */
function plainWriter(db: Database.Database, type: string): (r: Row) => void {
  db.exec(`CREATE TABLE "${type}" (id TEXT PRIMARY KEY, json TEXT NOT NULL)`);
  const insert = db.prepare<[string, string]>(`INSERT INTO "${type}" (id, json) VALUES (?, ?)`);
  return (r) => insert.run(r.id, JSON.stringify(r));
}

/**
 * Opens a new file as the engine's (WAL, synchronous=NORMAL), lets `writerOf` create
 * its tables and give each type's row writer (untimed), then times writing every
 * page of `pageSize` rows in a transaction of its own.
 */
async function timedInsert(
  path: string,
  records: RawListing['records'],
  pageSize: number,
  writerOf: (db: Database.Database) => (type: string) => (r: Row) => void,
): Promise<number> {
  // Loaded here so figures that never call this do not need the native module.
  const { default: open } = (await import('better-sqlite3')) as { default: typeof Database };
  const db = open(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    const writerFor = writerOf(db);
    const writers = Object.entries(records).map(([type, rows]) => {
      const write = writerFor(type);
      const page = db.transaction((chunk: readonly Row[]) => {
        for (const r of chunk) write(r);
      });
      const pages: Row[][] = [];
      for (let i = 0; i < rows.length; i += pageSize) pages.push(rows.slice(i, i + pageSize));
      return { pages, page };
    });
    const t0 = performance.now();
    for (const { pages, page } of writers) for (const chunk of pages) page(chunk);
    return performance.now() - t0;
  } finally {
    db.close();
  }
}

/** What the indexed floor reads of a message and of a thread (API field names). */
interface MessageFields {
  id: string;
  thread_id?: string;
  folder_ids?: string[];
  received_at?: string | null;
  flags?: { seen?: boolean; flagged?: boolean };
}
interface ThreadFields {
  id: string;
  folder_ids?: string[];
  last_message?: { received_at?: string | null } | null;
}

/** The folder id of the all-messages rows (the replica's ALL_MESSAGES). */
const ALL = '';

/**
 * Milliseconds to write the listing as `rawSqliteInsert` does, plus the secondary rows
 * a mail replica keeps for its queries, in a schema written by hand for them: messages
 * by thread; a clustered (folder, received time, id) row per folder of a message and
 * one for all mail, with partial indexes of the unread and the flagged; threads by
 * their last message's time and a (folder, thread) row per folder; the message's id
 * queued for full-text indexing. The rows this engine's replica writes per message,
 * in plain SQL (one prepared statement per table, one transaction per page): what the
 * platform itself needs for the work, with none of the engine's generic layer.
 */
export async function rawSqliteInsertIndexed(path: string, records: RawListing['records'], pageSize: number = MAX_PAGE): Promise<number> {
  return timedInsert(path, records, pageSize, (db) => {
    db.exec(`
      CREATE TABLE messages (id TEXT PRIMARY KEY, thread_id TEXT, json TEXT NOT NULL);
      CREATE INDEX messages_thread ON messages (thread_id);
      CREATE TABLE folder_index (folder_id TEXT NOT NULL, received_key REAL NOT NULL, id TEXT NOT NULL, unread INTEGER, flagged INTEGER,
        PRIMARY KEY (folder_id, received_key, id)) WITHOUT ROWID;
      CREATE INDEX folder_unread ON folder_index (folder_id, received_key) WHERE unread = 1;
      CREATE INDEX folder_flagged ON folder_index (folder_id, received_key) WHERE flagged = 1;
      CREATE TABLE fts_pending (seq INTEGER PRIMARY KEY, id TEXT NOT NULL);
      CREATE TABLE threads (id TEXT PRIMARY KEY, last_received TEXT, json TEXT NOT NULL);
      CREATE INDEX threads_last ON threads (last_received);
      CREATE TABLE thread_folders (folder_id TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (folder_id, id)) WITHOUT ROWID;
    `);
    const putMessage = db.prepare<[string, string | null, string]>(`INSERT INTO messages (id, thread_id, json) VALUES (?, ?, ?)`);
    const putRow = db.prepare<[string, number, string, number | null, number | null]>(
      `INSERT INTO folder_index (folder_id, received_key, id, unread, flagged) VALUES (?, ?, ?, ?, ?)`,
    );
    const queue = db.prepare<[string]>(`INSERT INTO fts_pending (id) VALUES (?)`);
    const putThread = db.prepare<[string, string | null, string]>(`INSERT INTO threads (id, last_received, json) VALUES (?, ?, ?)`);
    const putThreadFolder = db.prepare<[string, string]>(`INSERT OR IGNORE INTO thread_folders (folder_id, id) VALUES (?, ?)`);
    const writeMessage = (m: MessageFields) => {
      putMessage.run(m.id, m.thread_id ?? null, JSON.stringify(m));
      const at = m.received_at ? Date.parse(m.received_at) : NaN;
      const key = Number.isNaN(at) ? -1e308 : at;
      const unread = m.flags?.seen ? null : 1;
      const flagged = m.flags?.flagged ? 1 : null;
      for (const folder of new Set([ALL, ...(m.folder_ids ?? [])])) putRow.run(folder, key, m.id, unread, flagged);
      queue.run(m.id);
    };
    const writeThread = (t: ThreadFields) => {
      putThread.run(t.id, t.last_message?.received_at ?? null, JSON.stringify(t));
      for (const folder of new Set(t.folder_ids ?? [])) putThreadFolder.run(folder, t.id);
    };
    return (type) =>
      type === 'messages' ? (writeMessage as (r: Row) => void) : type === 'threads' ? (writeThread as (r: Row) => void) : plainWriter(db, type);
  });
}

/**
 * The naive client: every `intervalMs`, fetch the folder list and the first page
 * (`pageSize` newest) of every folder — what a UI built on a plain SDK does to stay
 * as fresh as a poll interval. Returns a stop function.
 */
export function startNaivePoller(baseUrl: string, apiKey: string, intervalMs: number, pageSize: number): { stop(): Promise<void>; polls(): number } {
  let stopped = false;
  let polls = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> = Promise.resolve();
  const pollOnce = async () => {
    const folders = (await getJson(`${baseUrl}/mailbox/folders?limit=${MAX_PAGE}`, apiKey)).body as ListEnvelope;
    for (const f of folders.data) {
      if (stopped) return;
      await getJson(`${baseUrl}/mailbox/messages?folder_id=${encodeURIComponent(f.id)}&limit=${pageSize}`, apiKey);
    }
    polls++;
  };
  // Fixed rate: a poll starts every intervalMs (or right after the previous one when it overran).
  const tick = () => {
    if (stopped) return;
    const started = performance.now();
    running = pollOnce().finally(() => {
      if (!stopped) timer = setTimeout(tick, Math.max(0, intervalMs - (performance.now() - started)));
    });
  };
  tick();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running.catch(() => undefined);
    },
    polls: () => polls,
  };
}
