// Hostile SSE: events of unknown types, known types with broken payloads, and
// non-JSON data arrive on the stream. None may crash the engine, reject into the
// void, or touch the replica; the stream stays usable and real events still work.
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { firstValueFrom, filter, timeout } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import type { SyncError } from '../../src/index.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { createSyncEngine, type SyncEngine } from '../../src/sync/engine.js';
import { snapshotDiff } from '../chaos/checks.js';
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
