// The prefetch policy end to end: the engine keeps a replica of the simulator's
// mailbox, the policy reads it (newest unread of the inbox, open threads), prefetches
// those bodies in the background, and after going offline the prefetched bodies
// still render from the content cache.
import { afterEach, describe, expect, it } from 'vitest';
import { filter, firstValueFrom } from 'rxjs';
import { engine, eventually, sim as startSim } from '../engine/helpers.js';
import type { EngineHandle, Simulator } from '../engine/helpers.js';
import { specAvailable } from '../helpers/spec.js';
import { createContentService } from '../../src/content/service.js';
import type { ContentService } from '../../src/content/service.js';
import { createPrefetcher, newestUnreadIds } from '../../src/content/prefetch.js';
import type { Prefetcher } from '../../src/content/prefetch.js';
import type { ContentDb } from '../../src/store/contentDb.js';
import { NetLog, apiFor, contentDb } from './helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function expectedNewestUnread(snap: Awaited<ReturnType<Simulator['snapshot']>>, limit: number): string[] {
  const inbox = snap.folders.find((f) => f.role === 'inbox')!;
  return snap.messages
    .filter((m) => m.folder_ids.includes(inbox.id) && !m.flags.seen)
    .sort((a, b) => Date.parse(b.received_at ?? '') - Date.parse(a.received_at ?? ''))
    .slice(0, limit)
    .map((m) => m.id);
}

async function cachedMessageIds(db: ContentDb): Promise<Set<string>> {
  return new Set((await db.bodies.toArray()).map((r) => r.message_id));
}

describe.skipIf(!specAvailable)('prefetch policy', () => {
  it('prefetches the newest unread inbox bodies (and new arrivals); they render offline after a reload', async () => {
    const s = await startSim({ messages: 80, seed: 5 });
    cleanups.push(() => s.close());
    // Make sure the inbox has more unread mail than the policy keeps.
    const before = await s.snapshot();
    const inboxId = before.folders.find((f) => f.role === 'inbox')!.id;
    const inboxIds = before.messages.filter((m) => m.folder_ids.includes(inboxId)).map((m) => m.id);
    await s.control.setFlags(inboxIds.slice(0, 8), { seen: false });
    const e: EngineHandle = engine(s);
    cleanups.push(() => e.sync.stop());
    await e.sync.start();
    const ctx = await e.context;

    const net = new NetLog();
    const { db, store } = contentDb();
    const content: ContentService = createContentService({ api: apiFor(s, net), db });
    cleanups.push(() => {
      content.stop();
      db.close();
    });
    const prefetcher: Prefetcher = createPrefetcher({ content, db: ctx.db, policy: { newestUnread: { limit: 5 } } });
    cleanups.push(() => prefetcher.stop());

    const want = expectedNewestUnread(await s.snapshot(), 5);
    expect(want).toHaveLength(5);
    expect(await newestUnreadIds(ctx.db, 5)).toEqual(want);
    await eventually(async () => (await cachedMessageIds(db)).size === 5, 10_000, 'prefetch of 5 bodies');
    expect(await cachedMessageIds(db)).toEqual(new Set(want));
    // Background priority, batched: one batch-get for the five.
    expect(net.matching('POST', /messages:batch-get$/)).toHaveLength(1);

    // A new unread arrival reaches the replica and is prefetched too.
    const { id: arrival } = await s.control.deliver({ subject: 'Fresh news', text: 'just arrived' });
    await e.sync.syncNow();
    await eventually(async () => (await cachedMessageIds(db)).has(arrival), 10_000, 'prefetch of the arrival');
    await prefetcher.idle();
    const prefetched = [...(await cachedMessageIds(db))];

    // Offline, reloaded: every prefetched body renders from the cache.
    prefetcher.stop();
    content.stop();
    db.close();
    net.online = false;
    net.clear();
    const { db: db2 } = contentDb(store);
    const offline = createContentService({ api: apiFor(s, net, { attempts: 1 }), db: db2 });
    cleanups.push(() => {
      offline.stop();
      db2.close();
    });
    for (const id of prefetched) {
      const state = await firstValueFrom(offline.content$(id).pipe(filter((st) => st.status !== 'loading')));
      expect(state.status === 'ready' && state.source).toBe('cache');
    }
    expect(net.requests).toHaveLength(0);
  });

  it('prefetches and pins every message of an open thread until it is closed', async () => {
    const s = await startSim({ messages: 150, seed: 9 });
    cleanups.push(() => s.close());
    const e = engine(s);
    cleanups.push(() => e.sync.stop());
    await e.sync.start();
    const ctx = await e.context;
    const snap = await s.snapshot();
    const thread = [...snap.threads].sort((a, b) => b.message_count - a.message_count)[0]!;
    const ids = snap.messages.filter((m) => m.thread_id === thread.id).map((m) => m.id).sort();
    expect(ids.length).toBeGreaterThan(2);

    const net = new NetLog();
    const { db } = contentDb();
    const content = createContentService({ api: apiFor(s, net), db });
    cleanups.push(() => {
      content.stop();
      db.close();
    });
    const prefetcher = createPrefetcher({ content, db: ctx.db, policy: { openThreads: true } });
    cleanups.push(() => prefetcher.stop());
    const close = prefetcher.openThread(thread.id);
    await eventually(async () => (await cachedMessageIds(db)).size === ids.length, 10_000, 'thread prefetch');
    expect([...(await cachedMessageIds(db))].sort()).toEqual(ids);
    expect((await content.stats()).pinned.sort()).toEqual(ids);
    close();
    expect((await content.stats()).pinned).toEqual([]);
  });
});
