// Full-text search on the SQLite replica: the FTS5 expression a parsed query compiles
// to, and search$ in Node answering from the index (every hit checked against the
// whole query, as the scan checks them): same hits as the scan for whole words,
// snippets, new mail and cached bodies found, and an index built for a
// replica that was written before it existed.
import Database from 'better-sqlite3';
import { firstValueFrom, filter, timeout } from 'rxjs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createMailboxSync, type MailboxSync } from '../../src/index.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { parseSearch } from '../../src/store/searchSyntax.js';
import { sqliteStorage, type SqliteStorage } from '../../src/store/sqlite/index.js';
import { tablePrefix } from '../../src/store/sqlite/core.js';
import { DEFER_MIN, ORDER_SLOTS, drainPending, ftsCandidates, ftsTables, indexBodies, indexMessages, setupFts, toFtsQuery } from '../../src/store/sqlite/fts.js';
import { Connection, SqliteFile } from '../../src/store/sqlite/file.js';
import { FILL_CHUNK, IndexFiller } from '../../src/store/sqlite/fill.js';
import { encodeKey } from '../../src/store/sqlite/keys.js';
import { serialize } from 'node:v8';
import type { Message } from '../../src/api/types.js';
import { message } from './fixtures.js';
import type { ReplicaStorage, TextSearch } from '../../src/store/storage.js';
import { scratchDir } from '../helpers/storage.js';

/** An index in a new in-memory database. */
const open = () => {
  const conn = new Connection(new Database(':memory:'));
  const tables = ftsTables('t');
  setupFts(conn, tables);
  return { conn, tables };
};
const find = (conn: Connection, tables: ReturnType<typeof ftsTables>, q: string) =>
  ftsCandidates(conn, tables, toFtsQuery(parseSearch(q)), { limit: 1_000, offset: 0 });

describe('indexMessages / indexBodies (docids found from the stored record)', () => {
  const docs = (conn: Connection, tables: ReturnType<typeof ftsTables>) =>
    conn.db.prepare(`SELECT docid, id FROM ${tables.docs} ORDER BY docid`).all() as { docid: number; id: string }[];

  it('keeps one row per message through updates, a move in time, a body and a removal', () => {
    const { conn, tables } = open();
    const at = '2026-03-01T10:00:00.000Z';
    const m1 = message({ id: 'm1', subject: 'Accordion lessons', received_at: at });
    const m2 = message({ id: 'm2', subject: 'Banjo lessons', received_at: at });
    indexMessages(conn, tables, [
      { id: 'm1', previous: undefined, next: m1 },
      { id: 'm2', previous: undefined, next: m2 },
    ]);
    const base = Date.parse(at) * ORDER_SLOTS;
    // Same millisecond: two slots of it, newest-inserted last.
    expect(docs(conn, tables)).toEqual([
      { docid: base, id: 'm1' },
      { docid: base + 1, id: 'm2' },
    ]);
    expect(find(conn, tables, 'lessons')).toEqual(['m2', 'm1']);

    const stored = new Map<string, Message>([['m1', m1]]);
    indexBodies(conn, tables, [{ id: 'm1', text: 'the zither is tuned' }, { id: 'unknown', text: 'zither' }], (id) => stored.get(id));
    expect(find(conn, tables, 'zither')).toEqual(['m1']);

    // A flag change re-indexes the row in place and keeps the cached body.
    const read = { ...m1, flags: { ...m1.flags, seen: true } };
    indexMessages(conn, tables, [{ id: 'm1', previous: m1, next: read }]);
    expect(find(conn, tables, 'zither')).toEqual(['m1']);
    expect(find(conn, tables, 'is:read')).toEqual(['m1']);
    expect(docs(conn, tables).filter((d) => d.id === 'm1')).toEqual([{ docid: base, id: 'm1' }]);

    // A new received time moves it to that millisecond's slots, body and all; twice in one batch.
    const later = { ...read, received_at: '2026-03-02T10:00:00.000Z' };
    const latest = { ...later, subject: 'Accordion recital' };
    indexMessages(conn, tables, [
      { id: 'm1', previous: read, next: later },
      { id: 'm1', previous: later, next: latest },
    ]);
    expect(docs(conn, tables)).toEqual([
      { docid: base + 1, id: 'm2' },
      { docid: Date.parse('2026-03-02T10:00:00.000Z') * ORDER_SLOTS, id: 'm1' },
    ]);
    expect(find(conn, tables, 'recital')).toEqual(['m1']);
    expect(find(conn, tables, 'lessons')).toEqual(['m2']);
    expect(find(conn, tables, 'zither')).toEqual(['m1']);

    indexMessages(conn, tables, [{ id: 'm1', previous: latest, next: undefined }]);
    expect(find(conn, tables, 'recital')).toEqual([]);
    expect(find(conn, tables, 'zither')).toEqual([]);
    expect(docs(conn, tables)).toEqual([{ docid: base + 1, id: 'm2' }]);
    conn.db.close();
  });
});

