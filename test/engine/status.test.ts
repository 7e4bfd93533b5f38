import { describe, expect, it } from 'vitest';
import { SyncError } from '../../src/sync/errors.js';
import { electLeader } from '../../src/sync/leader.js';
import { nextPollDelay } from '../../src/sync/poll.js';
import { initialStatus, leaderStatusOf, reduceStatus, type SyncAction, type SyncStatus } from '../../src/sync/status.js';
import { fakeLocks } from './helpers.js';

const run = (actions: SyncAction[], from: SyncStatus = initialStatus) => actions.reduce(reduceStatus, from);

describe('reduceStatus', () => {
  it('walks idle → bootstrapping → catching_up → live with progress and last sync time', () => {
    const a = run([{ type: 'bootstrap_started', at: 1 }]);
    expect(a.phase).toBe('bootstrapping');
    expect(a.progress).toEqual({ done: 0, total: null });
    const b = reduceStatus(a, { type: 'bootstrap_progress', at: 2, done: 100, total: 500 });
    expect(b.progress).toEqual({ done: 100, total: 500 });
    const c = reduceStatus(b, { type: 'catchup_started', at: 3 });
    expect(c.phase).toBe('catching_up');
    expect(c.progress).toBeNull();
    const d = reduceStatus(c, { type: 'synced', at: 10 });
    expect(d).toMatchObject({ phase: 'live', lastSyncedAt: 10, lag: 0, error: null });
  });

  it('stays live during routine polls and reports lag since the last sync', () => {
    const live = run([{ type: 'synced', at: 100 }]);
    const polling = reduceStatus(live, { type: 'catchup_started', at: 160 });
    expect(polling.phase).toBe('live');
    expect(polling.lag).toBe(60);
  });

  it('goes offline on network failure and back to live on the next sync; error keeps the cause', () => {
    const err = new SyncError('offline', 'down');
    const off = run([{ type: 'synced', at: 1 }, { type: 'offline', at: 5, error: err }]);
    expect(off).toMatchObject({ phase: 'offline', error: err, lastSyncedAt: 1, lag: 4 });
    expect(reduceStatus(off, { type: 'synced', at: 9 })).toMatchObject({ phase: 'live', error: null });
    const bad = new SyncError('unauthorized', 'no', { retryable: false });
    expect(reduceStatus(off, { type: 'failed', at: 10, error: bad })).toMatchObject({ phase: 'error', error: bad });
  });

  it('a 401 pauses with the reason until the next sync: paused → resumed → synced', () => {
    const bad = new SyncError('unauthorized', 'the API key was rejected', { retryable: false });
    const paused = run([{ type: 'synced', at: 1 }, { type: 'paused', at: 5, reason: 'unauthorized', error: bad }]);
    expect(paused).toMatchObject({ phase: 'error', paused: 'unauthorized', error: bad, lastSyncedAt: 1 });
    const resumed = reduceStatus(paused, { type: 'resumed', at: 6 });
    expect(resumed).toMatchObject({ phase: 'error', paused: null });
    expect(reduceStatus(resumed, { type: 'resumed', at: 7 })).toBe(resumed);
    expect(reduceStatus(paused, { type: 'synced', at: 9 })).toMatchObject({ phase: 'live', paused: null, error: null });
  });

  it('tracks leader, push state and pending mutations without changing the phase', () => {
    const s = run([{ type: 'synced', at: 1 }, { type: 'leader', at: 2, leader: true }, { type: 'push', at: 3, state: 'connected' }, { type: 'pending', at: 4, count: 7 }]);
    expect(s).toMatchObject({ phase: 'live', leader: true, push: 'connected', pendingMutations: 7 });
    expect(reduceStatus(s, { type: 'stopped', at: 5 })).toMatchObject({ phase: 'idle', leader: false, push: 'off', pendingMutations: 7 });
  });

  it('a follower mirrors the status its leader publishes', () => {
    const leader = run([{ type: 'synced', at: 10 }, { type: 'push', at: 11, state: 'connected' }, { type: 'offline', at: 20, error: new SyncError('offline', 'down') }]);
    const published = leaderStatusOf(leader);
    expect(JSON.parse(JSON.stringify(published))).toEqual(published);
    const follower = reduceStatus({ ...initialStatus, pendingMutations: 2 }, { type: 'mirror', at: 25, leaderStatus: published });
    expect(follower).toMatchObject({ phase: 'offline', lastSyncedAt: 10, lag: 15, push: 'connected', leader: false, pendingMutations: 2 });
    expect(follower.error).toMatchObject({ name: 'SyncError', code: 'offline', message: 'down' });
  });

  it('is pure: inputs are not mutated', () => {
    const before = structuredClone(initialStatus);
    reduceStatus(initialStatus, { type: 'bootstrap_started', at: 1 });
    expect(initialStatus).toEqual(before);
  });
});

describe('nextPollDelay', () => {
  it('polls faster when visible than hidden', () => {
    const o = { visibleMs: 1000, hiddenMs: 9000 };
    expect(nextPollDelay({ visible: true, failures: 0 }, o, () => 0.5)).toBe(1000);
    expect(nextPollDelay({ visible: false, failures: 0 }, o, () => 0.5)).toBe(9000);
  });

  it('backs off exponentially with jitter after failures, capped', () => {
    const o = { offlineBackoff: { baseMs: 100, maxMs: 1000 } };
    const at = (failures: number, r: number) => nextPollDelay({ visible: true, failures }, o, () => r);
    expect([at(1, 0), at(1, 1)]).toEqual([50, 100]);
    expect([at(3, 0), at(3, 1)]).toEqual([200, 400]);
    expect(at(20, 1)).toBe(1000);
    expect(at(20, 0)).toBe(500);
  });
});

describe('electLeader', () => {
  it('with Web Locks, a second claimant leads only after the first releases', async () => {
    const locks = fakeLocks();
    const a = electLeader('db', 'auto', locks);
    const b = electLeader('db', 'auto', locks);
    await a.acquired;
    expect(a.isLeader()).toBe(true);
    let bLeads = false;
    void b.acquired.then(() => (bLeads = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(bLeads).toBe(false);
    a.release();
    await b.acquired;
    expect(b.isLeader()).toBe(true);
    expect(a.isLeader()).toBe(false);
    b.release();
  });

  it('leads without Web Locks, and never as a follower', async () => {
    const solo = electLeader('db', 'auto', undefined);
    await solo.acquired;
    expect(solo.isLeader()).toBe(true);
    expect(electLeader('db', 'follower').isLeader()).toBe(false);
  });
});
