// Durable intent (DESIGN.md invariant 4) and one writer to the network (invariant 7):
// offline mutations survive an engine restart and are applied exactly once; a lost
// response (server applied, client never heard) is not applied twice harmfully;
// 5xx/429 keep entries queued; entries written by a follower tab are flushed by the
// leader and their outcomes reach the follower.
import { testStore, type TestStore } from '../helpers/storage.js';
import { firstValueFrom } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import type { Folder, Message } from '../../src/api/types.js';
import type { MutationOutcome } from '../../src/reactive/mutations.js';
import { MailboxDb } from '../../src/store/db.js';
import type { SyncError } from '../../src/sync/errors.js';
import { BATCH_DELETE, BATCH_UPDATE, controlledFetch, converge, eventually, fakeLocks, requests, sim, switchableEnvironment, until, wire, type Simulator, type Wired } from './helpers.js';

let s: Simulator | undefined;
const engines: Wired[] = [];
afterEach(async () => {
  for (const e of engines.splice(0)) await e.stop();
  await s?.close();
  s = undefined;
});

function track(w: Wired): Wired {
  engines.push(w);
  return w;
}

async function inboxOnly(sim: Simulator, n: number): Promise<string[]> {
  const snap = await sim.snapshot();
  const inbox = snap.folders.find((f) => f.role === 'inbox') as Folder;
  const found = snap.messages.filter((m: Message) => m.folder_ids.length === 1 && m.folder_ids[0] === inbox.id && !m.flags.seen && !m.flags.flagged);
  if (found.length < n) throw new Error('the seeded mailbox has too few unread inbox messages');
  return found.slice(0, n).map((m) => m.id);
}

async function outboxRows(store: TestStore): Promise<number> {
  const db = new MailboxDb('replica', store.options);
  try {
    await db.open();
    return await db.outbox.count();
  } finally {
    db.close();
  }
}

describe('durability', () => {
  it('offline mutations survive an engine restart and are applied exactly once when back online', async () => {
    s = await sim();
    const net = controlledFetch();
    const first = track(wire(s, { fetch: net.fetch }));
    await first.sync.start();
    const [a, b, c, d] = (await inboxOnly(s, 4)) as [string, string, string, string];

    net.state.offline = true;
    const calls = [first.update([a], { seen: true }), first.update([b], { seen: true }), first.update([c], { flagged: true }), first.remove([d])];
    await until(first.sync.status$, (st) => st.pendingMutations === 4);
    expect((await firstValueFrom(first.sync.message$(a)))?.flags.seen).toBe(true);
    await first.stop();
    engines.splice(0);
    // Promises of an engine that stopped first reject with `stopped`; the intent stays queued.
    for (const call of calls) await expect(call).rejects.toMatchObject({ code: 'stopped' });
    expect(requests(s, BATCH_UPDATE) + requests(s, BATCH_DELETE)).toBe(0);

    // A reload, still offline: the optimistic state comes back from the database.
    const net2 = controlledFetch();
    net2.state.offline = true;
    const second = track(wire(s, { store: first.store, fetch: net2.fetch }));
    const outcomes: MutationOutcome[] = [];
    second.outcomes$.subscribe((o) => outcomes.push(o));
    void second.sync.start().catch(() => undefined);
    expect((await firstValueFrom(second.sync.message$(a)))?.flags.seen).toBe(true);
    expect((await firstValueFrom(second.sync.message$(c)))?.flags.flagged).toBe(true);
    await until(second.sync.status$, (st) => st.pendingMutations === 4);

    net2.state.offline = false;
    await (await second.outbox).flush();
    await eventually(() => outcomes.length === 4, 20_000, 'four outcomes');
    // ('rebased' when the engine's own catch-up raced a send and the state moved.)
    for (const o of outcomes) expect(['applied', 'rebased']).toContain(o.status);
    // Coalesced and applied once: seen for a and b in one call, flagged for c, one delete.
    const applied = net2.succeeded('/mailbox/messages:batch-update').map((c) => c.body);
    expect(applied).toHaveLength(2);
    expect(applied).toEqual(expect.arrayContaining([expect.objectContaining({ ids: [a, b], seen: true }), expect.objectContaining({ ids: [c], flagged: true })]));
    expect(net2.succeeded('/mailbox/messages:batch-delete').map((x) => x.body)).toEqual([expect.objectContaining({ ids: [d] })]);
    const sent = { update: requests(s, BATCH_UPDATE), remove: requests(s, BATCH_DELETE) };
    await until(second.sync.status$, (st) => st.pendingMutations === 0);
    await converge(second, s);
    await second.stop();
    engines.splice(0);

    // Yet another engine on the same database has nothing left to send.
    const third = track(wire(s, { store: first.store }));
    await third.sync.start();
    await (await third.outbox).flush();
    expect({ update: requests(s, BATCH_UPDATE), remove: requests(s, BATCH_DELETE) }).toEqual(sent);
    await converge(third, s);
  });

  it('a lost response (applied on the server, never acknowledged locally) is resolved without harm', async () => {
    s = await sim();
    const w = track(wire(s));
    await w.sync.start();
    const [a, b] = (await inboxOnly(s, 2)) as [string, string];
    await s.control.dropNextResponses({ count: 1, path: '/mailbox/messages:batch-update' });
    await s.control.dropNextResponses({ count: 1, path: '/mailbox/messages:batch-delete' });
    const [upd, del] = await Promise.all([w.update([a], { seen: true, keywords: { done: true } }), w.remove([b], { permanent: true })]);
    // The resend meets a 409 (our own first apply moved the state), pulls, rebases and
    // resends: the absolute update is a no-op, the delete answers not_found = done.
    expect(upd).toEqual([{ id: a, status: 'rebased' }]);
    expect(del).toEqual([{ id: b, status: 'rebased', reason: 'not_found' }]);
    const server = (await s.snapshot()).messages;
    expect(server.find((m) => m.id === a)?.keywords).toContain('done');
    expect(server.find((m) => m.id === b)).toBeUndefined();
    await converge(w, s);
  });

  it('5xx and 429 keep the entry queued and retry with backoff; errors$ reports them', async () => {
    s = await sim();
    // Injected timers: record every delay asked for; run the Retry-After wait short
    // (the others, request timeouts included, run as asked).
    const delays: number[] = [];
    const setTimeout = (fn: () => void, ms: number): unknown => {
      delays.push(ms);
      return globalThis.setTimeout(fn, ms === 7000 ? 30 : ms);
    };
    const w = track(wire(s, { setTimeout, poll: { visibleMs: 600_000, hiddenMs: 600_000 } }));
    await w.sync.start();
    const [a] = (await inboxOnly(s, 1)) as [string];
    const errors: SyncError[] = [];
    w.sync.errors$.subscribe((e) => errors.push(e));
    await s.control.failNext({ count: 1, status: 503, path: '/mailbox/messages:batch-update' });
    await s.control.failNext({ count: 1, status: 429, path: '/mailbox/messages:batch-update', retryAfterSeconds: 7 });
    const outcome = w.update([a], { flagged: true });
    await until(w.sync.status$, (st) => st.pendingMutations === 1);
    expect(await outcome).toEqual([{ id: a, status: 'applied' }]);
    expect(requests(s, BATCH_UPDATE)).toBe(3);
    // docs/errors.md: the 429's Retry-After was honoured by the outbox backoff.
    expect(delays).toContain(7000);
    expect(errors.filter((e) => e.message.startsWith('outbox:')).length).toBe(2);
    await converge(w, s);
  });
});

