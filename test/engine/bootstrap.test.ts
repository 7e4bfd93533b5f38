import { afterEach, describe, expect, it } from 'vitest';
import { PAGES_AHEAD, PAGES_PER_COMMIT } from '../../src/sync/bootstrap.js';
import { engine, eventually, firstDiff, sim, type EngineHandle, type Simulator } from './helpers.js';

let s: Simulator | undefined;
let e: EngineHandle | undefined;
afterEach(async () => {
  await e?.sync.stop();
  await s?.close();
  e = undefined;
  s = undefined;
});

describe('bootstrap', () => {
  it('lists the mailbox and converges with the simulator', async () => {
    s = await sim({ messages: 150 });
    e = engine(s, { events: false, pageSize: 40 });
    await e.sync.start();
    const [local, remote] = await Promise.all([e.sync.snapshot(), s.snapshot()]);
    expect(firstDiff(local as never, remote as never)).toBeUndefined();
    expect(local).toEqual(remote);
  });
});

describe('bootstrap progress', () => {
  it('reports progress, and the first inbox page is queryable while the rest is still listing', async () => {
    s = await sim({ messages: 160 });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    let fullPages = 0;
    const gated: typeof fetch = async (input, init) => {
      const url = String(input instanceof Request ? input.url : input);
      if (/\/mailbox\/messages\?/.test(url) && !url.includes('folder_id') && ++fullPages === 2) await gate;
      return fetch(input, init);
    };
    e = engine(s, { events: false, pageSize: 20, fetch: gated });
    const statuses: { phase: string; done?: number; total?: number | null }[] = [];
    e.sync.status$.subscribe((st) => statuses.push({ phase: st.phase, done: st.progress?.done, total: st.progress?.total }));
    const started = e.sync.start();
    started.catch(() => undefined);
    const remote = await s.snapshot();
    const inboxId = remote.folders.find((f) => f.role === 'inbox')?.id as string;
    const inboxPage: string[][] = [];
    e.sync.messages$({ folderId: inboxId, limit: 20 }).subscribe((ms) => inboxPage.push(ms.map((m) => m.id)));
    const expected = remote.messages
      .filter((m) => m.folder_ids.includes(inboxId))
      .sort((a, b) => Date.parse(b.received_at ?? '') - Date.parse(a.received_at ?? '') || (a.id < b.id ? 1 : -1))
      .slice(0, 20)
      .map((m) => m.id);
    await eventually(() => JSON.stringify(inboxPage.at(-1)) === JSON.stringify(expected), 10_000, 'first inbox page');
    expect(statuses.at(-1)?.phase).toBe('bootstrapping');
    release();
    await started;
    const progress = statuses.filter((x) => x.phase === 'bootstrapping' && x.done !== undefined);
    expect(progress.at(-1)).toMatchObject({ done: 160, total: 160 });
    const dones = progress.map((x) => x.done ?? 0);
    expect([...dones].sort((a, b) => a - b)).toEqual(dones);
    expect(statuses.at(-1)?.phase).toBe('live');
    expect(await e.sync.snapshot()).toEqual(await s.snapshot());
  });

  it('clear() deletes the replica', async () => {
    s = await sim({ messages: 20 });
    e = engine(s, { events: false });
    await e.sync.start();
    const name = (await e.context).db.name;
    await e.sync.clear();
    const names = await e.store.databases();
    expect(names.map((d) => d.name)).not.toContain(name);
    e = undefined;
  });
});

