// Regression tests for bugs the chaos runner found, each named after the seed that
// found it (replay with `npm run chaos -- --seed N --steps S`).
import { testStore } from '../helpers/storage.js';
import { firstValueFrom, filter, timeout } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { createMailboxApi } from '../../src/api/index.js';
import type { SyncError } from '../../src/index.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { getTokens } from '../../src/store/apply.js';
import { createSyncEngine, type SyncEngine } from '../../src/engine.js';
import { snapshotDiff, tokenProblems } from './checks.js';
import { InProcessLocks } from './locks.js';
import { describeFailure, runSchedule } from './runner.js';

let sim: Simulator | undefined;
let engine: SyncEngine | undefined;
afterEach(async () => {
  await engine?.sync.stop();
  await sim?.close();
  engine = undefined;
  sim = undefined;
});

function start(s: Simulator): SyncEngine {
  return createSyncEngine({
    apiKey: s.apiKey,
    baseUrl: s.url,
    ...testStore().options,
    dbName: 'regression',
    leader: 'always',
    events: false,
    poll: { visibleMs: 3_600_000, hiddenMs: 3_600_000 },
    apiOptions: { retry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 20 }, rateLimit: false },
  });
}

describe('chaos regressions', () => {
  it('seed 3: after expireChangeLog, a type that did not change since kept answering sync_required for its current token', async () => {
    // The seed: remote changes to messages/identities, then expireChangeLog; the
    // replica converged, but the stored submissions token (captured from the session
    // by the re-list) still answered sync_required, so every later pull re-listed
    // submissions again, forever.
    sim = await startSimulator({ port: 0, seed: 3, messages: 40, rateLimitPerMinute: 0 });
    engine = start(sim);
    const errors: SyncError[] = [];
    engine.sync.errors$.subscribe((e) => errors.push(e));
    await engine.sync.start();
    const [first] = (await sim.snapshot()).messages;
    await sim.control.setFlags([first?.id as string], { seen: !first?.flags.seen });
    await sim.control.updateIdentity({ text_signature: 'after' });
    await sim.control.expireChangeLog();
    await engine.sync.syncNow();
    expect(errors.filter((e) => e.code === 'invalid_state').length).toBeGreaterThan(0);
    expect(snapshotDiff(await engine.sync.snapshot(), await sim.snapshot())).toBeUndefined();
    // Once re-listed, the captured tokens are current: a second pull has nothing to do.
    const before = errors.length;
    await engine.sync.syncNow();
    expect(errors.slice(before).map((e) => `${e.code}: ${e.message}`)).toEqual([]);
    const api = createMailboxApi({ apiKey: sim.apiKey, baseUrl: sim.url, rateLimit: false, retry: { attempts: 1 } });
    expect(await tokenProblems(api, await getTokens((await engine.context).db))).toBeUndefined();
  });

  it('seed 3 (150 steps): a tab stopped while its database was still opening took the leader lock anyway and held it forever', async () => {
    // Step 1 of the schedule crashed tab A right after creating it. stop() ran
    // before start() had elected a leader; start() then went on, acquired the Web
    // Lock and never released it, so the other tab (and every reopened one) waited
    // forever and nobody synced again.
    {
      const locks = new InProcessLocks();
      sim = await startSimulator({ port: 0, seed: 3, messages: 20, rateLimitPerMinute: 0 });
      const store = testStore();
      const open = () =>
        createSyncEngine({
          apiKey: (sim as Simulator).apiKey,
          baseUrl: (sim as Simulator).url,
          ...store.options,
          dbName: 'tabs',
          leader: 'auto',
          locks,
          events: false,
          poll: { visibleMs: 3_600_000, hiddenMs: 3_600_000 },
          apiOptions: { retry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 20 }, rateLimit: false },
        });
      const crashed = open();
      const starting = crashed.sync.start();
      await crashed.sync.stop();
      await expect(starting).rejects.toMatchObject({ code: 'stopped' });
      engine = open();
      // With the lock free, the new tab leads and syncs on its own.
      await engine.sync.start();
      expect(snapshotDiff(await engine.sync.snapshot(), await sim.snapshot())).toBeUndefined();
    }
  }, 15_000);

  it('seed 19 (150 steps): a message.received event replayed after its message was destroyed resurrected it for good', async () => {
    // The schedule delivered a message, destroyed it, and cut the event stream; a
    // pull consumed both changes (created+destroyed collapse to nothing), then the
    // stream came back with Last-Event-ID and replayed the delivery. The engine
    // showed the event's snapshot and no later pull ever mentioned the id again.
    sim = await startSimulator({ port: 0, seed: 19, messages: 20, rateLimitPerMinute: 0, pingIntervalMs: 500 });
    const s = sim;
    engine = createSyncEngine({
      apiKey: s.apiKey,
      baseUrl: s.url,
      ...testStore().options,
      dbName: 'regression-sse',
      leader: 'always',
      pushRetryMs: 100,
      poll: { visibleMs: 3_600_000, hiddenMs: 3_600_000 },
      apiOptions: { retry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 20 }, rateLimit: false },
    });
    const e = engine;
    const connected = () => firstValueFrom(e.sync.status$.pipe(filter((st) => st.push === 'connected'), timeout(10_000)));
    await e.sync.start();
    await connected();
    await s.control.deliver({ subject: 'first' });
    await new Promise((r) => setTimeout(r, 300));
    // The stream goes down and cannot come back for a while.
    await s.control.failNext({ count: 1000, status: 503, path: '/mailbox/events' });
    await s.control.cutEventStreams();
    const { id } = await s.control.deliver({ subject: 'short-lived' });
    await s.control.destroy([id]);
    await e.sync.syncNow();
    expect(snapshotDiff(await e.sync.snapshot(), await s.snapshot())).toBeUndefined();
    // Back with Last-Event-ID: the delivery is replayed.
    await s.control.failNext({ count: 0, status: 503 });
    await connected();
    await new Promise((r) => setTimeout(r, 500));
    await e.sync.syncNow();
    expect((await e.sync.snapshot()).messages.some((m) => m.id === id)).toBe(false);
    expect(snapshotDiff(await e.sync.snapshot(), await s.snapshot())).toBeUndefined();
  }, 30_000);

  it('seed 1005 (300 steps): re-listing with many queued mutations committed its transaction too early on every retry; the outbox never drained', async () => {
    // The schedule expired the change log while ~40 mutations were queued. Each page
    // of the messages re-list recomputed pending messages; the thread refresh awaited
    // a helper that did no IndexedDB work for threads the replica did not hold
    // (src/store/overlay.ts refreshThreads → lastMessageIsPending(null)). Those bare
    // native awaits inside the transaction used up Dexie's zone echoes, the zone was
    // lost and IndexedDB committed under the callback: PrematureCommitError on every
    // retry (120 in a row), the engine stuck in error. Replayed as the full schedule.
    const result = await runSchedule({ seed: 1005, steps: 300, quiescenceMs: 30_000 });
    if (result.failure) throw new Error(describeFailure(result));
    expect(result.errors.changes_failed ?? 0).toBeLessThan(20);
  }, 120_000);
});
