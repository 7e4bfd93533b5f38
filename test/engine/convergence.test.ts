import { Subject } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { createMailboxApi, type MailboxApi, type MailboxStreamEvent } from '../../src/api/index.js';
import { engine, eventually, waitStatus, firstDiff, randomRemoteChanges, rng, sim, type EngineHandle, type Simulator } from './helpers.js';

let s: Simulator | undefined;
let e: EngineHandle | undefined;
afterEach(async () => {
  await e?.sync.stop();
  await s?.close();
  e = undefined;
  s = undefined;
});

async function converged(): Promise<void> {
  const [local, remote] = await Promise.all([e?.sync.snapshot(), s?.snapshot()]);
  const diff = firstDiff(local as never, remote as never);
  expect(diff).toBeUndefined();
  expect(local).toEqual(remote);
}

describe('convergence', () => {
  for (const seed of [11, 12, 13]) {
    it(`converges after random remote changes of every kind (seed ${seed})`, async () => {
      s = await sim({ messages: 100, seed });
      e = engine(s, { pageSize: 30 });
      await e.sync.start();
      const r = rng(seed);
      for (let round = 0; round < 4; round++) {
        const log = await randomRemoteChanges(s, r, 12);
        await e.sync.syncNow();
        const [local, remote] = await Promise.all([e.sync.snapshot(), s.snapshot()]);
        const diff = firstDiff(local as never, remote as never);
        if (diff) throw new Error(`seed ${seed} round ${round}: ${diff}\nlog:\n${log.join('\n')}`);
      }
      await converged();
    });
  }

  it('shows a delivered message from the SSE event even while changes pulls fail, then confirms it', async () => {
    s = await sim({ messages: 30 });
    e = engine(s);
    await e.sync.start();
    await waitStatus(e.sync, (st) => st.push === 'connected');
    // Every pull fails for a while: only the event can bring the message in.
    await s.control.failNext({ count: 1000, status: 503, path: '/mailbox/changes' });
    const batchGets = s.stats().byPath['POST /mailbox/messages:batch-get'] ?? 0;
    const { id } = await s.control.deliver({ subject: 'hello from SSE', text: 'hi' });
    await eventually(async () => (await e?.sync.snapshot())?.messages.some((m) => m.id === id) ?? false, 10_000, 'message via SSE');
    expect(s.stats().byPath['POST /mailbox/messages:batch-get'] ?? 0).toBe(batchGets);
    expect((await e.sync.snapshot()).messages.find((m) => m.id === id)?.subject).toBe('hello from SSE');
    // The network recovers: the confirming pull makes the replica exact.
    await s.control.failNext({ count: 0, status: 503 });
    await e.sync.syncNow();
    await converged();
  });

  it('an SSE snapshot of a message that was already created and destroyed is removed by the next pull', async () => {
    s = await sim({ messages: 20 });
    const api = createMailboxApi({ apiKey: s.apiKey, baseUrl: s.url, rateLimit: false });
    const events = new Subject<MailboxStreamEvent>();
    const e2 = engine(s, { api: { ...api, events: () => events.asObservable() } as MailboxApi });
    e = e2;
    await e2.sync.start();
    const { id } = await s.control.deliver({ subject: 'short-lived' });
    const summary = (await s.snapshot()).messages.find((m) => m.id === id);
    await s.control.destroy([id]);
    await e2.sync.syncNow(); // consumes created + destroyed: nothing to show
    expect((await e2.sync.snapshot()).messages.some((m) => m.id === id)).toBe(false);
    // The stream delivers the (late) event now.
    events.next({ type: 'open', data: null });
    events.next({
      id: 'evt_late',
      type: 'message.received',
      data: { event_type: 'message.received', team_public_id: 'team', mailbox_id: s.mailboxId, message_id: id, message_id_kind: 'provider', sender: null, recipients: [], is_spam: false, occurred_at: new Date().toISOString(), message: { ...summary, rfc5322_message_id: null, body: { text: 'x', html: null, is_truncated: false, max_bytes: 16384 } } },
    });
    await eventually(async () => {
      const ctx = await e2.context;
      return (await ctx.db.syncState.get('lastEventId'))?.value === 'evt_late';
    }, 5000, 'event handled');
    await e2.sync.syncNow();
    await converged();
  });
});