describe('bootstrap pipelining', () => {
  /** Logs the message pages requested (by cursor) and the cursors the bootstrap commits as its progress. */
  function logBootstrap(handle: EngineHandle, log: string[], hold?: () => Promise<void>) {
    return handle.context.then((ctx) => {
      const put = ctx.db.syncState.put.bind(ctx.db.syncState);
      ctx.db.syncState.put = (async (row: { key: string; value: unknown }, key?: string) => {
        const v = row.value as { step?: string; cursor?: string } | undefined;
        if (row.key === 'bootstrap' && v?.step === 'messages' && v.cursor) {
          log.push(`write ${v.cursor}`);
          await hold?.();
        }
        return put(row, key);
      }) as typeof ctx.db.syncState.put;
    });
  }
  const pageFetches = (log: string[]): typeof fetch => (input, init) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const cursor = url.searchParams.get('cursor');
    if (url.pathname.endsWith('/mailbox/messages') && !url.searchParams.has('folder_id') && cursor) log.push(`fetch ${cursor}`);
    return fetch(input, init);
  };

  it('requests each next page before it commits the pages it has (fetch n+1 overlaps write n)', async () => {
    s = await sim({ messages: 150 });
    const log: string[] = [];
    e = engine(s, { events: false, pageSize: 40, fetch: pageFetches(log) });
    await logBootstrap(e, log);
    await e.sync.start();
    const fetched = log.filter((l) => l.startsWith('fetch ')).map((l) => l.slice(6));
    expect(fetched.length).toBe(3); // 150 messages, 40 a page: 3 cursors
    for (const c of log.filter((l) => l.startsWith('write ')).map((l) => l.slice(6))) {
      // A committed cursor is that of the page after the last one written: requested before the commit.
      expect(log.indexOf(`fetch ${c}`), `the page after ${c} is requested before ${c} commits: ${log.join(', ')}`).toBeLessThan(log.indexOf(`write ${c}`));
    }
    const [local, remote] = await Promise.all([e.sync.snapshot(), s.snapshot()]);
    expect(local).toEqual(remote);
  });

  it('reads at most PAGES_AHEAD pages ahead of a slow writer, then commits what waited together', async () => {
    s = await sim({ messages: 400 });
    const log: string[] = [];
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    e = engine(s, { events: false, pageSize: 20, fetch: pageFetches(log) });
    await logBootstrap(e, log);
    // The first commit of the messages step (the first after a page with a cursor was
    // requested) waits until released, before its transaction starts.
    const ctx = await e.context;
    const transaction = ctx.db.transaction.bind(ctx.db) as (...args: unknown[]) => Promise<unknown>;
    let holds = 0;
    ctx.db.transaction = (async (...args: unknown[]) => {
      const tables = args[1];
      if (Array.isArray(tables) && tables.length === ctx.db.serverTables.length && log.length > 0 && holds++ === 0) await held;
      return transaction(...args);
    }) as unknown as typeof ctx.db.transaction;
    const started = e.sync.start();
    await eventually(() => holds > 0, 10_000, 'first commit held');
    // The writer is stuck: the reader stops at its bound.
    await new Promise((r) => setTimeout(r, 300));
    const fetchedWhileHeld = log.filter((l) => l.startsWith('fetch ')).length;
    release();
    await started;
    const writes = log.filter((l) => l.startsWith('write ')).length;
    const fetches = log.filter((l) => l.startsWith('fetch ')).length;
    expect(fetches, log.join('\n')).toBe(19); // 400 messages, 20 a page
    // While the first page (requested without a cursor) waits to commit, the reader
    // fills its PAGES_AHEAD answered pages and requests nothing more.
    expect(fetchedWhileHeld).toBe(PAGES_AHEAD);
    // The pages that waited were committed together: the commit after the held one
    // saves the cursor PAGES_PER_COMMIT pages further on.
    const cursors = log.filter((l) => l.startsWith('fetch ')).map((l) => l.slice(6));
    const [first, second] = log.filter((l) => l.startsWith('write ')).map((l) => cursors.indexOf(l.slice(6)));
    expect(first).toBe(0);
    expect(second).toBe(PAGES_PER_COMMIT);
    expect(writes).toBeLessThan(fetches);
    expect(await e.sync.snapshot()).toEqual(await s.snapshot());
  });
});
