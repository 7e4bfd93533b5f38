// Leader election without Web Locks: the IndexedDB lease (src/sync/lease.ts).
import { testStore } from '../helpers/storage.js';
import { filter, firstValueFrom, timeout } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { createMailboxSync, type MailboxSync } from '../../src/index.js';
import type { EngineClock } from '../../src/sync/context.js';
import { MailboxDb } from '../../src/store/db.js';
import { LEASE_KEY, leaseElection } from '../../src/sync/lease.js';
import { engine, eventually, sim, waitStatus, type EngineHandle, type Simulator } from './helpers.js';

/** A clock whose timers fire only when the test says so. */
function manualClock(start = 1_000) {
  let now = start;
  let timers: Array<{ at: number; fn: () => void }> = [];
  const clock: EngineClock = {
    now: () => now,
    setTimeout: (fn, ms) => {
      const t = { at: now + ms, fn };
      timers.push(t);
      return t;
    },
    clearTimeout: (h) => {
      timers = timers.filter((t) => t !== h);
    },
    random: () => 0.5,
  };
  return {
    clock,
    /** Moves time forward and fires the timers that came due. */
    advance(ms: number) {
      now += ms;
      const due = timers.filter((t) => t.at <= now);
      timers = timers.filter((t) => t.at > now);
      for (const t of due) t.fn();
    },
    /** A crashed tab: its timers never fire again. */
    crash() {
      timers = [];
    },
  };
}

const dbs: MailboxDb[] = [];
const engines: EngineHandle[] = [];
const syncs: MailboxSync[] = [];
let s: Simulator | undefined;
afterEach(async () => {
  for (const e of engines.splice(0)) await e.sync.stop();
  for (const x of syncs.splice(0)) await x.stop();
  for (const d of dbs.splice(0)) d.close();
  await s?.close();
  s = undefined;
});

