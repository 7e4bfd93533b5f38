// Security: the API key never leaves memory (IndexedDB, localStorage, console,
// errors), clear() leaves no database behind, two mailboxes stay apart, and the
// simulator's control surface is off unless enabled.
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMailboxSync, type SyncError } from '../../src/index.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { snapshotDiff } from '../chaos/checks.js';
import { HostileFetch } from '../hostile/hostileFetch.js';
import { deepText, dumpIndexedDb, installFakeStorage } from './dump.js';

const KEY = 'smx_mbx_S3cretChaosKey0123456789abcdef';
const OTHER_KEY = 'smx_mbx_AnotherMailboxKeyZYXW98765';
const WRONG_KEY = 'smx_mbx_WrongKeyNeverValid55555';

const sims: Simulator[] = [];
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  for (const s of sims.splice(0)) await s.close();
  vi.restoreAllMocks();
});

async function sim(options: Parameters<typeof startSimulator>[0] = {}): Promise<Simulator> {
  const s = await startSimulator({ port: 0, messages: 40, rateLimitPerMinute: 0, apiKey: KEY, ...options });
  sims.push(s);
  return s;
}

const FAST = {
  poll: { visibleMs: 3_600_000, hiddenMs: 3_600_000, offlineBackoff: { baseMs: 3_600_000, maxMs: 3_600_000 } },
  apiOptions: { retry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 20 }, rateLimit: false as const },
  leader: 'always' as const,
};

describe('the API key never leaks', () => {
  it('is absent from IndexedDB, localStorage, console output and every error, even when the server echoes it back', async () => {
    const storage = installFakeStorage();
    cleanups.push(storage.restore);
    const printed: unknown[] = [];
    for (const level of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void printed.push(args));
    }
    const s = await sim({ pingIntervalMs: 500 });
    const proxy = new HostileFetch(s.url);
    const factory = new IDBFactory();
    const sync = createMailboxSync({ apiKey: KEY, baseUrl: s.url, fetch: proxy.fetch, indexedDB: factory, IDBKeyRange, ...FAST });
    cleanups.push(() => sync.stop());
    const errors: SyncError[] = [];
    sync.errors$.subscribe((e) => errors.push(e));
    const thrown: unknown[] = [];
    await sync.start();
    // A hostile server that quotes the credential back in every kind of failure.
    const echoes = [
      { status: 500, text: JSON.stringify({ ok: false, error: { code: 'internal_error', message: `upstream refused Bearer ${KEY}`, retryable: false, errors: [{ field: 'authorization', code: 'bad', message: `token ${KEY}` }] }, meta: { request_id: `req_${KEY}` } }) },
      { status: 502, text: `<html>Authorization: Bearer ${KEY}</html>` },
      { status: 200, text: `{"ok":true,"data":{"types":{"messages":"${KEY}"` },
      { status: 400, text: JSON.stringify({ ok: false, error: { code: 'invalid_parameter', message: `bad ${KEY}`, param: KEY, retryable: false }, meta: { request_id: 'r' } }) },
    ];
    for (const echo of echoes) {
      await s.control.setFlags([(await s.snapshot()).messages[0]?.id as string], { flagged: true });
      proxy.corruptNext('GET', '/mailbox/changes', () => echo, 3);
      await sync.syncNow().catch((e: unknown) => thrown.push(e));
      proxy.heal();
    }
    await s.control.deliver({ subject: 'after the echoes' });
    await sync.syncNow();
    // Each echo reached errors$ (the 400 as invalid_state, then a re-list); the
    // non-retryable failures also rejected syncNow().
    expect(errors.length).toBeGreaterThanOrEqual(echoes.length);
    expect(thrown.length).toBeGreaterThanOrEqual(2);

    // A rejected key: start() rejects, and the wrong key is not quoted either.
    const wrong = createMailboxSync({ apiKey: WRONG_KEY, baseUrl: s.url, indexedDB: factory, IDBKeyRange, dbName: 'wrong', ...FAST });
    cleanups.push(() => wrong.stop());
    const wrongErrors: SyncError[] = [];
    wrong.errors$.subscribe((e) => wrongErrors.push(e));
    const rejected = await wrong.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(rejected).toMatchObject({ code: 'unauthorized' });

    const dump = await dumpIndexedDb(factory);
    expect(dump.rows).toBeGreaterThan(40);
    const evidence = {
      indexedDB: dump.text,
      localStorage: storage.text(),
      console: deepText(printed),
      errors: deepText(errors),
      thrown: deepText(thrown),
      wrongKeyErrors: deepText([rejected, ...wrongErrors]),
    };
    for (const [where, text] of Object.entries(evidence)) {
      expect(text.includes(KEY), `API key found in ${where}`).toBe(false);
      expect(text.includes(WRONG_KEY), `rejected API key found in ${where}`).toBe(false);
    }
    // The evidence is real: the echoed errors did reach errors$ (redacted).
    expect(evidence.errors).toContain('[redacted]');
  });
});

