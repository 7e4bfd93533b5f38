// Query windows against the simulator over real HTTP (issue 7 "Must show").
import { testStore } from '../helpers/storage.js';
import { firstValueFrom, filter as where, timeout } from 'rxjs';
import { Subject } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { createMailboxApi } from '../../src/api/index.js';
import { createWindowManager, type MessageWindow, type WindowManager, type WindowState } from '../../src/sync/windows.js';
import type { WindowFilter, WindowSort } from '../../src/sync/queryWindow.js';
import { engine, rng, sim, type EngineHandle, type Simulator } from '../engine/helpers.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

interface Rig {
  s: Simulator;
  e: EngineHandle;
  wm: WindowManager;
  requests: string[];
}

/** A started engine with a window manager, recording every request URL. */
async function rig(s: Simulator, store?: EngineHandle['store']): Promise<Rig> {
  const requests: string[] = [];
  const counting: typeof fetch = (input, init) => {
    requests.push(`${init?.method ?? 'GET'} ${String(input)}`);
    return fetch(input, init);
  };
  const e = engine(s, { fetch: counting, events: false, ...(store ? { store } : {}) });
  const until = new Subject<void>();
  await e.sync.start();
  const wm = createWindowManager(await e.context, { until });
  cleanup.push(async () => {
    until.next();
    await e.sync.stop();
  });
  return { s, e, wm, requests };
}

/** The server's own listing of a filter: what the window must equal, id for id. */
async function serverIds(s: Simulator, filter: WindowFilter, sort: WindowSort, size: number): Promise<string[]> {
  const api = createMailboxApi({ apiKey: s.apiKey, baseUrl: s.url, rateLimit: false });
  const page = await api.listMessages({ ...filter, sort_by: sort.by, sort_direction: sort.direction, limit: size });
  return page.data.map((m) => m.id);
}

function settled(win: MessageWindow, pred: (s: WindowState) => boolean = (s) => s.status === 'ready'): Promise<WindowState> {
  return firstValueFrom(win.pipe(where(pred), timeout(15_000)));
}

async function changeSomething(s: Simulator, r: () => number, step: number): Promise<string> {
  const snap = await s.snapshot();
  const ids = snap.messages.map((m) => m.id);
  const some = () => [...new Set(Array.from({ length: 1 + Math.floor(r() * 3) }, () => ids[Math.floor(r() * ids.length)] as string))];
  const roll = r();
  if (roll < 0.3) {
    const { id } = await s.control.deliver({ subject: `window step ${step}`, text: 'hello' });
    return `deliver ${id}`;
  }
  if (roll < 0.75) {
    const target = some();
    const seen = r() < 0.5;
    await s.control.setFlags(target, { seen });
    return `setFlags ${target.join(',')} seen=${seen}`;
  }
  if (roll < 0.88) {
    const target = some();
    await s.control.trash(target);
    return `trash ${target.join(',')}`;
  }
  const target = some();
  await s.control.destroy(target);
  return `destroy ${target.join(',')}`;
}

