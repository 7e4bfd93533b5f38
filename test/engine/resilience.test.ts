import { afterEach, describe, expect, it } from 'vitest';
import type { SyncError } from '../../src/sync/errors.js';
import { controlledEnvironment, countCalls, engine, eventually, firstDiff, killableFetch, sim, waitStatus, type EngineHandle, type Simulator } from './helpers.js';

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

describe('recovery', () => {
  it('sync_required re-lists every type, sweeps what the server dropped, keeps pending local ops, and converges', async () => {
    s = await sim({ messages: 80 });
    const f = killableFetch();
    const e = engine(s, { events: false, fetch: f.fetch, pageSize: 50 });
    engines.push(e);
    const errors: SyncError[] = [];
    e.sync.errors$.subscribe((x) => errors.push(x));
    await e.sync.start();
    const ctx = await e.context;
    const [keep, gone] = (await s.snapshot()).messages;
    // A pending local flag on `keep` (as the outbox writes it) and one on `gone`.
    await ctx.db.transaction('rw', ctx.db.overlayTables, async () => {
      await ctx.db.outbox.add({ kind: 'update', ids: [keep?.id as string, gone?.id as string], op: { kind: 'update', patch: { flagged: !keep?.flags.flagged } }, status: 'pending', attempts: 0, created_at: 0 });
      const { recomputeVisible } = await import('../../src/store/overlay.js');
      await recomputeVisible(ctx.db, [keep?.id as string, gone?.id as string]);
    });
    await s.control.destroy([gone?.id as string]);
    await s.control.deliver({ subject: 'after expiry' });
    await s.control.setFlags([keep?.id as string], { seen: !keep?.flags.seen });
    await s.control.expireChangeLog();
    const listedBefore = countCalls(f.calls, 'GET', '/mailbox/messages');
    await e.sync.syncNow();
    expect(countCalls(f.calls, 'GET', '/mailbox/messages')).toBeGreaterThan(listedBefore);
    expect(errors.some((x) => x.code === 'invalid_state')).toBe(true);
    // The pending op is still applied on top of the re-listed server record.
    const visible = await ctx.db.messages.get(keep?.id as string);
    expect(visible?.flags.flagged).toBe(!keep?.flags.flagged);
    expect(visible?.flags.seen).toBe(!keep?.flags.seen);
    expect(await ctx.db.messages.get(gone?.id as string)).toBeUndefined();
    // Once the op is settled (rolled back here), the replica equals the server.
    await ctx.db.transaction('rw', ctx.db.overlayTables, async () => {
      await ctx.db.outbox.toCollection().modify({ status: 'failed' });
      const { recomputeVisible } = await import('../../src/store/overlay.js');
      await recomputeVisible(ctx.db, [keep?.id as string, gone?.id as string]);
    });
    await expectConverged(e);
  });

  it('a malformed token (400) re-lists only that type', async () => {
    s = await sim({ messages: 40 });
    const f = killableFetch();
    const e = engine(s, { events: false, fetch: f.fetch });
    engines.push(e);
    await e.sync.start();
    const ctx = await e.context;
    await ctx.db.syncState.put({ key: 'state:quotas', value: 'not-a-valid-token!' });
    const before = f.calls.length;
    await e.sync.syncNow();
    const later = f.calls.slice(before);
    expect(countCalls(later, 'GET', '/mailbox/quotas')).toBe(1);
    expect(countCalls(later, 'GET', '/mailbox/messages')).toBe(0);
    await expectConverged(e);
  });

  it('429 and 503 with Retry-After are waited out and end converged', async () => {
    s = await sim({ messages: 40 });
    const e = engine(s, { events: false });
    engines.push(e);
    await e.sync.start();
    await s.control.setFlags([(await s.snapshot()).messages[0]?.id as string], { flagged: true });
    await s.control.failNext({ count: 1, status: 429, path: '/mailbox/changes', retryAfterSeconds: 1 });
    await s.control.failNext({ count: 1, status: 503, path: '/mailbox/messages:batch-get', retryAfterSeconds: 1 });
    await e.sync.syncNow();
    await expectConverged(e);
  });

  it('persistent 503s put the engine in error with backoff, and it recovers by itself', async () => {
    s = await sim({ messages: 40 });
    const e = engine(s, { events: false, apiOptions: { retry: { attempts: 1 }, rateLimit: false } });
    engines.push(e);
    await e.sync.start();
    await s.control.failNext({ count: 3, status: 503, path: '/mailbox/changes' });
    await s.control.deliver({ subject: 'during outage' });
    await expect(e.sync.syncNow()).rejects.toMatchObject({ name: 'SyncError' });
    await waitStatus(e.sync, (st) => st.phase === 'live');
    await expectConverged(e);
  });

  it('offline periods: failures go offline with backoff, `online` pulls at once, and it converges', async () => {
    s = await sim({ messages: 40 });
    let offline = false;
    const f = killableFetch();
    const flaky: typeof fetch = (input, init) => (offline ? Promise.reject(new TypeError('fetch failed')) : f.fetch(input, init));
    const env = controlledEnvironment();
    const e = engine(s, { events: false, fetch: flaky, environment: env, poll: { visibleMs: 3_600_000, hiddenMs: 3_600_000, offlineBackoff: { baseMs: 3_600_000, maxMs: 3_600_000 } }, apiOptions: { retry: { attempts: 1 }, rateLimit: false } });
    engines.push(e);
    await e.sync.start();
    offline = true;
    env.emit('offline');
    await expect(e.sync.syncNow()).rejects.toMatchObject({ code: 'offline' });
    expect((await waitStatus(e.sync, (st) => st.phase === 'offline')).error?.code).toBe('offline');
    await s.control.deliver({ subject: 'while offline' });
    await s.control.setFlags([(await s.snapshot()).messages[3]?.id as string], { seen: true });
    offline = false;
    // The backoff is an hour: only the `online` signal can bring it back this fast.
    env.emit('online');
    await waitStatus(e.sync, (st) => st.phase === 'live');
    await expectConverged(e);
  });

  it('the platform going offline shows offline at once, before any request fails', async () => {
    s = await sim({ messages: 20 });
    const env = controlledEnvironment();
    let requests = 0;
    const counting: typeof fetch = (input, init) => {
      requests += 1;
      return fetch(input, init);
    };
    const e = engine(s, { events: false, fetch: counting, environment: env, poll: { visibleMs: 3_600_000, hiddenMs: 3_600_000 } });
    engines.push(e);
    await e.sync.start();
    const before = requests;
    env.emit('offline');
    expect((await waitStatus(e.sync, (st) => st.phase === 'offline', 2_000)).error?.code).toBe('offline');
    expect(requests).toBe(before);
    env.emit('online');
    await waitStatus(e.sync, (st) => st.phase === 'live');
  });

  it('a dropped SSE stream reconnects with Last-Event-ID and nothing is missed', async () => {
    s = await sim({ messages: 30, pingIntervalMs: 1000 });
    const e = engine(s);
    engines.push(e);
    await e.sync.start();
    await waitStatus(e.sync, (st) => st.push === 'connected');
    await s.control.cutEventStreams();
    const { id } = await s.control.deliver({ subject: 'during the cut' });
    await eventually(async () => (await e.sync.snapshot()).messages.some((m) => m.id === id), 15_000, 'message after reconnect');
    await e.sync.syncNow();
    await expectConverged(e);
  });

  it('falls back to polling when events are gated', async () => {
    s = await sim({ messages: 30, eventsEnabled: false });
    const env = controlledEnvironment();
    const e = engine(s, { environment: env });
    engines.push(e);
    await e.sync.start();
    await waitStatus(e.sync, (st) => st.push === 'unavailable');
    await s.control.deliver({ subject: 'polled in' });
    env.emit('focus');
    await eventually(async () => (await e.sync.snapshot()).messages.some((m) => m.subject === 'polled in'), 10_000, 'polled message');
    await expectConverged(e);
  });

  it('responses lost on the wire (changes and batch-get) are retried and end converged', async () => {
    s = await sim({ messages: 40 });
    const e = engine(s, { events: false });
    engines.push(e);
    await e.sync.start();
    const ids = (await s.snapshot()).messages.slice(0, 10).map((m) => m.id);
    await s.control.setFlags(ids, { seen: false, flagged: true });
    await s.control.dropNextResponses({ count: 1, path: '/mailbox/changes' });
    await s.control.dropNextResponses({ count: 1, path: '/mailbox/messages:batch-get' });
    await e.sync.syncNow();
    await expectConverged(e);
  });

  it('a rejected API key rejects start() with unauthorized and puts the engine in error', async () => {
    s = await sim({ messages: 10 });
    const e = engine(s, { apiKey: 'smx_mbx_wrong', events: false });
    engines.push(e);
    await expect(e.sync.start()).rejects.toMatchObject({ code: 'unauthorized', retryable: false });
    expect((await waitStatus(e.sync, (st) => st.phase === 'error')).error?.code).toBe('unauthorized');
    // The credential is never persisted.
    const ctx = await e.context;
    expect(JSON.stringify(await ctx.db.syncState.toArray())).not.toContain('smx_mbx_wrong');
  });
});