describe('connectivity', () => {
  it('sends nothing while the environment says offline, and flushes on the online signal', async () => {
    s = await sim();
    const env = switchableEnvironment();
    const w = track(wire(s, { environment: env }));
    await w.sync.start();
    const [a] = (await inboxOnly(s, 1)) as [string];
    env.set(false);
    let settled = false;
    const outcome = w.update([a], { seen: true }).finally(() => (settled = true));
    await until(w.sync.status$, (st) => st.pendingMutations === 1);
    await (await w.outbox).flush();
    expect(requests(s, BATCH_UPDATE)).toBe(0);
    expect(settled).toBe(false);
    env.set(true);
    expect(await outcome).toEqual([{ id: a, status: 'applied' }]);
    expect(requests(s, BATCH_UPDATE)).toBe(1);
    await converge(w, s);
  });
});

describe('tabs', () => {
  it('a follower writes to the outbox, the leader flushes it, the follower gets the outcome', async () => {
    s = await sim();
    const store = testStore();
    const leader = track(wire(s, { store }));
    await leader.sync.start();
    const follower = track(wire(s, { store, leader: 'follower' }));
    await follower.sync.start();
    const [a, b] = (await inboxOnly(s, 2)) as [string, string];
    const leaderSaw: MutationOutcome[] = [];
    leader.outcomes$.subscribe((o) => leaderSaw.push(o));
    const followerSaw: MutationOutcome[] = [];
    follower.outcomes$.subscribe((o) => followerSaw.push(o));
    const out = await follower.update([a, b], { flagged: true });
    expect(out).toEqual([
      { id: a, status: 'applied' },
      { id: b, status: 'applied' },
    ]);
    expect(followerSaw).toEqual(out);
    expect(leaderSaw).toEqual(out);
    expect(requests(s, BATCH_UPDATE)).toBe(1);
    // The follower took its settled entry: nothing is left behind.
    await eventually(async () => (await outboxRows(store)) === 0, 5000, 'empty outbox');
    expect((await firstValueFrom(leader.sync.message$(a)))?.flags.flagged).toBe(true);
    await converge(leader, s);
  });

  it('entries a leader left in flight are sent by the next leader', async () => {
    s = await sim();
    const store = testStore();
    const locks = fakeLocks();
    const net = controlledFetch();
    const first = track(wire(s, { store, locks, leader: 'auto', fetch: net.fetch }));
    await first.sync.start();
    const second = track(wire(s, { store, locks, leader: 'auto' }));
    const secondSaw: MutationOutcome[] = [];
    second.outcomes$.subscribe((o) => secondSaw.push(o));
    void second.sync.start().catch(() => undefined);
    const [a] = (await inboxOnly(s, 1)) as [string];
    const held = net.hold('/mailbox/messages:batch-update');
    const call = first.update([a], { flagged: true });
    await held.arrived;
    // The leader's tab goes away mid-request: its entry is left 'sending'.
    await first.stop();
    held.release(); // the request was aborted with its engine: it never reaches the server
    await expect(call).rejects.toMatchObject({ code: 'stopped' });
    await eventually(() => secondSaw.length === 1, 20_000, 'the new leader to settle the entry');
    expect(secondSaw).toEqual([{ id: a, status: 'applied' }]);
    expect(requests(s, BATCH_UPDATE)).toBe(1);
    await converge(second, s);
  });
});
