// Storage faults: IndexedDB refuses a write (QuotaExceededError) or a transaction
// aborts in the middle of a page. The engine must report it as a typed error, keep
// records and tokens consistent (the page commits entirely or not at all), and
// converge once storage works again.
import { IDBFactory, IDBKeyRange, IDBObjectStore } from 'fake-indexeddb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SyncError } from '../../src/index.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { getSyncValue, getTokens } from '../../src/store/apply.js';
import { createSyncEngine, type SyncEngine } from '../../src/engine.js';
import { snapshotDiff } from '../chaos/checks.js';
import { deepText } from '../security/dump.js';

type Fault = { store: string; afterPuts: number; kind: 'quota' | 'abort'; fired: number; times: number };
let fault: Fault | undefined;

// Wrap fake-indexeddb's put/add once for this file: an armed fault fires on the
// n-th write to one object store.
const proto = IDBObjectStore.prototype as unknown as Record<'put' | 'add', (this: IDBObjectStore, ...args: unknown[]) => IDBRequest>;
const original = { put: proto.put, add: proto.add };
for (const method of ['put', 'add'] as const) {
  proto[method] = function (this: IDBObjectStore, ...args: unknown[]): IDBRequest {
    const f = fault;
    if (f && f.fired < f.times && this.name === f.store) {
      if (f.afterPuts > 0) {
        f.afterPuts -= 1;
      } else {
        f.fired += 1;
        if (f.kind === 'quota') throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
        const req = original[method].apply(this, args);
        this.transaction.abort();
        return req;
      }
    }
    return original[method].apply(this, args);
  };
}

let sim: Simulator;
let engine: SyncEngine;
let errors: SyncError[];

function open(factory = new IDBFactory()): SyncEngine {
  const e = createSyncEngine({
    apiKey: sim.apiKey,
    baseUrl: sim.url,
    indexedDB: factory,
    IDBKeyRange,
    dbName: 'storage',
    leader: 'always',
    events: false,
    pageSize: 25,
    poll: { visibleMs: 3_600_000, hiddenMs: 3_600_000, offlineBackoff: { baseMs: 3_600_000, maxMs: 3_600_000 } },
    apiOptions: { retry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 20 }, rateLimit: false },
  });
  errors = [];
  e.sync.errors$.subscribe((x) => errors.push(x));
  return e;
}

beforeEach(async () => {
  fault = undefined;
  sim = await startSimulator({ port: 0, seed: 9, messages: 80, rateLimitPerMinute: 0 });
});

afterEach(async () => {
  fault = undefined;
  await engine?.sync.stop();
  await sim?.close();
});

async function remoteChanges(): Promise<void> {
  const msgs = (await sim.snapshot()).messages.slice(0, 30);
  await sim.control.setFlags(
    msgs.map((m) => m.id),
    { flagged: true, keywords: { storage: true } },
  );
  for (let i = 0; i < 5; i++) await sim.control.deliver({ subject: `new ${i}` });
}

/** A pull hits the fault: typed error, replica and tokens as before, then convergence. */
async function expectPullFaultIsClean(f: Omit<Fault, 'fired'>, causeName: RegExp): Promise<void> {
  engine = open();
  await engine.sync.start();
  await remoteChanges();
  const db = (await engine.context).db;
  const before = await engine.sync.snapshot();
  const tokensBefore = await getTokens(db);
  const seen = errors.length;
  fault = { ...f, fired: 0 };
  const thrown = await engine.sync.syncNow().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(fault.fired).toBeGreaterThan(0);
  expect(thrown).toBeInstanceOf(SyncError);
  const reported = errors.slice(seen);
  expect(reported.length).toBeGreaterThan(0);
  expect(deepText(reported)).toMatch(causeName);
  expect(await engine.sync.snapshot()).toEqual(before);
  expect(await getTokens(db)).toEqual(tokensBefore);
  fault = undefined;
  await engine.sync.syncNow();
  expect(snapshotDiff(await engine.sync.snapshot(), await sim.snapshot())).toBeUndefined();
}

