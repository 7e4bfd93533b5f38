import { afterEach, describe, expect, it } from 'vitest';
import { controlledEnvironment, countCalls, engine, eventually, killableFetch, manualTimers, sim, type EngineHandle, type Simulator } from './helpers.js';

let s: Simulator | undefined;
let e: EngineHandle | undefined;
afterEach(async () => {
  await e?.sync.stop();
  await s?.close();
  e = undefined;
  s = undefined;
});

describe('efficiency', () => {
  it('N remote flag changes cost ⌈N/500⌉ changes calls and ⌈N/100⌉ batch-gets', async () => {
    s = await sim({ messages: 1100 });
    const f = killableFetch();
    e = engine(s, { events: false, fetch: f.fetch });
    await e.sync.start();
    const N = 1000;
    const ids = (await s.snapshot()).messages.map((m) => m.id).slice(0, N);
    await s.control.setFlags(ids, { seen: true, keywords: { triaged: true } });
    const before = f.calls.length;
    await e.sync.syncNow();
    const calls = f.calls.slice(before);
    expect(countCalls(calls, 'GET', '/mailbox/changes')).toBe(Math.ceil(N / 500));
    expect(countCalls(calls, 'POST', '/mailbox/messages:batch-get')).toBe(Math.ceil(N / 100));
    // Threads and folders whose counters moved cost at most a re-list each.
    const ctx = await e.context;
    const threadPages = Math.ceil((await ctx.db.threads.count()) / ctx.limits().listLimit) + 1;
    expect(countCalls(calls, 'GET', '/mailbox/threads')).toBeLessThanOrEqual(threadPages);
    expect(calls.filter((c) => /\/mailbox\/threads\/[^/?]+/.test(c)).length).toBe(0);
    expect(calls.length).toBeLessThanOrEqual(Math.ceil(N / 500) + Math.ceil(N / 100) + threadPages + 2);
    const local = await e.sync.snapshot();
    expect(local).toEqual(await s.snapshot());
  });

  it('an idle engine makes exactly one changes call per poll interval and nothing else', async () => {
    s = await sim({ messages: 30 });
    const f = killableFetch();
    const timers = manualTimers();
    const VISIBLE = 12_345;
    // A still clock: the leader republishes its status only when its last sync time moves by a second.
    const t0 = Date.now();
    e = engine(s, { events: false, fetch: f.fetch, now: () => t0, setTimeout: timers.setTimeout, clearTimeout: timers.clearTimeout, poll: { visibleMs: VISIBLE, hiddenMs: 99_999 } });
    await e.sync.start();
    const settle = async () => {
      for (let i = 0; i < 50 && !timers.armed().includes(VISIBLE); i++) await new Promise((r) => setTimeout(r, 5));
    };
    await settle();
    // An idle engine also writes nothing to the replica.
    const ctx = await e.context;
    let writes = 0;
    for (const table of ctx.db.tables) {
      table.hook('creating', () => void writes++);
      table.hook('updating', () => void writes++);
      table.hook('deleting', () => void writes++);
    }
    const before = f.calls.length;
    for (let tick = 0; tick < 5; tick++) {
      expect(timers.fire(VISIBLE)).toBe(1);
      for (let i = 0; i < 100 && f.calls.length < before + tick + 1; i++) await new Promise((r) => setTimeout(r, 5));
      await settle();
    }
    const calls = f.calls.slice(before);
    expect(calls.length).toBe(5);
    expect(countCalls(calls, 'GET', '/mailbox/changes')).toBe(5);
    expect(writes).toBe(0);
  });

  it('polls at the visible interval, slower when hidden, and at once on focus or when visible again', async () => {
    s = await sim({ messages: 20 });
    const f = killableFetch();
    const timers = manualTimers();
    const env = controlledEnvironment();
    const VISIBLE = 11_111;
    const HIDDEN = 77_777;
    e = engine(s, { events: false, fetch: f.fetch, environment: env, setTimeout: timers.setTimeout, clearTimeout: timers.clearTimeout, poll: { visibleMs: VISIBLE, hiddenMs: HIDDEN } });
    await e.sync.start();
    const armed = async (ms: number) => eventually(() => timers.armed().includes(ms), 5000, `a ${ms} ms poll timer`);
    await armed(VISIBLE);
    env.emit('hidden');
    // The hidden interval applies from the next poll on.
    const changes = () => countCalls(f.calls, 'GET', '/mailbox/changes');
    let before = changes();
    expect(timers.fire(VISIBLE)).toBe(1);
    await eventually(() => changes() === before + 1, 5000, 'poll');
    await armed(HIDDEN);
    expect(timers.armed().includes(VISIBLE)).toBe(false);
    // Focus polls at once (no timer fired), then the cadence continues.
    before = changes();
    env.emit('focus');
    await eventually(() => changes() === before + 1, 5000, 'poll on focus');
    before = changes();
    env.emit('visible');
    await eventually(() => changes() === before + 1, 5000, 'poll when visible again');
    await armed(VISIBLE);
  });
});
