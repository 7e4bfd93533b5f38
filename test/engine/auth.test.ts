// A rejected key (401) pauses the network until syncNow() (docs/errors.md: 401
// authentication_required is not retryable): nothing is retried in the background,
// status$ says why, the outbox and sends keep their entries, and syncNow() once the
// key works again resolves and resumes everything. Request counts, never durations.
import { testStore } from '../helpers/storage.js';
import { filter, firstValueFrom, timeout } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { createMailboxSync, type MailboxSync } from '../../src/index.js';
import { engine, eventually, sim, waitStatus, type EngineHandle, type Simulator } from './helpers.js';

let s: Simulator | undefined;
const engines: EngineHandle[] = [];
const syncs: MailboxSync[] = [];
afterEach(async () => {
  for (const e of engines.splice(0)) await e.sync.stop();
  for (const x of syncs.splice(0)) await x.stop();
  await s?.close();
  s = undefined;
});

/** A fetch that records `METHOD path` of every request. */
function countingFetch() {
  const calls: string[] = [];
  const wrapped: typeof fetch = (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    calls.push(`${(init?.method ?? 'GET').toUpperCase()} ${new URL(url).pathname}`);
    return fetch(input, init);
  };
  return { fetch: wrapped, calls };
}

const quiet = () => new Promise((r) => setTimeout(r, 400));

/** A package-entry engine (outbox and sends attached) against `sim`. */
function mailbox(sim: Simulator, fetchImpl: typeof fetch): MailboxSync {
  const x = createMailboxSync({
    apiKey: sim.apiKey,
    baseUrl: sim.url,
    fetch: fetchImpl,
    ...testStore().options,
    dbName: 'auth',
    leader: 'always',
    events: false,
    poll: { visibleMs: 3_600_000, hiddenMs: 3_600_000, offlineBackoff: { baseMs: 20, maxMs: 40 } },
    outbox: { backoff: { baseDelayMs: 20, maxDelayMs: 40 } },
    apiOptions: { retry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 20 }, rateLimit: false },
  });
  syncs.push(x);
  return x;
}

describe('a rejected key pauses the network until syncNow()', () => {
  it('after a 401 during the bootstrap nothing retries in the background, and syncNow() resolves once the key works (no stale error)', async () => {
    s = await sim({ messages: 30 });
    const net = countingFetch();
    await s.control.failNext({ count: 1, status: 401, path: '/mailbox/messages' });
    const e = engine(s, { fetch: net.fetch, events: false, poll: { visibleMs: 3_600_000, hiddenMs: 3_600_000, offlineBackoff: { baseMs: 20, maxMs: 40 } } });
    engines.push(e);
    await expect(e.sync.start()).rejects.toMatchObject({ code: 'unauthorized', retryable: false });
    const st = await firstValueFrom(e.sync.status$);
    expect(st).toMatchObject({ phase: 'error', paused: 'unauthorized' });
    expect(st.error?.code).toBe('unauthorized');
    const afterPause = net.calls.length;
    await quiet();
    expect(net.calls.slice(afterPause)).toEqual([]);

    // The key works again: syncNow() tries, resolves, and the engine is live.
    await e.sync.syncNow();
    expect(await firstValueFrom(e.sync.status$)).toMatchObject({ phase: 'live', paused: null, error: null });
    await expect(e.sync.start()).resolves.toBeUndefined();
    expect((await e.sync.snapshot()).messages.length).toBe((await s.snapshot()).messages.length);
  });

  it('a 401 on an outbox flush keeps the mutation queued (not rolled back, not retried) until syncNow(), which sends it', async () => {
    s = await sim({ messages: 20 });
    const net = countingFetch();
    const x = mailbox(s, net.fetch);
    await x.start();
    const target = (await s.snapshot()).messages.find((m) => !m.flags.flagged);
    expect(target).toBeDefined();
    const id = target?.id as string;
    await s.control.failNext({ count: 1, status: 401, path: '/mailbox/messages:batch-update' });
    const errors: string[] = [];
    x.errors$.subscribe((err) => errors.push(err.code));
    const outcome = x.update([id], { flagged: true });
    let settled = false;
    void outcome.then(() => (settled = true));
    await waitStatus(x, (st) => st.paused === 'unauthorized', 10_000);
    const afterPause = net.calls.length;
    await quiet();
    expect(net.calls.slice(afterPause)).toEqual([]);
    expect(settled).toBe(false);
    expect((await firstValueFrom(x.status$)).pendingMutations).toBe(1);
    expect((await firstValueFrom(x.message$(id).pipe(filter((m) => m !== undefined))))?.flags.flagged).toBe(true);
    expect(errors.filter((c) => c === 'unauthorized')).toHaveLength(1);
    expect(net.calls.filter((c) => c.endsWith('/mailbox/messages:batch-update'))).toHaveLength(1);

    await x.syncNow();
    expect(await outcome).toEqual([expect.objectContaining({ id, status: 'applied' })]);
    expect((await s.snapshot()).messages.find((m) => m.id === id)?.flags.flagged).toBe(true);
    expect(net.calls.filter((c) => c.endsWith('/mailbox/messages:batch-update'))).toHaveLength(2);
  });

  it('a 401 on a send keeps it queued (not failed, not retried) until syncNow(), then it is delivered once', async () => {
    s = await sim({ messages: 10 });
    const net = countingFetch();
    const x = mailbox(s, net.fetch);
    await x.start();
    await s.control.failNext({ count: 1, status: 401, path: '/mailbox/messages/send' });
    const sent = firstValueFrom(x.sendOutcomes$.pipe(filter((o) => o.status !== 'linked'), timeout(15_000)));
    await x.send({ to: [{ email: 'a@example.com', name: null }], subject: 'paused send', text_body: 'hi' });
    await waitStatus(x, (st) => st.paused === 'unauthorized', 10_000);
    const afterPause = net.calls.length;
    await quiet();
    expect(net.calls.slice(afterPause)).toEqual([]);
    const queued = await firstValueFrom(x.outbox$);
    expect(queued.map((q) => [q.status, q.attempts])).toEqual([['pending', 0]]);

    await x.syncNow();
    expect((await sent).status).toBe('sent');
    await eventually(async () => (await s!.snapshot()).messages.some((m) => m.subject === 'paused send'), 10_000, 'the delivery');
    expect(net.calls.filter((c) => c === 'POST /api/v1/mailbox/messages/send')).toHaveLength(2);
    expect((await s.snapshot()).messages.filter((m) => m.subject === 'paused send')).toHaveLength(1);
  });
});
