// The body cache against the simulator over real HTTP, on fake-indexeddb: reads
// are fetched once then served locally, batched per tick, revalidated with ETags,
// kept within a byte budget (LRU, pinned kept), and readable offline after prefetch.
import { afterEach, describe, expect, it } from 'vitest';
import { filter, firstValueFrom, take, toArray } from 'rxjs';
import type { Observable } from 'rxjs';
import { withSim } from '../helpers/sim.js';
import { specAvailable } from '../helpers/spec.js';
import { createContentService } from '../../src/content/service.js';
import type { ContentService, ContentState } from '../../src/content/service.js';
import { bodyBytes } from '../../src/content/bodies.js';
import { NetLog, apiFor, contentDb, manualClock } from './helpers.js';
import type { ContentDb } from '../../src/store/contentDb.js';

const services: ContentService[] = [];
const dbs: ContentDb[] = [];
afterEach(() => {
  for (const s of services.splice(0)) s.stop();
  for (const d of dbs.splice(0)) d.close();
});

function track(service: ContentService, db: ContentDb): ContentService {
  services.push(service);
  dbs.push(db);
  return service;
}

/** The first settled (non-loading) state. */
function settled<T>(obs: Observable<ContentState<T>>): Promise<ContentState<T>> {
  return firstValueFrom(obs.pipe(filter((s) => s.status !== 'loading')));
}

async function newestIds(sim: Awaited<ReturnType<typeof withSim>>, n: number): Promise<string[]> {
  const snap = await sim.snapshot();
  return [...snap.messages]
    .sort((a, b) => Date.parse(b.received_at ?? '') - Date.parse(a.received_at ?? '') || (a.id < b.id ? -1 : 1))
    .slice(0, n)
    .map((m) => m.id);
}

const CONTENT = /\/mailbox\/messages\/[^/]+\/content$/;
const BATCH = /\/mailbox\/messages:batch-get$/;