describe('the fill queue (bulk writes indexed after the fact)', () => {
  const queued = (conn: Connection, tables: ReturnType<typeof ftsTables>) => conn.db.prepare(`SELECT id FROM ${tables.pending} ORDER BY seq`).pluck().all();

  it('queues a bulk write\'s new messages, indexes small writes at once, and drains the queue skipping what was indexed or removed since', () => {
    const { conn, tables } = open();
    const bulk = Array.from({ length: DEFER_MIN + 6 }, (_, i) =>
      message({ id: `b${i}`, subject: `Oboe part ${i}`, received_at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString() }),
    );
    const stored = new Map(bulk.map((m) => [m.id, m]));
    const changes = bulk.map((m) => ({ id: m.id, previous: undefined, next: m }));
    expect(indexMessages(conn, tables, changes, { defer: true })).toBe(bulk.length);
    expect(queued(conn, tables)).toEqual(bulk.map((m) => m.id));
    expect(find(conn, tables, 'oboe')).toEqual([]);
    // Below DEFER_MIN new messages, or without `defer`: indexed in the write itself.
    const small = message({ id: 's1', subject: 'Oboe reed', received_at: '2026-02-01T00:00:00.000Z' });
    stored.set('s1', small);
    expect(indexMessages(conn, tables, [{ id: 's1', previous: undefined, next: small }], { defer: true })).toBe(0);
    expect(find(conn, tables, 'reed')).toEqual(['s1']);

    // Since queued: b0 changed (indexed by that write), b1 got its body cached
    // (indexed with it), b2 removed (nothing to index).
    const b0 = { ...bulk[0]!, subject: 'Oboe concerto' };
    stored.set('b0', b0);
    indexMessages(conn, tables, [{ id: 'b0', previous: bulk[0], next: b0 }], { defer: true });
    indexBodies(conn, tables, [{ id: 'b1', text: 'the bassoon enters' }], (id) => stored.get(id));
    stored.delete('b2');
    indexMessages(conn, tables, [{ id: 'b2', previous: bulk[2], next: undefined }], { defer: true });
    expect(find(conn, tables, 'concerto')).toEqual(['b0']);
    expect(find(conn, tables, 'bassoon')).toEqual(['b1']);

    // Chunks of 30, oldest queued first; each message gets exactly one row.
    let rounds = 0;
    while (drainPending(conn, tables, 30, (id) => stored.get(id))) rounds += 1;
    expect(rounds).toBe(2);
    expect(queued(conn, tables)).toEqual([]);
    expect(find(conn, tables, 'oboe').sort()).toEqual([...stored.keys()].sort());
    expect(find(conn, tables, 'bassoon')).toEqual(['b1']);
    const rows = conn.db.prepare(`SELECT id, count(*) AS n FROM ${tables.docs} GROUP BY id HAVING n > 1`).all();
    expect(rows).toEqual([]);
    expect(conn.db.prepare(`SELECT count(*) FROM ${tables.fts}`).pluck().get()).toBe(stored.size);
    conn.db.close();
  });
});