describe('IndexedDB lease election', () => {
  it('grants one holder, and a crashed holder is replaced only after its lease expires', async () => {
    const store = testStore();
    const open = async () => {
      const d = new MailboxDb('lease', store.options);
      dbs.push(d);
      await d.open();
      return d;
    };
    const [da, db] = [await open(), await open()];
    const a = manualClock();
    const b = manualClock();
    const ea = leaseElection(da, a.clock, { ttlMs: 6_000 });
    await ea.acquired;
    const eb = leaseElection(db, b.clock, { ttlMs: 6_000 });
    const bLeads = eb.acquired.then(() => true);
    await eventually(async () => (await db.syncState.get(LEASE_KEY)) !== undefined, 2_000, 'lease row');
    // A renews in time: B keeps waiting.
    for (let i = 0; i < 4; i++) {
      a.advance(2_000);
      b.advance(2_000);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(ea.isLeader()).toBe(true);
    expect(eb.isLeader()).toBe(false);
    // A's tab crashes: no more renewals. B takes over once the lease has expired.
    a.crash();
    b.advance(3_000);
    await new Promise((r) => setTimeout(r, 20));
    expect(eb.isLeader()).toBe(false);
    b.advance(4_000);
    expect(await bLeads).toBe(true);
    expect(eb.isLeader()).toBe(true);
    // A late release by the old holder does not delete the new holder's lease.
    await ea.release();
    expect(((await db.syncState.get(LEASE_KEY))?.value as { holder: string }).holder).toBeDefined();
    b.advance(2_000);
    await new Promise((r) => setTimeout(r, 20));
    expect(eb.isLeader()).toBe(true);
    await eb.release();
    // The holder's release has deleted the row by the time it settles.
    expect(await db.syncState.get(LEASE_KEY)).toBeUndefined();
  });

  it('a release while the first attempt is still in flight leaves no lease behind', async () => {
    const store = testStore();
    const d = new MailboxDb('lease-race', store.options);
    dbs.push(d);
    await d.open();
    const election = leaseElection(d, manualClock().clock, { ttlMs: 6_000 });
    // Released in the same tick it was created: its take of the lease has not committed.
    await election.release();
    expect(election.isLeader()).toBe(false);
    expect(await d.syncState.get(LEASE_KEY)).toBeUndefined();
  });

  it("stop() resolves after the lease row is gone, so a process that exits next leaves no live lease", async () => {
    s = await sim({ messages: 5 });
    const store = testStore();
    const a = engine(s, { store, leader: 'lease', events: false });
    await a.sync.start();
    await waitStatus(a.sync, (st) => st.leader === true && st.phase === 'live');
    await a.sync.stop();
    const d = new MailboxDb('replica', store.options);
    dbs.push(d);
    await d.open();
    expect(await d.syncState.get(LEASE_KEY)).toBeUndefined();
  });

  it("two engines with leader: 'lease' on one database: one syncs, and the other takes over when it stops", async () => {
    s = await sim({ messages: 30 });
    const store = testStore();
    const a = engine(s, { store, leader: 'lease', events: false });
    engines.push(a);
    await a.sync.start();
    await waitStatus(a.sync, (st) => st.leader === true && st.phase === 'live');
    let bRequests = 0;
    const b = engine(s, {
      store, leader: 'lease', events: false,
      fetch: (input, init) => {
        bRequests += 1;
        return fetch(input, init);
      },
    });
    engines.push(b);
    void b.sync.start().catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    expect((await (await b.context).isLeader())).toBe(false);
    const before = bRequests;
    await a.sync.stop();
    engines.splice(engines.indexOf(a), 1);
    await waitStatus(b.sync, (st) => st.leader === true, 10_000);
    await s.control.deliver({ subject: 'after the handover' });
    await b.sync.syncNow();
    expect(bRequests).toBeGreaterThan(before);
    expect((await b.sync.snapshot()).messages.length).toBe((await s.snapshot()).messages.length);
  });

  it('two engines with default options on one database in Node: exactly one opens an event stream, and a send is POSTed once', async () => {
    s = await sim({ messages: 20 });
    const store = testStore();
    const calls: string[][] = [[], []];
    const open = (n: 0 | 1) => {
      const x = createMailboxSync({
        apiKey: (s as Simulator).apiKey,
        baseUrl: (s as Simulator).url,
        ...store.options,
        dbName: 'shared',
        poll: { visibleMs: 3_600_000, hiddenMs: 3_600_000 },
        apiOptions: { rateLimit: false },
        fetch: (input, init) => {
          const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
          calls[n]?.push(`${(init?.method ?? 'GET').toUpperCase()} ${new URL(url).pathname}`);
          return fetch(input, init);
        },
      });
      syncs.push(x);
      return x;
    };
    // No `leader` and no `locks`: Node has no navigator.locks.
    expect((globalThis as { navigator?: { locks?: unknown } }).navigator?.locks).toBeUndefined();
    const a = open(0);
    const b = open(1);
    await Promise.all([a.start(), b.start()]);
    const leading = await Promise.all([a, b].map((x) => firstValueFrom(x.status$)));
    expect(leading.filter((st) => st.leader)).toHaveLength(1);
    const leader = leading[0]?.leader ? a : b;
    await firstValueFrom(leader.status$.pipe(filter((st) => st.push === 'connected'), timeout(10_000)));
    // The follower sends: the leader's flusher delivers it.
    const follower = leader === a ? b : a;
    await follower.send({ to: [{ email: 'x@example.com', name: null }], subject: 'one leader', text_body: 'hi' });
    await eventually(async () => (await (s as Simulator).snapshot()).messages.some((m) => m.subject === 'one leader'), 10_000, 'the send');
    // Give a second leader, if there were one, time to send it too.
    await new Promise((r) => setTimeout(r, 300));
    const streams = calls.map((list) => list.filter((c) => c === 'GET /api/v1/mailbox/events').length);
    expect(streams.filter((n) => n > 0)).toHaveLength(1);
    expect((s as Simulator).stats().sseConnectionsOpen).toBe(1);
    expect(calls.flat().filter((c) => c === 'POST /api/v1/mailbox/messages/send')).toHaveLength(1);
    // The follower touched the network only to read the session (naming nothing else).
    const followerCalls = calls[leader === a ? 1 : 0] ?? [];
    expect(followerCalls.filter((c) => !c.endsWith('/mailbox/session'))).toEqual([]);
  });
});
