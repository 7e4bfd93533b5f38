// Hostile SSE: events of unknown types, known types with broken payloads, and
// non-JSON data arrive on the stream. None may crash the engine, reject into the
// void, or touch the replica; the stream stays usable and real events still work.
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { Subject, firstValueFrom, filter, timeout } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import type { SyncError } from '../../src/index.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { createSyncEngine, type SyncEngine } from '../../src/engine.js';
import { snapshotDiff } from '../chaos/checks.js';
import type { MailboxStreamEvent } from '../../src/api/index.js';
import { MailboxDb } from '../../src/store/db.js';
import type { SyncContext } from '../../src/sync/context.js';
import { readProvisional } from '../../src/sync/provisional.js';
import { startPush } from '../../src/sync/push.js';
import { eventually, manualTimers } from '../engine/helpers.js';
import { HostileFetch } from './hostileFetch.js';

let sim: Simulator | undefined;
let engine: SyncEngine | undefined;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

afterEach(async () => {
  process.off('unhandledRejection', onUnhandled);
  await engine?.sync.stop();
  await sim?.close();
});

const HOSTILE_STREAM = [
  // A type this client does not know (a newer server).
  'event: mailbox.future_feature\ndata: {"event_type":"mailbox.future_feature","anything":[1,2,3]}\n\n',
  // A known type whose snapshot is broken: the id is a number, fields missing.
  'event: message.received\ndata: {"event_type":"message.received","message":{"id":42,"subject":7}}\n\n',
  // A known type with a snapshot of the wrong shape entirely.
  'event: message.received\ndata: {"event_type":"message.received","message":"msg_surprise"}\n\n',
  // Not JSON at all.
  'event: message.received\ndata: {{{ not json\n\n',
  // The default event name with garbage.
  'data: \u0000\u0001 binary-ish garbage\n\n',
].join('');

describe('hostile event stream', () => {
  it('ignores unknown and malformed events without touching the replica, and keeps working', async () => {
    process.on('unhandledRejection', onUnhandled);
    const s = (sim = await startSimulator({ port: 0, seed: 5, messages: 30, rateLimitPerMinute: 0, pingIntervalMs: 500 }));
    const proxy = new HostileFetch(s.url);
    const e = (engine = createSyncEngine({
      apiKey: s.apiKey,
      baseUrl: s.url,
      fetch: proxy.fetch,
      indexedDB: new IDBFactory(),
      IDBKeyRange,
      dbName: 'events',
      leader: 'always',
      pushRetryMs: 100,
      poll: { visibleMs: 3_600_000, hiddenMs: 3_600_000 },
      apiOptions: { retry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 20 }, rateLimit: false },
    }));
    const errors: SyncError[] = [];
    e.sync.errors$.subscribe((x) => errors.push(x));
    await e.sync.start();
    await firstValueFrom(e.sync.status$.pipe(filter((st) => st.push === 'connected'), timeout(10_000)));
    const before = await e.sync.snapshot();

    // The next connection starts with the hostile events.
    proxy.injectEvents(HOSTILE_STREAM);
    await s.control.cutEventStreams();
    for (let i = 0; i < 250 && s.stats().sseConnectionsOpen === 0; i++) await new Promise((r) => setTimeout(r, 20));
    await firstValueFrom(e.sync.status$.pipe(filter((st) => st.push === 'connected'), timeout(10_000)));
    // Give the handler time to chew through the injected events.
    await new Promise((r) => setTimeout(r, 300));
    expect(proxy.injected).toBe(1);
    const after = await e.sync.snapshot();
    expect(after).toEqual(before);
    expect(after.messages.some((m) => m.id === ('42' as string) || m.id === 'msg_surprise')).toBe(false);
    expect(unhandled).toEqual([]);
    expect(errors.filter((x) => x.code === 'storage_failed' || x.code === 'protocol_error')).toEqual([]);

    // The same stream still delivers real mail.
    const { id } = await s.control.deliver({ subject: 'after the noise' });
    for (let i = 0; i < 250 && !(await e.sync.snapshot()).messages.some((m) => m.id === id); i++) await new Promise((r) => setTimeout(r, 20));
    expect((await e.sync.snapshot()).messages.some((m) => m.id === id)).toBe(true);
    await e.sync.syncNow();
    expect(snapshotDiff(await e.sync.snapshot(), await s.snapshot())).toBeUndefined();
    expect(unhandled).toEqual([]);
  });
});