describe('the filler (IndexFiller)', () => {
  it('yields to other writes between its chunks and drains the queue once they stop', async () => {
    const path = join(scratchDir(), `filler-${Date.now()}.sqlite`);
    const file = SqliteFile.acquire(path);
    const tables = ftsTables('t');
    const total = 4 * FILL_CHUNK;
    const queuedNow = async () => {
      const trans = file.transaction('readonly', []);
      const n = trans.run((conn) => conn.db.prepare(`SELECT count(*) FROM ${tables.pending}`).pluck().get() as number);
      trans.commit();
      return n;
    };
    const setup = file.transaction('readwrite', ['db/messages']);
    void setup.run((conn) => {
      setupFts(conn, tables);
      conn.db.exec(`CREATE TABLE ${tables.messages} (k BLOB NOT NULL UNIQUE, v BLOB NOT NULL)`);
      const insert = conn.db.prepare(`INSERT INTO ${tables.messages} (k, v) VALUES (?, ?)`);
      const messages = Array.from({ length: total }, (_, i) => message({ id: `m${i}`, subject: `Oboe part ${i}`, received_at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString() }));
      for (const m of messages) insert.run(encodeKey(m.id), serialize(m));
      indexMessages(conn, tables, messages.map((m) => ({ id: m.id, previous: undefined, next: m })), { defer: true });
    });
    setup.commit();
    let filled = 0;
    const filler = new IndexFiller({ file, dbName: 'db', tables, onFilled: () => (filled += 1) });
    filler.wake();
    await expect.poll(queuedNow, { timeout: 10_000 }).toBeLessThan(total);

    // Another write every 30 ms (a bootstrap's pages): at most the chunk already
    // under way goes in meanwhile, however long they go on.
    const before = await queuedNow();
    const writeUntil = Date.now() + 1_500;
    while (Date.now() < writeUntil) {
      const write = file.transaction('readwrite', ['db/other']);
      void write.run((conn) => conn.db.exec('CREATE TABLE IF NOT EXISTS other (x); INSERT INTO other VALUES (1)'));
      write.commit();
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    const during = await queuedNow();
    expect(during).toBeGreaterThan(0);
    expect(before - during).toBeLessThanOrEqual(FILL_CHUNK);
    expect(filled).toBe(0);

    await expect.poll(queuedNow, { timeout: 10_000 }).toBe(0);
    await expect.poll(() => filled).toBe(1);
    filler.stop();
    file.release();
  });
});

describe('toFtsQuery', () => {
  const T = '{subject sender recipients_to recipients_cc preview body}';
  const match = (q: string, folders?: (n: string) => string[]) => toFtsQuery(parseSearch(q), folders).match;
  it('compiles words as prefixes, phrases in order, fields as columns, operators as markers, OR, and leaves the rest to the records', () => {
    expect(match('invoice')).toBe(`${T} : ("invoice"*)`);
    expect(match('"quarterly report"')).toBe(`${T} : ("quarterly"* AND "report"*)`);
    expect(match('from:alice subject:plan')).toBe('{sender} : ("alice"*) AND {subject} : ("plan"*)');
    expect(match('hello OR welcome')).toBe(`(${T} : ("hello"*) OR ${T} : ("welcome"*))`);
    expect(match('a.b@example.com')).toBe(`${T} : ("a"* AND "b"* AND "example"* AND "com"*)`);
    // is:, has: and in: (resolved as the caller resolves folder names) are marker tokens.
    const inbox = (n: string) => (n === 'inbox' ? ['fld_in-1'] : []);
    expect(match('budget is:unread -draft in:inbox', inbox)).toBe(`${T} : ("budget"*) AND {meta} : "zunread" AND ({meta} : "zinfldin1")`);
    expect(match('is:read has:attachment is:unflagged')).toBe('{meta} : "zread" AND {meta} : "zattach" AND {meta} : "zunflagged"');
    expect(match('hello OR is:flagged')).toBe(`(${T} : ("hello"*) OR {meta} : "zflagged")`);
    // An unknown folder, a negation, an OR with a negation: the records decide.
    expect(match('in:nowhere')).toBe('{meta} : "zall"');
    expect(match('-draft')).toBe('{meta} : "zall"');
    expect(match('hello OR -draft')).toBe('{meta} : "zall"');
    expect(match('"')).toBe('{meta} : "zall"');
  });

  it('turns top-level dates into rowid bounds (received ms × ORDER_SLOTS)', () => {
    const day = Date.parse('2025-06-01T00:00:00Z');
    expect(toFtsQuery(parseSearch('after:2025-06-01 invoice'))).toMatchObject({ min: day * ORDER_SLOTS, max: Number.MAX_SAFE_INTEGER });
    expect(toFtsQuery(parseSearch('before:2025-06-01'))).toMatchObject({ min: Number.MIN_SAFE_INTEGER, max: day * ORDER_SLOTS, match: '{meta} : "zall"' });
    // Inside an OR a date bounds nothing.
    expect(toFtsQuery(parseSearch('before:2025-06-01 OR invoice'))).toMatchObject({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER });
  });
});

let sim: Simulator | undefined;
const syncs: MailboxSync[] = [];
afterEach(async () => {
  for (const s of syncs.splice(0)) await s.stop();
  await sim?.close();
  sim = undefined;
});

let files = 0;
const newPath = () => join(scratchDir(), `fts-${(files += 1)}.sqlite`);

/** The storage with the index's answers counted (not its refusals while it fills). */
function counted(storage: SqliteStorage): { storage: SqliteStorage; calls: () => number } {
  let calls = 0;
  const inner = storage.textSearch as TextSearch;
  const textSearch: TextSearch = {
    candidates: async (...args) => {
      const page = await inner.candidates(...args);
      if (page !== undefined) calls += 1;
      return page;
    },
  };
  return { storage: { ...storage, textSearch }, calls: () => calls };
}

function start(storage: ReplicaStorage, s: Simulator): MailboxSync {
  const sync = createMailboxSync({ apiKey: s.apiKey, baseUrl: s.url, storage, dbName: 'fts', leader: 'always', events: false, content: { prefetch: false } });
  syncs.push(sync);
  return sync;
}

const ids = (state: { hits: { id: string }[] }) => state.hits.map((m) => m.id).sort();
const search = (sync: MailboxSync, text: string, where: (st: Awaited<ReturnType<typeof once>>) => boolean = () => true) =>
  firstValueFrom(sync.search$(text, { server: false, limit: 1_000, scanLimit: 100_000 }).pipe(filter(where), timeout(10_000)));
const once = (sync: MailboxSync, text: string) => firstValueFrom(sync.search$(text, { server: false, limit: 1_000, scanLimit: 100_000 }));

describe('search$ on SQLite (FTS5)', () => {
  it('answers from the index with the same hits as the scan for whole words and operators, with snippets', async () => {
    sim = await startSimulator({ port: 0, seed: 11, messages: 600, rateLimitPerMinute: 0 });
    const path = newPath();
    const { storage, calls } = counted(sqliteStorage({ path }));
    const indexed = start(storage, sim);
    await indexed.start();
    // The bootstrap's messages were queued and are indexed once its writes stopped.
    await storage.whenIndexed();
    // The reference: the same replica searched by the scan (no index).
    const plain = start({ ...sqliteStorage({ path }), textSearch: undefined } as ReplicaStorage, sim);
    await plain.start();
    const snapshot = await sim.snapshot();
    const subjectWord = (snapshot.messages.find((m) => m.subject)?.subject ?? '').split(/\s+/).find((w) => /^[a-z]{5,}$/i.test(w)) ?? 'notes';
    const sender = snapshot.messages.find((m) => m.from)?.from?.email.split('@')[0] ?? 'a';
    const queries = [
      subjectWord, `${subjectWord} is:unread`, `from:${sender}`, `-${subjectWord} ${sender}`, `${subjectWord} OR ${sender}`, `"${subjectWord}"`,
      // Operators alone, dates as rowid bounds, folders by name and role.
      'is:unread', 'is:read', 'is:flagged', 'is:unflagged has:attachment', 'in:inbox', 'in:trash is:unread', 'in:nowhere',
      'after:2024-06-01', `before:2024-06-01 ${subjectWord}`, 'after:2024-01-01 before:2024-03-01', `-${subjectWord}`, `is:flagged OR ${sender}`,
    ];
    const newestFirst = (state: { hits: { received_at?: string | null }[] }) =>
      state.hits.every((m, i, all) => i === 0 || Date.parse(all[i - 1]!.received_at ?? '') >= Date.parse(m.received_at ?? ''));
    const compare = async (q: string) => {
      const before = calls();
      const fromIndex = await once(indexed, q);
      expect(calls(), q).toBeGreaterThan(before);
      const fromScan = await once(plain, q);
      expect(ids(fromIndex), q).toEqual(ids(fromScan));
      expect(newestFirst(fromIndex), q).toBe(true);
    };
    for (const q of queries) await compare(q);
    // A small limit: candidates come a page at a time (growing while the check rejects
    // some), and the first hits are the scan's, in its order.
    const firstHits = (sync: MailboxSync, q: string) => firstValueFrom(sync.search$(q, { server: false, limit: 5, scanLimit: 100_000 }));
    for (const q of [`-${subjectWord}`, `${sender} -${subjectWord}`, 'is:unread -in:inbox', `after:2024-06-01 -${sender}`]) {
      const [a, b] = [await firstHits(indexed, q), await firstHits(plain, q)];
      expect(a.hits.map((m) => m.id), q).toEqual(b.hits.map((m) => m.id));
      expect(a.hits.length, q).toBe(5);
    }
    // The index follows local mutations: flag and read state, and a removal to Trash.
    const some = (await once(indexed, 'is:unflagged is:unread')).hits.slice(0, 3).map((m) => m.id);
    expect(some.length).toBe(3);
    await indexed.update(some, { flagged: true, seen: true });
    await indexed.remove([some[0]!]);
    for (const q of ['is:flagged', 'is:unread', 'in:trash', 'in:inbox is:read']) await compare(q);
    expect(ids(await once(indexed, 'is:flagged'))).toEqual(expect.arrayContaining(some.slice(1)));
    const hit = await once(indexed, subjectWord);
    expect(hit.hits.length).toBeGreaterThan(0);
    for (const m of hit.hits) {
      const snippet = hit.snippets[m.id];
      expect(snippet?.highlights.length, m.id).toBeGreaterThan(0);
      const [start, end] = snippet!.highlights[0]!;
      expect(snippet!.text.slice(start, end).toLowerCase()).toContain(subjectWord.toLowerCase());
    }
  });

  it('finds new mail without a restart, and a cached body; forgets a destroyed message', async () => {
    sim = await startSimulator({ port: 0, seed: 12, messages: 100, rateLimitPerMinute: 0 });
    const { storage, calls } = counted(sqliteStorage({ path: newPath() }));
    const sync = start(storage, sim);
    await sync.start();
    expect((await once(sync, 'xylophone')).hits).toEqual([]);
    const { id } = await sim.control.deliver({ subject: 'Xylophone lessons', text: 'bring the mallets' });
    await sync.syncNow();
    expect(ids(await search(sync, 'xylophone', (st) => st.hits.length > 0))).toEqual([id]);

    // A word only in the body: found once the body is cached.
    const { id: bodyOnly } = await sim.control.deliver({ subject: 'Plans', text: `${'Some long preamble. '.repeat(40)}The marimba arrives Tuesday.` });
    await sync.syncNow();
    expect((await once(sync, 'marimba')).hits).toEqual([]);
    await firstValueFrom(sync.content$(bodyOnly).pipe(filter((s) => s.status === 'ready'), timeout(10_000)));
    const before = calls();
    expect(ids(await search(sync, 'marimba', (st) => st.hits.length > 0))).toEqual([bodyOnly]);
    expect(calls()).toBeGreaterThan(before);
    // Its record matches "plans"; a word negated and found only in its cached body excludes it.
    expect(ids(await once(sync, 'plans'))).toContain(bodyOnly);
    expect(ids(await once(sync, 'plans -marimba'))).not.toContain(bodyOnly);

    await sim.control.destroy([id]);
    await sync.syncNow();
    expect((await search(sync, 'xylophone', (st) => st.hits.length === 0)).hits).toEqual([]);
  });

  it('refuses to answer while messages are queued, and a restart resumes a fill a crash cut short', async () => {
    sim = await startSimulator({ port: 0, seed: 14, messages: 300, rateLimitPerMinute: 0 });
    const path = newPath();
    const first = sqliteStorage({ path });
    const sync = start(first, sim);
    await sync.start();
    await first.whenIndexed();
    const { id } = await sim.control.deliver({ subject: 'Harpsichord tuning' });
    await sync.syncNow();
    await sync.stop();
    syncs.splice(0);
    // As a kill -9 mid-fill leaves it: most messages queued, their index rows missing.
    const prefix = tablePrefix('fts');
    const raw = new Database(path);
    const docIds = raw.prepare(`SELECT id FROM "${prefix}/fts3_docs"`).pluck().all() as string[];
    expect(docIds).toContain(id);
    raw.exec(`DELETE FROM "${prefix}/fts3" WHERE rowid IN (SELECT docid FROM "${prefix}/fts3_docs" WHERE rowid % 5 <> 0)`);
    raw.exec(`DELETE FROM "${prefix}/fts3_docs" WHERE docid % 5 <> 0`);
    const insert = raw.prepare(`INSERT INTO "${prefix}/fts3_pending" (id) VALUES (?)`);
    for (const docId of docIds) insert.run(docId);
    raw.close();
    const snapshot = await sim.snapshot();
    const query = parseSearch('harpsichord');
    const closed = sqliteStorage({ path }).textSearch as TextSearch;
    // Nothing open on the file fills it: the index declines, the caller scans. (This
    // process still had the file open, with readers on a snapshot from before those
    // writes: a new reader sees them all the same.)
    expect(await closed.candidates('fts', query, { limit: 10, offset: 0 })).toBeUndefined();

    const { storage, calls } = counted(sqliteStorage({ path }));
    const second = start(storage, sim);
    await second.start();
    const progress: number[] = [];
    await storage.whenIndexed({ onProgress: (n) => progress.push(n), pollMs: 10 });
    expect(progress.at(-1)).toBe(0);
    expect(await closed.candidates('fts', query, { limit: 10, offset: 0 })).toEqual([{ id }]);
    expect(ids(await once(second, 'harpsichord'))).toEqual([id]);
    expect(calls()).toBeGreaterThan(0);
    const check = new Database(path);
    const [docs, rows, dupes] = [
      check.prepare(`SELECT count(*) FROM "${prefix}/fts3_docs"`).pluck().get(),
      check.prepare(`SELECT count(*) FROM "${prefix}/fts3"`).pluck().get(),
      check.prepare(`SELECT count(*) FROM (SELECT id FROM "${prefix}/fts3_docs" GROUP BY id HAVING count(*) > 1)`).pluck().get(),
    ];
    check.close();
    expect({ docs, rows, dupes }).toEqual({ docs: snapshot.messages.length, rows: snapshot.messages.length, dupes: 0 });
  });

  it('builds the index for a replica written before it existed', async () => {
    sim = await startSimulator({ port: 0, seed: 13, messages: 80, rateLimitPerMinute: 0 });
    const path = newPath();
    const first = start(sqliteStorage({ path }), sim);
    await first.start();
    const word = (await once(first, 'is:unread')).hits.length; // any query: the replica is there
    expect(word).toBeGreaterThanOrEqual(0);
    const { id } = await sim.control.deliver({ subject: 'Accordion recital' });
    await first.syncNow();
    await first.stop();
    syncs.splice(0);
    // An older replica: no index tables.
    const raw = new Database(path);
    for (const name of raw.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%/fts%'`).pluck().all() as string[]) {
      raw.exec(`DROP TABLE IF EXISTS "${name}"`);
    }
    // Earlier layouts' tables are dropped when found: the first (rowids in insertion
    // order) and the second (docids looked up through an index on the message id).
    const prefix = tablePrefix('fts');
    raw.exec(`CREATE VIRTUAL TABLE "${prefix}/fts" USING fts5(subject); CREATE TABLE "${prefix}/fts_docs" (id TEXT PRIMARY KEY)`);
    raw.exec(`CREATE VIRTUAL TABLE "${prefix}/fts2" USING fts5(subject); CREATE TABLE "${prefix}/fts2_docs" (id TEXT PRIMARY KEY NOT NULL, docid INTEGER NOT NULL UNIQUE)`);
    raw.close();
    const { storage, calls } = counted(sqliteStorage({ path }));
    const second = start(storage, sim);
    await second.start();
    await storage.whenIndexed();
    expect(ids(await once(second, 'accordion'))).toEqual([id]);
    expect(calls()).toBeGreaterThan(0);
    await second.stop();
    syncs.splice(0);
    const after = new Database(path);
    const legacy = after
      .prepare(`SELECT name FROM sqlite_master WHERE name IN (?, ?, ?, ?)`)
      .pluck()
      .all(`${prefix}/fts`, `${prefix}/fts_docs`, `${prefix}/fts2`, `${prefix}/fts2_docs`);
    const current = after.prepare(`SELECT name FROM sqlite_master WHERE name IN (?, ?) ORDER BY name`).pluck().all(`${prefix}/fts3`, `${prefix}/fts3_docs`);
    after.close();
    expect(legacy).toEqual([]);
    expect(current).toEqual([`${prefix}/fts3`, `${prefix}/fts3_docs`]);
  });
});
