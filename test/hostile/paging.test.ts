// Issue 19, point 1: endless paging. A server answering `has_more: true` forever (the
// same new_state, a fresh token every page, a repeating next_cursor) must not loop:
// the engine stops after a bounded number of calls, reports protocol_error on errors$,
// falls back (a re-list for changes, a fresh listing for a cursor) and its syncNow()
// settles. Counters, not clocks: the proxy counts the responses it answered.
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import { createMailboxSync, type SyncError } from '../../src/index.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import type { SyncEngine } from '../../src/engine.js';
import { snapshotDiff } from '../chaos/checks.js';
import { HostileFetch } from './hostileFetch.js';
import { startHostileRig } from './rig.js';

let sim: Simulator;
let proxy: HostileFetch;
let engine: SyncEngine;
let errors: SyncError[];

afterEach(async () => {
  await engine.sync.stop();
  await sim.close();
});

const CHANGES = '/mailbox/changes';
/** More than any fixed loop needs; before the fix the engine used every one of them. */
const ENDLESS = 60;

/** A changes response where every requested type says has_more, built from the request. */
function endlessChanges(newState: (since: string, n: number) => string, ids: () => string[]) {
  let n = 0;
  return (_res: unknown, url: URL) => {
    n += 1;
    const types: Record<string, unknown> = {};
    for (const t of (url.searchParams.get('types') ?? '').split(',')) {
      const since = url.searchParams.get(`${t}_since_state`) ?? '';
      types[t] = { old_state: since, new_state: newState(since, n), has_more: true, created: [], updated: t === 'messages' ? ids() : [], destroyed: [] };
    }
    return { status: 200, text: JSON.stringify({ ok: true, data: { types }, meta: { request_id: `req_loop_${n}` } }) };
  };
}

async function settle(p: Promise<void>): Promise<'resolved' | 'rejected'> {
  return p.then(
    () => 'resolved' as const,
    () => 'rejected' as const,
  );
}

describe('endless paging stops (issue 19)', () => {
  it('changes answering has_more with the same new_state stops, reports protocol_error and re-lists', async () => {
    ({ sim, proxy, engine, errors } = await startHostileRig({ dbName: 'paging-same-state' }));
    const first = (await sim.snapshot()).messages[0];
    await sim.control.setFlags([first?.id ?? ''], { flagged: true });
    // The same new_state as the token sent, with an id and without.
    proxy.corruptNext('GET', CHANGES, endlessChanges((since) => since, () => [first?.id ?? '']), ENDLESS);
    expect(await settle(engine.sync.syncNow())).toBe('resolved');
    expect(proxy.corrupted).toBeLessThanOrEqual(2);
    expect(errors.some((e) => e.code === 'protocol_error')).toBe(true);
    // The fallback re-list brought the replica to the server's state.
    expect(snapshotDiff(await engine.sync.snapshot(), await sim.snapshot())).toBeUndefined();
  });

  it('changes answering has_more with a fresh token every page stops within the page budget', async () => {
    ({ sim, proxy, engine, errors } = await startHostileRig({ dbName: 'paging-fresh-token' }));
    const ids = (await sim.snapshot()).messages.slice(0, 3).map((m) => m.id);
    await sim.control.setFlags(ids, { seen: true });
    proxy.corruptNext('GET', CHANGES, endlessChanges((since, n) => `${since}~${n}`, () => ids), ENDLESS);
    expect(await settle(engine.sync.syncNow())).toBe('resolved');
    // pageBudget(60 local messages, 500 a page) = 12 pages, then the re-list.
    expect(proxy.corrupted).toBeLessThanOrEqual(13);
    expect(errors.some((e) => e.code === 'protocol_error')).toBe(true);
    expect(snapshotDiff(await engine.sync.snapshot(), await sim.snapshot())).toBeUndefined();
  });

  it('a bootstrap listing whose next_cursor repeats stops, lists once more, then fails with protocol_error; progress never passes the total', async () => {
    ({ sim, proxy, engine, errors } = await startHostileRig({ dbName: 'paging-cursor', pageSize: 20, start: false }));
    const progress: number[] = [];
    const sub = engine.sync.status$.subscribe((s) => {
      if (s.progress) progress.push(s.progress.done);
    });
    // Every page points at the same next cursor; pages asked with that cursor (which
    // the real server refuses) answer the first page's records again.
    let firstPage: string | undefined;
    proxy.corruptNext(
      'GET',
      '/mailbox/messages',
      (res) => {
        if (res.status === 200) firstPage ??= res.text;
        const body = JSON.parse(res.status === 200 ? res.text : (firstPage ?? res.text)) as Record<string, unknown>;
        body.pagination = { has_more: true, next_cursor: 'cursor_loop' };
        return { status: 200, text: JSON.stringify(body) };
      },
      ENDLESS,
    );
    void engine.sync.start().catch(() => undefined);
    // The inbox's first page, then two listings of two pages each: the second repeat fails.
    await expect.poll(() => errors.filter((e) => e.code === 'protocol_error').length, { timeout: 10_000 }).toBe(2);
    expect(proxy.corrupted).toBeLessThanOrEqual(5);
    expect(Math.max(0, ...progress)).toBeLessThanOrEqual(60);
    const status = await new Promise<string>((resolve) => engine.sync.status$.subscribe((s) => s.phase === 'error' && resolve(s.error?.code ?? '')));
    expect(status).toBe('protocol_error');
    // Once the server behaves, the bootstrap resumes and converges.
    proxy.heal();
    await engine.sync.syncNow();
    sub.unsubscribe();
    expect(snapshotDiff(await engine.sync.snapshot(), await sim.snapshot())).toBeUndefined();
  });
});

describe('endless query-changes paging stops (issue 19)', () => {
  it('folders/query-changes answering has_more with the same query state stops, reports protocol_error and lists afresh', async () => {
    sim = await startSimulator({ port: 0, seed: 7, messages: 20, rateLimitPerMinute: 0 });
    proxy = new HostileFetch(sim.url);
    const sync = createMailboxSync({
      apiKey: sim.apiKey,
      baseUrl: sim.url,
      fetch: proxy.fetch,
      indexedDB: new IDBFactory(),
      IDBKeyRange,
      dbName: 'paging-folder-order',
      leader: 'always',
      events: false,
      apiOptions: { rateLimit: false },
    });
    errors = [];
    sync.errors$.subscribe((e) => errors.push(e));
    engine = { sync } as unknown as SyncEngine;
    await sync.start();
    proxy.corruptNext(
      'GET',
      '/mailbox/folders/query-changes',
      (_res, url) => {
        const since = url.searchParams.get('since_query_state') ?? '';
        const data = { old_query_state: since, new_query_state: since, has_more: true, added: [], removed: [], total: null };
        return { status: 200, text: JSON.stringify({ ok: true, data, meta: { request_id: 'req_loop' } }) };
      },
      ENDLESS,
    );
    await sim.control.createFolder('Loop');
    await sync.syncNow();
    await expect.poll(() => errors.some((e) => e.code === 'protocol_error' && e.message.includes('/mailbox/folders/query-changes')), { timeout: 10_000 }).toBe(true);
    expect(proxy.corrupted).toBeLessThanOrEqual(2);
  });
});