describe.skipIf(!specAvailable)('content$: cache, batching, ETags', () => {
  it('fetches on first read and serves the second read from the cache with no request', async () => {
    const sim = await withSim({ messages: 30 });
    const net = new NetLog();
    const { db } = contentDb();
    const service = track(createContentService({ api: apiFor(sim, net), db }), db);
    const [id] = await newestIds(sim, 1);

    const states = await firstValueFrom(service.content$(id!).pipe(take(2), toArray()));
    expect(states[0]).toEqual({ status: 'loading' });
    expect(states[1]?.status).toBe('ready');
    if (states[1]?.status !== 'ready') throw new Error('not ready');
    expect(states[1].source).toBe('network');
    expect(states[1].content.id).toBe(id);
    expect(net.matching('GET', CONTENT)).toHaveLength(1);

    sim.resetStats();
    net.clear();
    const again = await settled(service.content$(id!));
    expect(again.status === 'ready' && again.source).toBe('cache');
    expect(again.status === 'ready' && again.content).toEqual(states[1].content);
    expect(net.requests).toHaveLength(0);
    expect(sim.stats().requests).toBe(0);

    // Different options are a different cache entry (and a request).
    const html = await settled(service.content$(id!, { include_html: true }));
    expect(html.status).toBe('ready');
    expect(net.matching('GET', CONTENT)).toHaveLength(1);
    expect(new URL(net.requests[0]!.url).searchParams.get('include_html')).toBe('true');
    expect(sim.validationFailures()).toEqual([]);
  });

  it('batches reads made in the same tick into one batch-get (clean_json) and caches each', async () => {
    const sim = await withSim({ messages: 30 });
    const net = new NetLog();
    const { db } = contentDb();
    const service = track(createContentService({ api: apiFor(sim, net), db }), db);
    const ids = await newestIds(sim, 5);

    const results = await Promise.all(ids.map((id) => settled(service.content$(id))));
    for (const [i, r] of results.entries()) {
      expect(r.status).toBe('ready');
      if (r.status === 'ready') expect(r.content.id).toBe(ids[i]);
    }
    const batches = net.matching('POST', BATCH);
    expect(batches).toHaveLength(1);
    expect(net.matching('GET', CONTENT)).toHaveLength(0);
    expect((await service.stats()).bodyRequests.batch).toBe(1);

    // The batch answer filled the cache: the same reads now make no request.
    net.clear();
    const cached = await Promise.all(ids.map((id) => settled(service.content$(id))));
    expect(cached.every((s) => s.status === 'ready' && s.source === 'cache')).toBe(true);
    expect(net.requests).toHaveLength(0);
  });

  it('revalidates with If-None-Match after a reload: 304 keeps the cached body', async () => {
    const sim = await withSim({ messages: 20 });
    const { db, store } = contentDb();
    const net1 = new NetLog();
    const first = track(createContentService({ api: apiFor(sim, net1), db }), db);
    const [id] = await newestIds(sim, 1);
    const r1 = await settled(first.content$(id!));
    if (r1.status !== 'ready') throw new Error('first read failed');
    const etagRow = await db.bodies.where('message_id').equals(id!).first();
    expect(etagRow?.etag).toMatch(/^W\//);
    first.stop();

    // "Reload": a new client (empty in-memory ETag cache) and service on the same database.
    const clock = manualClock(Date.now() + 60_000);
    const { db: db2 } = contentDb(store);
    const net2 = new NetLog();
    const errors: unknown[] = [];
    const second = track(createContentService({ api: apiFor(sim, net2), db: db2, now: clock.now, onError: (e) => errors.push(e) }), db2);
    const r2 = await settled(second.content$(id!, { maxAgeMs: 1000 }));
    expect(r2.status === 'ready' && r2.source).toBe('cache');
    expect(r2.status === 'ready' && r2.content).toEqual(r1.content);

    // The stale entry was revalidated in the background with its ETag; the server said 304.
    await waitFor(() => net2.matching('GET', CONTENT).length === 1 && net2.requests[0]?.status !== 'network_error');
    await waitFor(async () => (await db2.bodies.get(etagRow!.key))?.fetched_at === clock.now());
    const [conditional] = net2.matching('GET', CONTENT);
    expect(conditional?.headers['if-none-match']).toBe(etagRow?.etag);
    expect(conditional?.status).toBe(304);
    const kept = await db2.bodies.get(etagRow!.key);
    expect(kept?.data).toEqual(r1.content);
    expect(kept?.etag).toBe(etagRow?.etag);
    expect((await second.stats()).bodyRequests.notModified).toBe(1);
    expect(errors).toEqual([]);
  });

  it('a revalidation that brings a new representation replaces the body and emits it', async () => {
    const sim = await withSim({ messages: 20 });
    const net = new NetLog();
    const { db } = contentDb();
    const clock = manualClock(Date.now());
    const service = track(createContentService({ api: apiFor(sim, net), db, now: clock.now }), db);
    const [id] = await newestIds(sim, 1);
    await service.getContent(id!);
    const oldTag = (await db.bodies.where('message_id').equals(id!).first())?.etag;
    // Another device changes the message: its validator moves.
    await sim.control.setFlags([id!], { flagged: true });
    clock.advance(5_000);
    net.clear();
    const states = await firstValueFrom(service.content$(id!, { maxAgeMs: 1_000 }).pipe(take(3), toArray()));
    expect(states.map((st) => (st.status === 'ready' ? st.source : st.status))).toEqual(['loading', 'cache', 'network']);
    const [conditional] = net.matching('GET', CONTENT);
    expect(conditional?.headers['if-none-match']).toBe(oldTag);
    expect(conditional?.status).toBe(200);
    const row = await db.bodies.where('message_id').equals(id!).first();
    expect(row?.etag).not.toBe(oldTag);
    expect(row?.fetched_at).toBe(clock.now());
  });

  it('batches raw body reads of one tick into one batch-get with body_mode raw', async () => {
    const sim = await withSim({ messages: 20 });
    const net = new NetLog();
    const { db } = contentDb();
    const service = track(createContentService({ api: apiFor(sim, net), db }), db);
    const ids = await newestIds(sim, 3);
    const states = await Promise.all(ids.map((id) => settled(service.rawBody$(id, 'text'))));
    expect(states.every((st) => st.status === 'ready' && st.content.part === 'text')).toBe(true);
    const [batch] = net.matching('POST', BATCH);
    expect(JSON.parse(batch?.body ?? '{}')).toMatchObject({ ids, body_mode: 'raw', part: 'text' });
    expect(net.requests).toHaveLength(1);
  });

  it('reports a missing message as a not_found error state', async () => {
    const sim = await withSim({ messages: 5 });
    const net = new NetLog();
    const { db } = contentDb();
    const service = track(createContentService({ api: apiFor(sim, net), db }), db);
    const s = await settled(service.content$('msg_does_not_exist'));
    expect(s.status).toBe('error');
    if (s.status === 'error') expect(s.error.code).toBe('not_found');
  });

  it('serves raw bodies per part from their own cache entries', async () => {
    const sim = await withSim({ messages: 10 });
    const net = new NetLog();
    const { db } = contentDb();
    const service = track(createContentService({ api: apiFor(sim, net), db }), db);
    const [id] = await newestIds(sim, 1);
    const html = await settled(service.rawBody$(id!, 'html'));
    expect(html.status === 'ready' && html.content.part).toBe('html');
    const both = await settled(service.rawBody$(id!));
    expect(both.status === 'ready' && both.content.part).toBe('both');
    expect(net.matching('GET', /\/body$/)).toHaveLength(2);
    net.clear();
    expect((await settled(service.rawBody$(id!, 'html'))).status).toBe('ready');
    expect(net.requests).toHaveLength(0);
  });
});

describe.skipIf(!specAvailable)('body budget', () => {
  it('evicts least recently used bodies past the budget and never the pinned ones', async () => {
    const sim = await withSim({ messages: 30 });
    const net = new NetLog();
    const clock = manualClock();
    const ids = await newestIds(sim, 6);
    // Measure each body's accounted size with an unbounded service first.
    const probe = contentDb(undefined, 'probe');
    const sizer = track(createContentService({ api: apiFor(sim, net), db: probe.db }), probe.db);
    const sizes = new Map<string, number>();
    for (const id of ids) sizes.set(id, bodyBytes(await sizer.getContent(id)));
    const [a, b, c, d, e, f] = ids as [string, string, string, string, string, string];
    const size = (id: string) => sizes.get(id) ?? 0;

    // Room for exactly a, b, c, d.
    const budget = size(a) + size(b) + size(c) + size(d);
    const { db } = contentDb(undefined, 'budget');
    const service = track(createContentService({ api: apiFor(sim, net), db, bodyBudgetBytes: budget, now: clock.now }), db);
    const pinned = new Set<string>();

    // An independent model of the cache: ids in recency order (oldest first).
    let model: string[] = [];
    const touchModel = (id: string) => {
      const wasCached = model.includes(id);
      model = [...model.filter((x) => x !== id), id];
      if (wasCached) return; // a cache hit only moves the entry; eviction runs on writes
      let total = model.reduce((n, x) => n + size(x), 0);
      for (const x of [...model]) {
        if (total <= budget) break;
        if (pinned.has(x)) continue;
        model = model.filter((y) => y !== x);
        total -= size(x);
      }
    };
    const read = async (id: string) => {
      clock.advance(10);
      await service.getContent(id);
      touchModel(id);
    };
    const cachedIds = async () => new Set((await db.bodies.toArray()).map((r) => r.message_id));

    service.pin([a]); // e.g. the message open in the reading pane
    pinned.add(a);
    for (const id of [a, b, c, d, b]) await read(id); // b is now more recent than c and d
    expect(await cachedIds()).toEqual(new Set([a, b, c, d]));

    await read(e);
    const afterE = await cachedIds();
    expect(afterE).toEqual(new Set(model));
    // a is the least recently used but pinned; c is the oldest unpinned, so it went first.
    expect(afterE.has(a)).toBe(true);
    expect(afterE.has(c)).toBe(false);
    expect(afterE.has(e)).toBe(true);
    expect((await service.stats()).bodyBytes).toBeLessThanOrEqual(budget);

    await read(f);
    const afterF = await cachedIds();
    expect(afterF).toEqual(new Set(model));
    expect(afterF.has(a)).toBe(true);
    expect((await service.stats()).bodyBytes).toBeLessThanOrEqual(budget);

    // An open view pins too: while subscribed, its body survives pressure.
    service.unpin([a]);
    pinned.delete(a);
    clock.advance(10);
    pinned.add(e);
    const viewStates: ContentState<unknown>[] = [];
    const view = service.content$(e).subscribe((st) => viewStates.push(st));
    await waitFor(() => viewStates.some((st) => st.status === 'ready'));
    touchModel(e);
    for (const id of [c, d, b, a]) await read(id);
    const underPressure = await cachedIds();
    expect(underPressure).toEqual(new Set(model));
    expect(underPressure.has(e)).toBe(true);
    view.unsubscribe();
    expect((await service.stats()).pinned).toEqual([]);
  });
});

describe.skipIf(!specAvailable)('offline reading', () => {
  it('renders prefetched bodies after going offline and reloading', async () => {
    const sim = await withSim({ messages: 40 });
    const { db, store } = contentDb();
    const net = new NetLog();
    const online = track(createContentService({ api: apiFor(sim, net), db }), db);
    const ids = await newestIds(sim, 12);
    const prefetched = ids.slice(0, 10);
    expect(await online.prefetch(prefetched)).toBe(10);
    expect(net.matching('POST', BATCH)).toHaveLength(1);
    expect(await online.prefetch(prefetched)).toBe(0); // already cached: nothing to fetch
    expect(net.matching('POST', BATCH)).toHaveLength(1);
    online.stop();

    net.online = false;
    const { db: db2 } = contentDb(store);
    const offline = track(createContentService({ api: apiFor(sim, net, { attempts: 1 }), db: db2 }), db2);
    net.clear();
    const states = await Promise.all(prefetched.map((id) => settled(offline.content$(id))));
    for (const [i, s] of states.entries()) {
      expect(s.status).toBe('ready');
      if (s.status === 'ready') {
        expect(s.source).toBe('cache');
        expect(s.content.id).toBe(prefetched[i]);
      }
    }
    expect(net.requests).toHaveLength(0);
    // What was not prefetched cannot be read offline, and says so.
    const missing = await settled(offline.content$(ids[11]!));
    expect(missing.status === 'error' && missing.error.code).toBe('fetch_failed');
  });
});

describe.skipIf(!specAvailable)('thread content', () => {
  it('pages /threads/{id}/content by cursor and caches each message', async () => {
    const sim = await withSim({ messages: 200, seed: 3 });
    const snap = await sim.snapshot();
    const thread = [...snap.threads].sort((x, y) => y.message_count - x.message_count)[0]!;
    expect(thread.message_count).toBeGreaterThan(2);
    const net = new NetLog();
    const { db } = contentDb();
    const service = track(createContentService({ api: apiFor(sim, net), db }), db);

    const states = await firstValueFrom(service.threadContent$(thread.id, { limit: 2 }).pipe(toArray()));
    const last = states.at(-1);
    expect(last?.status).toBe('ready');
    const expectedIds = snap.messages.filter((m) => m.thread_id === thread.id).map((m) => m.id).sort();
    expect(last?.messages.map((m) => m.id).sort()).toEqual(expectedIds);
    const pages = net.matching('GET', /\/threads\/[^/]+\/content$/);
    expect(pages).toHaveLength(Math.ceil(expectedIds.length / 2));
    expect(pages.slice(1).every((p) => new URL(p.url).searchParams.has('cursor'))).toBe(true);
    // Loading states accumulate page by page.
    expect(states.filter((s) => s.status === 'loading').map((s) => s.messages.length)).toEqual(
      [0, ...Array.from({ length: pages.length }, (_v, i) => Math.min(expectedIds.length, (i + 1) * 2))],
    );

    net.clear();
    const one = await settled(service.content$(expectedIds[0]!, { max_body_chars: 25_000 }));
    expect(one.status === 'ready' && one.source).toBe('cache');
    expect(net.requests).toHaveLength(0);
  });
});

async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!(await cond())) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