describe('clear()', () => {
  it('deletes the replica database: indexedDB.databases() no longer lists it', async () => {
    const s = await sim();
    const factory = new IDBFactory();
    const sync = createMailboxSync({ apiKey: KEY, baseUrl: s.url, indexedDB: factory, IDBKeyRange, events: false, ...FAST });
    await sync.start();
    const names = (await factory.databases()).map((d) => d.name);
    expect(names.some((n) => n?.includes(s.mailboxId))).toBe(true);
    await sync.clear();
    expect(await factory.databases()).toEqual([]);
  });
});

describe('two mailboxes', () => {
  it('never see each other’s records, even on one IndexedDB factory', async () => {
    const a = await sim({ seed: 21 });
    const b = await sim({ seed: 22, apiKey: OTHER_KEY });
    expect(a.mailboxId).not.toBe(b.mailboxId);
    const factory = new IDBFactory();
    const syncA = createMailboxSync({ apiKey: KEY, baseUrl: a.url, indexedDB: factory, IDBKeyRange, events: false, ...FAST });
    const syncB = createMailboxSync({ apiKey: OTHER_KEY, baseUrl: b.url, indexedDB: factory, IDBKeyRange, events: false, ...FAST });
    cleanups.push(() => syncA.stop(), () => syncB.stop());
    await Promise.all([syncA.start(), syncB.start()]);
    await a.control.deliver({ subject: 'only for A' });
    const { id: onlyB } = await b.control.deliver({ subject: 'only for B' });
    await Promise.all([syncA.syncNow(), syncB.syncNow()]);
    const [localA, localB] = await Promise.all([syncA.snapshot(), syncB.snapshot()]);
    expect(snapshotDiff(localA, await a.snapshot())).toBeUndefined();
    expect(snapshotDiff(localB, await b.snapshot())).toBeUndefined();
    const idsA = new Set([...localA.messages, ...localA.threads, ...localA.folders].map((r) => r.id));
    expect([...localB.messages, ...localB.threads].filter((r) => idsA.has(r.id))).toEqual([]);
    expect(localA.messages.some((m) => m.subject === 'only for B')).toBe(false);
    // Views of A cannot reach B's records either.
    const seen = await new Promise((resolve) => {
      const sub = syncA.message$(onlyB).subscribe((m) => {
        resolve(m);
        queueMicrotask(() => sub.unsubscribe());
      });
    });
    expect(seen).toBeUndefined();
    // Every database (replica, content cache) belongs to exactly one of the mailboxes.
    const names = (await factory.databases()).map((d) => d.name ?? '');
    expect(names.filter((n) => n.includes(a.mailboxId)).length).toBeGreaterThan(0);
    expect(names.filter((n) => n.includes(b.mailboxId)).length).toBeGreaterThan(0);
    for (const n of names) expect(Number(n.includes(a.mailboxId)) + Number(n.includes(b.mailboxId)), n).toBe(1);
  });
});

describe('simulator control surface', () => {
  async function call(s: Simulator, method: string, path: string, body?: unknown) {
    const origin = new URL(s.url).origin;
    const res = await fetch(origin + path, {
      method,
      headers: { Authorization: `Bearer ${s.apiKey}`, 'Content-Type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    await res.arrayBuffer();
    return res.status;
  }

  it('answers 404 to every /__sim/ call unless enabled, and changes nothing', async () => {
    const s = await sim();
    const before = await s.snapshot();
    expect(await call(s, 'POST', '/__sim/deliver', { subject: 'sneaky' })).toBe(404);
    expect(await call(s, 'POST', '/__sim/expireChangeLog', {})).toBe(404);
    expect(await call(s, 'POST', '/__sim/failNext', { count: 5, status: 500 })).toBe(404);
    expect(await call(s, 'GET', '/__sim/snapshot')).toBe(404);
    expect(await call(s, 'GET', '/__sim/stats')).toBe(404);
    expect(await s.snapshot()).toEqual(before);
  });

  it('serves them with control: true', async () => {
    const s = await sim({ control: true });
    expect(await call(s, 'POST', '/__sim/deliver', { subject: 'allowed' })).toBe(200);
    expect(await call(s, 'GET', '/__sim/snapshot')).toBe(200);
    expect((await s.snapshot()).messages.some((m) => m.subject === 'allowed')).toBe(true);
  });
});
