import { afterEach, describe, expect, it } from 'vitest';
import { getTokens } from '../../src/store/apply.js';
import { BOOTSTRAP_KEY } from '../../src/sync/bootstrap.js';
import { relistKey } from '../../src/sync/changes.js';
import { countCalls, engine, firstDiff, killableFetch, sim, waitStatus, type EngineHandle, type Simulator } from './helpers.js';

let s: Simulator | undefined;
const engines: EngineHandle[] = [];
afterEach(async () => {
  for (const e of engines.splice(0)) await e.sync.stop();
  await s?.close();
  s = undefined;
});

async function expectConverged(e: EngineHandle) {
  const [local, remote] = await Promise.all([e.sync.snapshot(), s?.snapshot()]);
  expect(firstDiff(local as never, remote as never)).toBeUndefined();
  expect(local).toEqual(remote);
}

describe('crash safety', () => {
  it('a reload in the middle of bootstrap resumes from the saved cursor and converges', async () => {
    s = await sim({ messages: 200 });
    // Die on the 4th page of the full message listing (the inbox page comes first).
    const first = killableFetch((url, method, calls) => method === 'GET' && new URL(url).pathname.endsWith('/mailbox/messages') && !url.includes('folder_id') && countCalls(calls.filter((c) => !c.includes('folder_id')), 'GET', '/mailbox/messages') >= 3);
    const e1 = engine(s, { events: false, pageSize: 25, fetch: first.fetch });
    engines.push(e1);
    void e1.sync.start().catch(() => undefined);
    await waitStatus(e1.sync, (st) => st.phase === 'offline');
    const ctx1 = await e1.context;
    const saved = (await ctx1.db.syncState.get(BOOTSTRAP_KEY))?.value as { step: string; cursor?: string; done: number };
    expect(saved.step).toBe('messages');
    expect(saved.cursor).toBeTruthy();
    expect(await ctx1.db.messages.count()).toBeGreaterThanOrEqual(75);
    expect((await getTokens(ctx1.db)).messages).toBeUndefined();
    await e1.sync.stop();

    // The world moves on while the tab is closed.
    await s.control.deliver({ subject: 'while closed' });
    const victim = (await s.snapshot()).messages[5]?.id as string;
    await s.control.destroy([victim]);

    const second = killableFetch();
    const e2 = engine(s, { events: false, pageSize: 25, fetch: second.fetch, store: e1.store });
    engines.push(e2);
    await e2.sync.start();
    // Resumed: the full listing restarted from the saved cursor, not from page 1.
    const fullListing = second.calls.filter((c) => c.includes('/mailbox/messages?') && !c.includes('folder_id'));
    expect(fullListing[0]).toContain(`cursor=${encodeURIComponent(saved.cursor as string)}`);
    expect(fullListing.length).toBe(Math.ceil(200 / 25) - 3);
    await expectConverged(e2);
  });

  it('a reload in the middle of catch-up keeps committed pages, re-pulls the rest and converges', async () => {
    s = await sim({ messages: 700 });
    const e1Fetch = killableFetch((url, method, calls) => {
      // After the first changes page's 5 batch-gets are committed, die on the 7th.
      return method === 'POST' && url.includes('messages:batch-get') && countCalls(calls, 'POST', '/mailbox/messages:batch-get') >= 6;
    });
    const e1 = engine(s, { events: false, fetch: e1Fetch.fetch });
    engines.push(e1);
    await e1.sync.start();
    const ctx1 = await e1.context;
    const tokenBefore = (await getTokens(ctx1.db)).messages;
    const ids = (await s.snapshot()).messages.map((m) => m.id).slice(0, 650);
    await s.control.setFlags(ids, { flagged: true });
    await e1.sync.syncNow().catch(() => undefined);
    expect(e1Fetch.isKilled()).toBe(true);
    const tokenMid = (await getTokens(ctx1.db)).messages;
    // The first page (500 ids) was committed with its token; the second was not.
    expect(tokenMid).not.toBe(tokenBefore);
    expect((await ctx1.db.messages.filter((m) => m.flags.flagged).count())).toBeGreaterThanOrEqual(500);
    await e1.sync.stop();

    const f2 = killableFetch();
    const e2 = engine(s, { events: false, fetch: f2.fetch, store: e1.store });
    engines.push(e2);
    await e2.sync.start();
    // Only the uncommitted remainder is fetched again: 150 ids → 2 batch-gets.
    expect(countCalls(f2.calls, 'POST', '/mailbox/messages:batch-get')).toBe(2);
    await expectConverged(e2);
  });

  it('a reload in the middle of a sync_required re-list resumes from the saved cursor, sweeps, and converges', async () => {
    s = await sim({ messages: 200 });
    let relisting = false;
    let relistPages = 0;
    const first = killableFetch((url, method) => {
      if (!relisting || method !== 'GET' || !/\/mailbox\/messages\?/.test(url)) return false;
      relistPages += 1;
      return relistPages > 3; // the 4th page of the re-list never arrives
    });
    const e1 = engine(s, { events: false, pageSize: 25, fetch: first.fetch });
    engines.push(e1);
    await e1.sync.start();
    const doomed = (await s.snapshot()).messages.slice(0, 3).map((m) => m.id);
    await s.control.destroy(doomed);
    await s.control.expireChangeLog();
    relisting = true;
    await e1.sync.syncNow().catch(() => undefined);
    expect(first.isKilled()).toBe(true);
    const ctx1 = await e1.context;
    const saved = (await ctx1.db.syncState.get(relistKey('messages')))?.value as { cursor?: string; pages: number };
    expect(saved.pages).toBe(3);
    expect(saved.cursor).toBeTruthy();
    // Not swept yet: the destroyed messages are still there until the listing completes.
    expect(await ctx1.db.messages.get(doomed[0] as string)).toBeDefined();
    await e1.sync.stop();

    const second = killableFetch();
    const e2 = engine(s, { events: false, pageSize: 25, fetch: second.fetch, store: e1.store });
    engines.push(e2);
    await e2.sync.start();
    const listing = second.calls.filter((c) => /\/mailbox\/messages\?/.test(c));
    expect(listing[0]).toContain(`cursor=${encodeURIComponent(saved.cursor as string)}`);
    expect(listing.length).toBe(Math.ceil(197 / 25) - 3);
    const ctx2 = await e2.context;
    expect(await ctx2.db.syncState.where('key').startsWith('relist:').count()).toBe(0);
    await expectConverged(e2);
  });
});