/** One SSE event of `type` with a realtime payload carrying `message`. */
function sseEvent(id: string, type: string, message?: unknown): string {
  const data = { event_type: type, mailbox_id: 'mbx', occurred_at: '2026-01-01T00:00:00.000Z', ...(message ? { message, message_id: (message as { id: string }).id } : {}) };
  return `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

describe('event stream flood', () => {
  it('a flood of phantom, repeated and sync_required events is reported as push_flood, asks for few pulls, and leaves no phantom after the pull', async () => {
    process.on('unhandledRejection', onUnhandled);
    const s = (sim = await startSimulator({ port: 0, seed: 5, messages: 30, rateLimitPerMinute: 0, pingIntervalMs: 500 }));
    const proxy = new HostileFetch(s.url);
    const calls: string[] = [];
    const counting: typeof fetch = (input, init) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      calls.push(new URL(url).pathname);
      return proxy.fetch(input, init);
    };
    const e = (engine = createSyncEngine({
      apiKey: s.apiKey,
      baseUrl: s.url,
      fetch: counting,
      indexedDB: new IDBFactory(),
      IDBKeyRange,
      dbName: 'flood',
      leader: 'always',
      poll: { visibleMs: 3_600_000, hiddenMs: 3_600_000 },
      apiOptions: { retry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 20 }, rateLimit: false },
    }));
    const errors: SyncError[] = [];
    e.sync.errors$.subscribe((x) => errors.push(x));
    await e.sync.start();
    await firstValueFrom(e.sync.status$.pipe(filter((st) => st.push === 'connected'), timeout(10_000)));

    const real = (await s.snapshot()).messages[0];
    expect(real).toBeDefined();
    const template = { ...real, body: { text: 'x', html: null, is_truncated: false, max_bytes: 16384 }, rfc5322_message_id: '<x@y>' };
    const parts: string[] = [];
    for (let i = 0; i < 3000; i++) parts.push(sseEvent(`f${i}`, 'message.received', { ...template, id: `msg_phantom_${i}` }));
    for (let i = 0; i < 3000; i++) parts.push(sseEvent(`r${i}`, 'message.received', template));
    for (let i = 0; i < 3000; i++) parts.push(sseEvent(`s${i}`, 'sync_required'));
    proxy.injectEvents(parts.join(''));
    const changesBefore = calls.filter((p) => p.endsWith('/mailbox/changes')).length;
    await s.control.cutEventStreams();
    for (let i = 0; i < 500 && !errors.some((x) => x.code === 'push_flood'); i++) await new Promise((r) => setTimeout(r, 20));
    expect(errors.filter((x) => x.code === 'push_flood')).toHaveLength(1);
    // Degraded to polling: the stream stays closed for the cooldown.
    await new Promise((r) => setTimeout(r, 500));
    expect(s.stats().sseConnectionsOpen).toBe(0);
    expect((await firstValueFrom(e.sync.status$)).push).toBe('unavailable');
    // 9 000 events asked for a handful of pulls, not one each.
    const changes = calls.filter((p) => p.endsWith('/mailbox/changes')).length - changesBefore;
    expect(changes).toBeGreaterThanOrEqual(1);
    expect(changes).toBeLessThanOrEqual(4);
    await e.sync.syncNow();
    const ctx = await e.context;
    expect(await readProvisional(ctx)).toEqual([]);
    expect(snapshotDiff(await e.sync.snapshot(), await s.snapshot())).toBeUndefined();
    expect(unhandled).toEqual([]);
    expect(errors.filter((x) => x.code === 'storage_failed' || x.code === 'protocol_error')).toEqual([]);
  });

  it('the intake buffers a bounded number of snapshots, shows a bounded number unconfirmed, and coalesces pulls', async () => {
    const db = new MailboxDb('intake', { indexedDB: new IDBFactory(), IDBKeyRange });
    await db.open();
    const stream = new Subject<MailboxStreamEvent>();
    const timers = manualTimers();
    let now = 1_000;
    const pulls: string[] = [];
    const reported: SyncError[] = [];
    const ctx = {
      db,
      api: { events: () => stream.asObservable() },
      clock: { now: () => now, setTimeout: timers.setTimeout, clearTimeout: timers.clearTimeout, random: () => 0.5 },
      dispatch: () => undefined,
      reportError: (x: SyncError) => reported.push(x),
    } as unknown as SyncContext;
    const push = startPush(ctx, { requestPull: (r) => pulls.push(r), intake: { floodEvents: 1_000_000 } });
    await eventually(() => stream.observed, 2_000, 'the subscription');
    const snapshot = (i: number) => ({
      id: `msg_p${i}`, thread_id: 'thr_1', folder_ids: ['inbox'], subject: 'Hi', preview: 'Hello', from: { email: 'a@example.com', name: null }, to: [], cc: [], bcc: [],
      received_at: '2026-01-01T00:00:00.000Z', sent_at: null, size_bytes: 12, has_attachments: false, keywords: [], flags: { seen: false, flagged: false, draft: false, answered: false },
    });
    let maxShown = 0;
    for (let round = 0; round < 30; round++) {
      // 300 events in one burst: 250 distinct phantoms, 50 copies of one.
      for (let i = 0; i < 300; i++) {
        const n = i < 250 ? round * 250 + i : 0;
        stream.next({ id: `e${round}-${i}`, type: 'message.received', data: { event_type: 'message.received', message: snapshot(n) } });
      }
      await eventually(() => push.stats().buffered === 0, 5_000, 'the batch write');
      await new Promise((r) => setTimeout(r, 5));
      maxShown = Math.max(maxShown, await db.messages.count());
    }
    const stats = push.stats();
    expect(stats.events).toBe(9_000);
    expect(stats.maxBuffered).toBeLessThanOrEqual(100);
    expect(maxShown).toBeLessThanOrEqual(200);
    expect((await readProvisional(ctx)).length).toBeLessThanOrEqual(200);
    expect(stats.dropped).toBeGreaterThan(0);
    // The clock stood still: one pull at once, then one waiting for the interval.
    expect(pulls).toHaveLength(1);
    expect(timers.armed()).toEqual([1_000]);
    now += 1_000;
    timers.fire(1_000);
    expect(pulls).toHaveLength(2);
    expect(reported).toEqual([]);
    push.stop();
    db.close();
  });

  it('a burst beyond floodEvents closes the stream (push_flood) and reopens it after the cooldown', async () => {
    const db = new MailboxDb('flood-unit', { indexedDB: new IDBFactory(), IDBKeyRange });
    await db.open();
    const streams: Subject<MailboxStreamEvent>[] = [];
    const timers = manualTimers();
    const reported: SyncError[] = [];
    const ctx = {
      db,
      api: {
        events: () => {
          const x = new Subject<MailboxStreamEvent>();
          streams.push(x);
          return x.asObservable();
        },
      },
      clock: { now: () => 5_000, setTimeout: timers.setTimeout, clearTimeout: timers.clearTimeout, random: () => 0.5 },
      dispatch: () => undefined,
      reportError: (x: SyncError) => reported.push(x),
    } as unknown as SyncContext;
    const pulls: string[] = [];
    const push = startPush(ctx, { requestPull: (r) => pulls.push(r), intake: { floodEvents: 50, floodCooldownMs: 30_000 } });
    await eventually(() => streams.length === 1, 2_000, 'the subscription');
    for (let i = 0; i < 5_000; i++) streams[0]?.next({ id: `s${i}`, type: 'sync_required', data: { event_type: 'sync_required' } });
    expect(push.stats().floods).toBe(1);
    expect(streams[0]?.observed).toBe(false);
    expect(reported.map((x) => x.code)).toEqual(['push_flood']);
    expect(pulls).toHaveLength(1);
    expect(timers.fire(30_000)).toBe(1);
    await eventually(() => streams.length === 2, 2_000, 'the reopened stream');
    push.stop();
    db.close();
  });
});