describe('query windows', () => {
  it('refuses a listing with a mistyped record (protocol_error on errors$, nothing written), then loads once the server answers properly', async () => {
    const s = await sim({ messages: 40 });
    cleanup.push(() => s.close());
    // The window's listing (filtered on is_unread; the engine's own lists are not)
    // comes back with a numeric received_at in its first record while `hostile` is on.
    let hostile = true;
    const corrupting: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      const url = new URL(String(input));
      if (!hostile || !url.pathname.endsWith('/mailbox/messages') || !url.searchParams.has('is_unread')) return res;
      const body = (await res.json()) as { data: Array<Record<string, unknown>> };
      if (body.data[0]) body.data[0].received_at = 1767225600000;
      return new Response(JSON.stringify(body), { status: res.status, headers: { 'content-type': 'application/json' } });
    };
    const e = engine(s, { fetch: corrupting, events: false });
    const until = new Subject<void>();
    await e.sync.start();
    const ctx = await e.context;
    const wm = createWindowManager(ctx, { until });
    cleanup.push(async () => {
      until.next();
      await e.sync.stop();
    });
    const errors: string[] = [];
    e.sync.errors$.subscribe((x) => errors.push(`${x.code}: ${x.message}`));
    const before = await e.sync.snapshot();
    const sort: WindowSort = { by: 'received_at', direction: 'desc' };
    const win = wm.window$({ is_unread: true }, { size: 10, sort });
    const states: WindowState[] = [];
    win.subscribe((st) => states.push(st));
    for (let i = 0; i < 200 && !errors.some((x) => x.startsWith('protocol_error')); i++) await new Promise((r) => setTimeout(r, 25));
    expect(errors.find((x) => x.startsWith('protocol_error'))).toMatch(/received_at/);
    expect(await e.sync.snapshot()).toEqual(before);
    expect(states.every((st) => st.status === 'loading')).toBe(true);
    expect((await ctx.db.windows.toArray()).every((row) => row.query_state === null)).toBe(true);

    hostile = false;
    await wm.refreshAll();
    expect((await settled(win)).ids).toEqual(await serverIds(s, { is_unread: true }, sort, 10));
  });

  it('property: after every refresh is_unread, $seen and inbox windows equal the server listing, id for id', async () => {
    const seed = Number(process.env.WINDOW_SEED ?? 20261123);
    const r = rng(seed);
    const s = await sim({ messages: 150 });
    cleanup.push(() => s.close());
    const { e, wm } = await rig(s);
    const sort: WindowSort = { by: 'received_at', direction: 'desc' };
    const filters: WindowFilter[] = [{ is_unread: true }, { keyword: '$seen' }, { folder_id: (await s.snapshot()).folders.find((f) => f.role === 'inbox')!.id }];
    const windows = filters.map((f) => wm.window$(f, { size: 12, sort }));
    const log: string[] = [];
    for (const w of windows) await settled(w);
    for (let step = 0; step < 25; step++) {
      log.push(await changeSomething(s, r, step));
      await e.sync.syncNow();
      await wm.refreshAll();
      for (const [i, w] of windows.entries()) {
        const state = await settled(w);
        const expected = await serverIds(s, filters[i]!, sort, 12);
        expect(state.ids, `seed ${seed} step ${step} filter ${JSON.stringify(filters[i])}\n${log.join('\n')}`).toEqual(expected);
        expect(state.records.map((m) => m.id)).toEqual(expected);
      }
    }
  });

  it('sends up_to_id for a partial window and resets cleanly on an expired query state', async () => {
    const s = await sim({ messages: 80 });
    cleanup.push(() => s.close());
    const { e, wm, requests } = await rig(s);
    const sort: WindowSort = { by: 'received_at', direction: 'desc' };
    const win = wm.window$({}, { size: 5, sort });
    const first = await settled(win);
    expect(first.has_more).toBe(true);
    expect(first.ids).toHaveLength(5);

    await s.control.deliver({ subject: 'newest unread' });
    await e.sync.syncNow();
    await wm.refreshAll();
    const qc = requests.filter((u) => u.includes('/mailbox/messages/query-changes') && u.includes('since_query_state'));
    expect(qc.length).toBeGreaterThan(0);
    // The first refresh after the change compared only up to the window's last id.
    const upTo = qc.map((u) => new URL(u.split(' ')[1]!).searchParams.get('up_to_id'));
    expect(upTo[0]).toBe(first.ids.at(-1));
    expect((await settled(win)).ids).toEqual(await serverIds(s, {}, sort, 5));

    // Expiry forgets every query state: the next refresh answers 400 and the window re-lists.
    const listsBefore = requests.filter((u) => u.includes('/mailbox/messages?')).length;
    await s.control.expireChangeLog();
    await s.control.deliver({ subject: 'after expiry' });
    await e.sync.syncNow();
    await wm.refreshAll();
    const after = await settled(win);
    expect(requests.filter((u) => u.includes('/mailbox/messages?')).length).toBeGreaterThan(listsBefore);
    expect(after.ids).toEqual(await serverIds(s, {}, sort, 5));
  });

  it('resumes a persisted window after a reload without re-listing it', async () => {
    const s = await sim({ messages: 60 });
    cleanup.push(() => s.close());
    const sort: WindowSort = { by: 'subject', direction: 'asc' };
    const a = await rig(s);
    const loaded = await settled(a.wm.window$({ q: 'the' }, { size: 8, sort }));
    expect(loaded.ids.length).toBeGreaterThan(0);
    const stop = cleanup.pop()!;
    await stop();

    const b = await rig(s, a.e.store);
    const resumed = await settled(b.wm.window$({ q: 'the' }, { size: 8, sort }));
    expect(resumed.ids).toEqual(loaded.ids);
    await b.wm.refreshAll();
    expect(b.requests.filter((u) => u.includes('/mailbox/messages?') && u.includes('q=the'))).toEqual([]);
    expect(b.requests.some((u) => u.includes('/mailbox/messages/query-changes') && u.includes('since_query_state'))).toBe(true);
  });

  it('loadMore() extends a window to the next rows of the listing', async () => {
    const s = await sim({ messages: 60 });
    cleanup.push(() => s.close());
    const { wm } = await rig(s);
    const sort: WindowSort = { by: 'size_bytes', direction: 'desc' };
    const win = wm.window$({}, { size: 10, sort });
    await settled(win);
    await win.loadMore(15);
    const grown = await settled(win, (st) => st.ids.length === 25);
    expect(grown.ids).toEqual(await serverIds(s, {}, sort, 25));
    expect(grown.has_more).toBe(true);
  });
});

