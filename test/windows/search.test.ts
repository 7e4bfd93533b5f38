// search$: local hits at once, server hits merged as they arrive, de-duplicated.
import { firstValueFrom, filter as where, timeout, Subject } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { createSearchViews, searchIndexed, searchLocal } from '../../src/reactive/search.js';
import { createWindowManager } from '../../src/sync/windows.js';
import { engine, sim } from '../engine/helpers.js';
import { freshDb, message } from '../store/fixtures.js';
import { parseSearch, type SearchQuery } from '../../src/store/searchSyntax.js';
import { putServerRecords } from '../../src/store/apply.js';
import type { Message } from '../../src/api/index.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe('search$', () => {
  it('shows local hits before the server answers, then merges server hits without duplicates', async () => {
    const s = await sim({ messages: 1_200 });
    cleanup.push(() => s.close());
    const { id: unique } = await s.control.deliver({ subject: 'Zanzibar itinerary', text: 'flights' });
    const { id: bodyOnly } = await s.control.deliver({ subject: 'Plans', text: `${'Some long preamble about logistics. '.repeat(30)}We fly to zanzibar next week.` });

    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const searches: string[] = [];
    const gated: typeof fetch = async (input, init) => {
      if (String(input).toLowerCase().includes('q=zanzibar')) {
        searches.push(String(input));
        await gate;
      }
      return fetch(input, init);
    };
    const e = engine(s, { fetch: gated, events: false });
    const until = new Subject<void>();
    cleanup.push(async () => {
      release();
      until.next();
      await e.sync.stop();
    });
    await e.sync.start();
    const ctx = await e.context;
    const wm = createWindowManager(ctx, { until });
    const views = createSearchViews({ db: Promise.resolve(ctx.db), window$: wm.window$, until });

    const search = views.search$('Zanzibar');
    const early = await firstValueFrom(search.pipe(where((st) => st.localHits > 0), timeout(10_000)));
    expect(early.server).toBe('loading');
    expect(early.hits.map((m) => m.id)).toContain(unique);
    // The body-only match is past the preview: only the server finds it.
    expect((await ctx.db.messages.get(bodyOnly))?.preview?.toLowerCase()).not.toContain('zanzibar');
    expect(early.hits.map((m) => m.id)).not.toContain(bodyOnly);
    await expect.poll(() => searches.length).toBeGreaterThan(0);

    release();
    const merged = await firstValueFrom(search.pipe(where((st) => st.server === 'ready'), timeout(10_000)));
    const ids = merged.hits.map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids[0]).toBe(unique);
    expect(ids).toContain(bodyOnly);
    expect(merged.localHits).toBe(1);
  });

  it('reads the replica newest first in bounded chunks and honours scanLimit', async () => {
    const s = await sim({ messages: 1_200 });
    cleanup.push(() => s.close());
    const e = engine(s, { events: false });
    cleanup.push(() => e.sync.stop());
    await e.sync.start();
    const db = (await e.context).db;
    const all = (await s.snapshot()).messages;
    const oldest = [...all].sort((a, b) => (a.received_at ?? '').localeCompare(b.received_at ?? ''))[0]!;
    const word = (oldest.subject ?? '').split(/\s+/).find((w) => w.length > 3)!;
    const deep = (await searchLocal(db, `${word} ${oldest.from?.email ?? ''}`, { limit: 5_000, scanLimit: 10_000 })).map((h) => h.message);
    expect(deep.map((m) => m.id)).toContain(oldest.id);
    const shallow = (await searchLocal(db, `${word} ${oldest.from?.email ?? ''}`, { limit: 5_000, scanLimit: 500 })).map((h) => h.message);
    expect(shallow.map((m) => m.id)).not.toContain(oldest.id);
    // Newest first.
    const times = deep.map((m) => Date.parse(m.received_at ?? '') || 0);
    expect([...times].sort((a, b) => b - a)).toEqual(times);
  });
});

