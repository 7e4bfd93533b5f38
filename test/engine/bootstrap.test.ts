import { afterEach, describe, expect, it } from 'vitest';
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
  it('requests the next page of messages before it commits the page it has (fetch n+1 overlaps write n)', async () => {
    s = await sim({ messages: 150 });
    const log: string[] = [];
    const logged: typeof fetch = (input, init) => {
      const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
      const cursor = url.searchParams.get('cursor');
      if (url.pathname.endsWith('/mailbox/messages') && !url.searchParams.has('folder_id') && cursor) log.push(`fetch ${cursor}`);
      return fetch(input, init);
    };
    e = engine(s, { events: false, pageSize: 40, fetch: logged });
    const ctx = await e.context;
    // The saved cursor of a committed page is the next page's cursor.
    const saved = (value: unknown) => {
      const v = value as { step?: string; cursor?: string } | undefined;
      if (v?.step === 'messages' && v.cursor) log.push(`write ${v.cursor}`);
    };
    const put = ctx.db.syncState.put.bind(ctx.db.syncState);
    ctx.db.syncState.put = ((row: { key: string; value: unknown }, key?: string) => {
      if (row.key === 'bootstrap') saved(row.value);
      return put(row, key);
    }) as typeof ctx.db.syncState.put;
    await e.sync.start();
    const cursors = [...new Set(log.map((l) => l.split(' ')[1]))];
    expect(cursors.length).toBeGreaterThanOrEqual(2); // 150 messages, 40 a page: 3 cursors
    for (const c of cursors) {
      const fetched = log.indexOf(`fetch ${c}`);
      const written = log.indexOf(`write ${c}`);
      expect(fetched, `page after cursor ${c} was requested (log: ${log.join(', ')})`).toBeGreaterThanOrEqual(0);
      expect(written).toBeGreaterThanOrEqual(0);
      expect(fetched, `the next page is requested before the page before it commits: ${log.join(', ')}`).toBeLessThan(written);
    }
    const [local, remote] = await Promise.all([e.sync.snapshot(), s.snapshot()]);
    expect(local).toEqual(remote);
  });
});