describe('storage faults', () => {
  it('QuotaExceededError while committing a changes page', async () => {
    await expectPullFaultIsClean({ store: 'messages', afterPuts: 3, kind: 'quota', times: 1 }, /QuotaExceededError/);
  });

  it('QuotaExceededError on the token row itself', async () => {
    await expectPullFaultIsClean({ store: 'syncState', afterPuts: 0, kind: 'quota', times: 1 }, /QuotaExceededError/);
  });

  it('a transaction aborted in the middle of a changes page', async () => {
    await expectPullFaultIsClean({ store: 'folderIndex', afterPuts: 10, kind: 'abort', times: 1 }, /AbortError|TransactionInactiveError/);
  });

  it('a transaction aborted mid-page during bootstrap: committed pages stay whole, the saved cursor survives, and a restart resumes and converges', async () => {
    const factory = new IDBFactory();
    // 80 messages in pages of 25 (unchanged records are not rewritten): abort the third page midway.
    fault = { store: 'messages', afterPuts: 55, kind: 'abort', fired: 0, times: 1 };
    engine = open(factory);
    const started = engine.sync.start();
    started.catch(() => undefined);
    for (let i = 0; i < 500 && !(fault.fired === 1 && errors.length > 0); i++) await new Promise((r) => setTimeout(r, 20));
    expect(fault.fired).toBe(1);
    expect(deepText(errors)).toMatch(/AbortError|TransactionInactiveError/);
    await engine.sync.stop();
    fault = undefined;
    // Every committed page is whole: no message without its membership rows.
    const e2 = open(factory);
    engine = e2;
    const db = (await e2.context).db;
    const ids = (await db.messages.toCollection().primaryKeys()) as string[];
    const indexed = new Set(((await db.folderIndex.where('[folder_id+received_key+id]').between(['', -Infinity], ['', Infinity], true, true).toArray()) as { id: string }[]).map((m) => m.id));
    expect(ids.length).toBeGreaterThan(0);
    expect(ids.filter((id) => !indexed.has(id))).toEqual([]);
    // The bootstrap was interrupted, not finished: its progress row is there to resume from.
    const progress = await getSyncValue<{ step: string; done: number }>(db, 'bootstrap');
    expect(progress?.step).toBe('messages');
    expect(progress?.done).toBeLessThan(80);
    expect((await getTokens(db)).messages).toBeUndefined();
    await e2.sync.start();
    expect(snapshotDiff(await e2.sync.snapshot(), await sim.snapshot())).toBeUndefined();
  });
});

describe('storage quota relief', () => {
  it('QuotaExceededError: cached bodies no view pins are evicted, the sync is retried and succeeds', async () => {
    const { createMailboxSync } = await import('../../src/index.js');
    const { ContentDb } = await import('../../src/store/contentDb.js');
    const factory = new IDBFactory();
    const sync = createMailboxSync({
      apiKey: sim.apiKey, baseUrl: sim.url, indexedDB: factory, IDBKeyRange, dbName: 'relief', leader: 'always', events: false,
      content: { prefetch: false },
      poll: { visibleMs: 3_600_000, hiddenMs: 3_600_000 },
    });
    const seen: SyncError[] = [];
    sync.errors$.subscribe((e) => seen.push(e));
    try {
      await sync.start();
      const ids = (await sim.snapshot()).messages.slice(0, 6).map((m) => m.id);
      const { firstValueFrom, filter } = await import('rxjs');
      for (const id of ids.slice(1)) await firstValueFrom(sync.content$(id).pipe(filter((st) => st.status !== 'loading')));
      // The first message stays on screen: its body is pinned by the live subscription.
      const pinned = sync.content$(ids[0]!).subscribe();
      await firstValueFrom(sync.content$(ids[0]!).pipe(filter((st) => st.status === 'ready')));
      const cache = new ContentDb('relief:content', { indexedDB: factory, IDBKeyRange });
      await cache.open();
      expect(await cache.bodies.count()).toBe(6);

      await remoteChanges();
      fault = { store: 'messages', afterPuts: 0, kind: 'quota', fired: 0, times: 1 };
      await sync.syncNow(); // does not throw: relief + retry
      expect(fault.fired).toBe(1);
      expect(seen.some((e) => e.code === 'storage_failed' && /evicted \d+ bytes/.test(e.message))).toBe(true);
      const left = await cache.bodies.toArray();
      expect(left.map((r) => r.message_id)).toEqual([ids[0]]);
      expect(snapshotDiff(await sync.snapshot(), await sim.snapshot())).toBeUndefined();
      pinned.unsubscribe();
      cache.close();
    } finally {
      await sync.stop();
    }
  });
});