describe('search$ operators (store/searchSyntax.ts end to end)', () => {
  const WORD = 'qzkestrel';

  /** A mailbox with three messages sharing WORD: unread from Quentin, read from Rhea, and one in Trash. */
  async function mailbox() {
    const s = await sim({ messages: 1_200 });
    cleanup.push(() => s.close());
    const { id: fromQuentin } = await s.control.deliver({ subject: `${WORD} booking`, from: { email: 'quentin@travel.test', name: 'Quentin Q' }, text: 'see you' });
    const { id: read } = await s.control.deliver({ subject: `${WORD} invoice`, from: { email: 'rhea@shop.test', name: 'Rhea' }, text: 'pay' });
    const { id: trashed } = await s.control.deliver({ subject: 'notes', from: { email: 'sam@notes.test', name: 'Sam' }, text: `about ${WORD} later` });
    await s.control.setFlags([read], { seen: true });
    await s.control.trash([trashed]);
    const searches: string[] = [];
    const spy: typeof fetch = async (input, init) => {
      if (String(input).includes('/messages/query-changes') || String(input).includes('/mailbox/messages?')) searches.push(String(input));
      return fetch(input, init);
    };
    const e = engine(s, { fetch: spy, events: false });
    const until = new Subject<void>();
    cleanup.push(async () => {
      until.next();
      await e.sync.stop();
    });
    await e.sync.start();
    const ctx = await e.context;
    const wm = createWindowManager(ctx, { until });
    const views = createSearchViews({ db: Promise.resolve(ctx.db), window$: wm.window$, until });
    const local = async (text: string, scanLimit = 10_000) => (await searchLocal(ctx.db, text, { limit: 5_000, scanLimit })).map((h) => h.message.id);
    return { s, ctx, views, local, searches, ids: { fromQuentin, read, trashed } };
  }

  it('answers from:, is:, in:, -term and OR on the replica', async () => {
    const { local, ids } = await mailbox();
    expect(new Set(await local(WORD))).toEqual(new Set([ids.fromQuentin, ids.read, ids.trashed]));
    expect(await local(`${WORD} from:quentin`)).toEqual([ids.fromQuentin]);
    expect(await local(`from:"quentin q"`)).toEqual([ids.fromQuentin]);
    expect(new Set(await local(`${WORD} is:unread`))).toEqual(new Set([ids.fromQuentin, ids.trashed]));
    expect(await local(`${WORD} is:read`)).toEqual([ids.read]);
    expect(await local(`${WORD} in:trash`)).toEqual([ids.trashed]);
    expect(await local(`${WORD} in:TRASH -from:nobody`)).toEqual([ids.trashed]);
    expect(new Set(await local(`${WORD} -in:trash`))).toEqual(new Set([ids.fromQuentin, ids.read]));
    expect(new Set(await local(`${WORD} -invoice`))).toEqual(new Set([ids.fromQuentin, ids.trashed]));
    expect(new Set(await local(`from:rhea@shop.test OR from:sam@notes.test`))).toEqual(new Set([ids.read, ids.trashed]));
    expect(await local(`${WORD} in:"no such folder"`)).toEqual([]);
  });

  it('walks a folder\'s or the unread range\'s own rows for in: and is:, so scanLimit counts those rows only', async () => {
    const { s, local } = await mailbox();
    const snap = await s.snapshot();
    const trash = snap.folders.find((f) => f.role === 'trash')!;
    const inTrash = snap.messages.filter((m) => m.folder_ids.includes(trash.id)).map((m) => m.id);
    const unread = snap.messages.filter((m) => !m.flags.seen).map((m) => m.id);
    expect(inTrash.length).toBeGreaterThan(1);
    expect(unread.length).toBeLessThan(snap.messages.length);
    // A scan of all messages this short would miss older ones.
    expect(new Set(await local('in:trash', inTrash.length))).toEqual(new Set(inTrash));
    expect(new Set(await local('is:unread', unread.length))).toEqual(new Set(unread));
  });

  it('gives snippets of local hits with the matched ranges', async () => {
    const { views, ids } = await mailbox();
    const st = await firstValueFrom(views.search$(`${WORD} -invoice`, { server: false }).pipe(where((x) => x.localHits > 0), timeout(10_000)));
    expect(st.server).toBe('off');
    expect(st.query.items).toHaveLength(2);
    const subject = st.snippets[ids.fromQuentin]!;
    expect(subject.highlights.map(([a, b]) => subject.text.slice(a, b))).toEqual([WORD]);
    const preview = st.snippets[ids.trashed]!;
    expect(preview.text).toContain(`about ${WORD} later`);
    expect(preview.highlights.map(([a, b]) => preview.text.slice(a, b))).toEqual([WORD]);
  });

  it('asks the server with the API parameters of the query, and narrows an incomplete answer', async () => {
    const { views, searches, ids } = await mailbox();
    const st = await firstValueFrom(views.search$('from:quentin is:unread').pipe(where((x) => x.server === 'ready'), timeout(10_000)));
    const asked = searches.map((u) => new URL(u).searchParams).find((p) => p.get('from') === 'quentin');
    expect(asked?.get('is_unread')).toBe('true');
    expect(asked?.has('q')).toBe(false);
    expect(st.hits.map((m) => m.id)).toEqual([ids.fromQuentin]);

    // The server is asked from:quentin only; its hit fails -booking on the record.
    const narrowed = await firstValueFrom(views.search$('from:quentin -booking').pipe(where((x) => x.server === 'ready'), timeout(10_000)));
    expect(narrowed.localHits).toBe(0);
    expect(narrowed.hits).toEqual([]);

    // Nothing the API can filter on: the server is not asked.
    const before = searches.length;
    const alone = await firstValueFrom(views.search$(`-${WORD}`, { limit: 5 }).pipe(where((x) => x.localHits > 0), timeout(10_000)));
    expect(alone.server).toBe('off');
    expect(alone.hits.map((m) => m.id)).not.toContain(ids.read);
    expect(searches.length).toBe(before);
  });
});