describe('query windows with local mutations', () => {
  it('a local optimistic change shows in the window at once and is reconciled without flicker', async () => {
    const { createMailboxSync } = await import('../../src/index.js');
    const s = await sim({ messages: 80 });
    cleanup.push(() => s.close());
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const order: string[] = [];
    const gated: typeof fetch = async (input, init) => {
      if (String(input).includes('messages:batch-update')) {
        await held;
        const res = await fetch(input, init);
        order.push('server answered');
        return res;
      }
      return fetch(input, init);
    };
    const sync = createMailboxSync({
      apiKey: s.apiKey, baseUrl: s.url, ...testStore().options, dbName: 'w', leader: 'always', fetch: gated,
      events: false, content: { prefetch: false },
    });
    cleanup.push(async () => {
      release();
      await sync.stop();
    });
    await sync.start();
    const sort: WindowSort = { by: 'received_at', direction: 'desc' };
    const win = sync.window$({ keyword: '$seen' }, { size: 10, sort });
    const emissions: string[][] = [];
    const sub = win.subscribe((st) => {
      if (st.status === 'ready') emissions.push(st.ids);
    });
    cleanup.push(async () => sub.unsubscribe());
    const first = await settled(win);
    const target = first.ids[2]!;

    const done = sync.update([target], { seen: false });
    await settled(win, (st) => !st.ids.includes(target));
    // The window changed while the server had not answered (the request is held).
    order.push('window updated');
    expect(order).toEqual(['window updated']);
    release();
    await done;
    await sync.syncNow();
    await settled(win, (st) => st.ids.length === 10 && !st.ids.includes(target));
    expect(await serverIds(s, { keyword: '$seen' }, sort, 10)).not.toContain(target);
    // Once gone, the id never came back (no flicker while the server's delta arrived).
    const goneAt = emissions.findIndex((ids) => !ids.includes(target));
    expect(emissions.slice(goneAt).some((ids) => ids.includes(target))).toBe(false);
  });
});
