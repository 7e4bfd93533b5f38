// Failures at start-up (issue 17): a wrong key, no network, 500s on the session
// call and stop() during start(), each with and without `dbName` (without it the
// engine must read the session before it can name the database). None may leave an
// unhandled rejection (test/setup/unhandled.ts fails the test if one surfaces), and
// start() rejects only for a refused credential or stop(), as its doc says.
import { afterEach, describe, expect, it } from 'vitest';
import { firstValueFrom, filter, timeout, toArray, takeUntil, timer } from 'rxjs';
import { testStore } from '../helpers/storage.js';
import { sim, waitStatus, type Simulator } from './helpers.js';
import { createMailboxSync, type MailboxSyncOptions } from '../../src/index.js';
import type { SyncError } from '../../src/sync/errors.js';

/** The public entry point, as a user calls it (content, windows and search attached). */
const engine = (server: Simulator, options: Partial<MailboxSyncOptions>) => ({
  sync: createMailboxSync({
    apiKey: server.apiKey,
    baseUrl: server.url,
    ...testStore().options,
    leader: 'always',
    poll: { visibleMs: 60_000, hiddenMs: 60_000, offlineBackoff: { baseMs: 50, maxMs: 200 } },
    apiOptions: { retry: { attempts: 4, baseDelayMs: 10, maxDelayMs: 100 }, rateLimit: false },
    ...options,
  }),
});

let s: Simulator | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

const settled = <T>(p: Promise<T>) =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error: error as SyncError }),
  );

for (const named of [true, false]) {
  const dbName = named ? { dbName: 'replica' } : { dbName: undefined };
  describe(`start-up failures (${named ? 'dbName given' : 'dbName derived from the session'})`, () => {
    it('a wrong key rejects start() with unauthorized and reports it on errors$', async () => {
      s = await sim({ messages: 10 });
      const e = engine(s, { ...dbName, apiKey: 'smx_mbx_wrong_key' });
      const errors = firstValueFrom(e.sync.errors$.pipe(timeout(10_000)));
      const result = await settled(e.sync.start());
      expect(result.ok).toBe(false);
      expect(!result.ok && result.error.code).toBe('unauthorized');
      expect((await errors).code).toBe('unauthorized');
      await e.sync.stop();
    });

    it('a wrong key with start() never called leaves no unhandled rejection', async () => {
      s = await sim({ messages: 10 });
      const e = engine(s, { ...dbName, apiKey: 'smx_mbx_wrong_key' });
      const sub = e.sync.messages$({ limit: 5 }).subscribe({ error: () => undefined });
      await new Promise((r) => setTimeout(r, 300));
      sub.unsubscribe();
      await e.sync.stop();
    });

    it('no network: start() keeps waiting (status offline) instead of rejecting, and stop() ends it', async () => {
      s = await sim({ messages: 10 });
      const e = engine(s, { ...dbName, baseUrl: 'http://127.0.0.1:9/api/v1', apiOptions: { retry: { attempts: 1, baseDelayMs: 5, maxDelayMs: 5 }, rateLimit: false } });
      const start = settled(e.sync.start());
      const offline = await waitStatus(e.sync, (st) => st.phase === 'offline', 10_000);
      expect(offline.phase).toBe('offline');
      // Still retrying: several attempts, not one, and start() has not settled.
      const failures = await firstValueFrom(e.sync.errors$.pipe(takeUntil(timer(600)), toArray()));
      expect(failures.filter((f) => f.code === 'offline').length).toBeGreaterThan(1);
      expect(failures.some((f) => !f.retryable)).toBe(false);
      let done = false;
      void start.then(() => (done = true));
      await new Promise((r) => setTimeout(r, 50));
      expect(done).toBe(false);
      await e.sync.stop();
      const result = await start;
      expect(!result.ok && result.error.code).toBe('stopped');
    });

    it('500s on the session call are retried until the server answers; start() resolves', async () => {
      s = await sim({ messages: 10 });
      await s.control.failNext({ count: 6, status: 500, path: '/mailbox/session' });
      const e = engine(s, { ...dbName, apiOptions: { retry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 5 }, rateLimit: false } });
      const seen = firstValueFrom(e.sync.errors$.pipe(filter((x) => x.code !== 'offline'), timeout(10_000)));
      await e.sync.start();
      expect((await seen).retryable).toBe(true);
      expect((await e.sync.snapshot()).messages).toHaveLength(10);
      await e.sync.stop();
    });

    it('stop() during start() rejects start() with stopped', async () => {
      s = await sim({ messages: 10 });
      await s.control.setLatency(200);
      const e = engine(s, dbName);
      const start = settled(e.sync.start());
      await new Promise((r) => setTimeout(r, 50));
      await e.sync.stop();
      const result = await start;
      expect(result.ok).toBe(false);
      expect(!result.ok && result.error.code).toBe('stopped');
    });
  });
}