describe('local search and cached bodies', () => {
  /** A replica holding `messages` as the sync writes them (with their folder-index rows). */
  async function stored(messages: Message[]) {
    const db = freshDb();
    cleanup.push(async () => db.close());
    await db.transaction('rw', db.serverTables, () => putServerRecords(db, 'messages', messages));
    return db;
  }

  /** Three messages, newest first: the word in a subject, only in a cached body, and in a subject with a body that holds "newsletter". */
  async function replica() {
    const db = await stored([
      message({ id: 'subject', subject: 'kestrel trip', received_at: '2026-01-03T00:00:00.000Z' }),
      message({ id: 'body', subject: 'plans', received_at: '2026-01-02T00:00:00.000Z' }),
      message({ id: 'negated', subject: 'kestrel digest', received_at: '2026-01-01T00:00:00.000Z' }),
    ]);
    const cached = new Map([
      ['body', 'a kestrel flew by'],
      ['negated', 'this newsletter is weekly'],
    ]);
    const asked: string[][] = [];
    const bodyText = async (ids: readonly string[]) => {
      asked.push([...ids]);
      return new Map(ids.flatMap((id) => (cached.has(id) ? [[id, cached.get(id)!] as const] : [])));
    };
    // An index whose candidates are every message, newest first (the matcher decides).
    const textSearch = { candidates: async () => ['subject', 'body', 'negated'].map((id) => ({ id })) };
    const both = async (text: string) => {
      const scan = (await searchLocal(db, text, { limit: 50, scanLimit: 1_000, bodyText })).map((h) => h.message.id);
      const indexed = (await searchIndexed(db, parseSearch(text), { limit: 50, textSearch, bodyText }))!.map((h) => h.message.id);
      expect(indexed, text).toEqual(scan);
      return scan;
    };
    return { asked, both };
  }

  it('reads bodies only for messages the record leaves undecided, and matches those with them', async () => {
    const { asked, both } = await replica();
    expect(await both('kestrel')).toEqual(['subject', 'body', 'negated']);
    // The scan and the index each asked for the one message whose record lacks the word.
    expect(asked).toEqual([['body'], ['body']]);
    asked.length = 0;
    // A negated word the record lacks may be in the body: every candidate is read.
    expect(await both('kestrel -newsletter')).toEqual(['subject', 'body']);
    expect(asked).toEqual([['subject', 'body', 'negated'], ['subject', 'body', 'negated']]);
    asked.length = 0;
    // No free text: no body is read.
    expect(await both('subject:kestrel')).toEqual(['subject', 'negated']);
    expect(asked).toEqual([]);
  });

  it('stops judging once the hits asked for are certain, and keeps an undecided earlier hit in its place', async () => {
    const db = await stored([
      message({ id: 'first', subject: 'plans', received_at: '2026-01-04T00:00:00.000Z' }),
      message({ id: 'second', subject: 'kestrel trip', received_at: '2026-01-03T00:00:00.000Z' }),
      message({ id: 'third', subject: 'kestrel again', received_at: '2026-01-02T00:00:00.000Z' }),
      message({ id: 'fourth', subject: 'plans again', received_at: '2026-01-01T00:00:00.000Z' }),
    ]);
    const asked: string[][] = [];
    const bodyText = async (ids: readonly string[]) => {
      asked.push([...ids]);
      return new Map(ids.filter((id) => id === 'first').map((id) => [id, 'kestrel in the body'] as const));
    };
    const hits = await searchLocal(db, 'kestrel', { limit: 2, scanLimit: 1_000, bodyText });
    // "first" matched by its body keeps its place before "second"; its snippet is the body's.
    expect(hits.map((h) => h.message.id)).toEqual(['first', 'second']);
    expect(hits[0]!.snippet?.text).toContain('kestrel in the body');
    // Two hits were certain at "third": "fourth" was never judged, its body never read.
    expect(asked).toEqual([['first']]);
  });
});

describe('search$ with a backend\'s own local search (SearchDeps.localSearch)', () => {
  it('hands it the parsed query and the limit instead of scanning, and keeps its snippets', async () => {
    const db = freshDb();
    cleanup.push(async () => db.close());
    // A message in the replica that the scan would find: the backend is asked instead.
    await db.messages.put(message({ id: 'scanned', subject: 'invoice' }));
    const calls: Array<{ query: SearchQuery; limit: number }> = [];
    const hit = message({ id: 'fts', subject: 'Invoice April' });
    const until = new Subject<void>();
    cleanup.push(async () => until.next());
    const views = createSearchViews({
      db: Promise.resolve(db),
      window$: () => {
        throw new Error('not asked');
      },
      localSearch: async (query, options) => {
        calls.push({ query, limit: options.limit });
        return [{ message: hit, snippet: { text: 'Invoice April', highlights: [[0, 7]] } }];
      },
      until,
    });
    const st = await firstValueFrom(views.search$(' invoice -is:read ', { server: false, limit: 7 }).pipe(where((x) => x.localHits > 0), timeout(5_000)));
    expect(calls[0]?.limit).toBe(7);
    expect(calls[0]?.query.items).toEqual([
      { kind: 'text', value: 'invoice', phrase: false },
      { kind: 'not', node: { kind: 'is', what: 'read' } },
    ]);
    expect(st.hits.map((m) => m.id)).toEqual(['fts']);
    expect(st.snippets).toEqual({ fts: { text: 'Invoice April', highlights: [[0, 7]] } });
  });
});
