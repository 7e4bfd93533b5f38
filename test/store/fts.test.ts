// Full-text search on the SQLite replica: the FTS5 expression a parsed query compiles
// to, and search$ in Node answering from the index (every hit checked against the
// whole query, as the scan checks them): same hits as the scan for whole words,
// snippets from FTS5, new mail and cached bodies found, and an index built for a
// replica that was written before it existed.
import Database from 'better-sqlite3';
import { firstValueFrom, filter, timeout } from 'rxjs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createMailboxSync, type MailboxSync } from '../../src/index.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { parseSearch } from '../../src/store/searchSyntax.js';
import { sqliteStorage } from '../../src/store/sqlite/index.js';
import { toFtsQuery } from '../../src/store/sqlite/fts.js';
import type { ReplicaStorage, TextSearch } from '../../src/store/storage.js';
import { scratchDir } from '../helpers/storage.js';

describe('toFtsQuery', () => {
  it('compiles words as prefixes, phrases in order, fields as columns, OR, and leaves the rest to the records', () => {
    expect(toFtsQuery(parseSearch('invoice'))).toBe('("invoice"*)');
    expect(toFtsQuery(parseSearch('"quarterly report"'))).toBe('("quarterly"* AND "report"*)');
    expect(toFtsQuery(parseSearch('from:alice subject:plan'))).toBe('{sender} : ("alice"*) AND {subject} : ("plan"*)');
    expect(toFtsQuery(parseSearch('hello OR welcome'))).toBe('(("hello"*) OR ("welcome"*))');
    expect(toFtsQuery(parseSearch('budget is:unread -draft in:inbox'))).toBe('("budget"*)');
    expect(toFtsQuery(parseSearch('a.b@example.com'))).toBe('("a"* AND "b"* AND "example"* AND "com"*)');
    // Nothing to look up: the scan answers.
    expect(toFtsQuery(parseSearch('is:unread has:attachment'))).toBeNull();
    expect(toFtsQuery(parseSearch('hello OR is:flagged'))).toBeNull();
    expect(toFtsQuery(parseSearch('"'))).toBeNull();
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

/** The storage with its index's calls counted. */
function counted(storage: ReplicaStorage): { storage: ReplicaStorage; calls: () => number } {
  let calls = 0;
  const inner = storage.textSearch as TextSearch;
  const textSearch: TextSearch = {
    candidates: (...args) => {
      calls += 1;
      return inner.candidates(...args);
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
  it('answers from the index with the same hits as the scan for whole words, with FTS snippets', async () => {
    sim = await startSimulator({ port: 0, seed: 11, messages: 600, rateLimitPerMinute: 0 });
    const path = newPath();
    const { storage, calls } = counted(sqliteStorage({ path }));
    const indexed = start(storage, sim);
    await indexed.start();
    // The reference: the same replica searched by the scan (no index).
    const plain = start({ ...sqliteStorage({ path }), textSearch: undefined } as ReplicaStorage, sim);
    await plain.start();
    const snapshot = await sim.snapshot();
    const subjectWord = (snapshot.messages.find((m) => m.subject)?.subject ?? '').split(/\s+/).find((w) => /^[a-z]{5,}$/i.test(w)) ?? 'notes';
    const sender = snapshot.messages.find((m) => m.from)?.from?.email.split('@')[0] ?? 'a';
    const queries = [subjectWord, `${subjectWord} is:unread`, `from:${sender}`, `-${subjectWord} ${sender}`, `${subjectWord} OR ${sender}`, `"${subjectWord}"`];
    for (const q of queries) {
      const before = calls();
      const fromIndex = await once(indexed, q);
      expect(calls(), q).toBeGreaterThan(before);
      const fromScan = await once(plain, q);
      expect(ids(fromIndex), q).toEqual(ids(fromScan));
    }
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

    await sim.control.destroy([id]);
    await sync.syncNow();
    expect((await search(sync, 'xylophone', (st) => st.hits.length === 0)).hits).toEqual([]);
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
    raw.close();
    const { storage, calls } = counted(sqliteStorage({ path }));
    const second = start(storage, sim);
    await second.start();
    expect(ids(await once(second, 'accordion'))).toEqual([id]);
    expect(calls()).toBeGreaterThan(0);
  });
});
