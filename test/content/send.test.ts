// The send queue over the engine's outbox table, against the simulator: a send is
// delivered exactly once whatever happens to the network (dropped responses,
// offline + reload, a tab dying mid-send), rejections are final and carry the
// server's message, attachments upload once, identity defaults are applied, and only
// the leader sends. Plus the pure reducer of a send's life.
import { testStore, type TestStore } from '../helpers/storage.js';
import { BehaviorSubject, filter, firstValueFrom } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { withSim } from '../helpers/sim.js';
import { specAvailable } from '../helpers/spec.js';
import { MailboxDb } from '../../src/store/db.js';
import { createSendQueue } from '../../src/content/send.js';
import type { SendDraft, SendOutcome, SendQueue, SendQueueOptions } from '../../src/content/send.js';
import { buildSendRequest, reduceSend } from '../../src/content/sendState.js';
import type { SendEntry } from '../../src/content/sendState.js';
import { NetLog, apiFor } from './helpers.js';
import type { Simulator } from '../../src/sim/index.js';

const queues: SendQueue[] = [];
const dbs: MailboxDb[] = [];
afterEach(() => {
  for (const q of queues.splice(0)) q.stop();
  for (const d of dbs.splice(0)) d.close();
});

function openDb(store: TestStore, name = 'send-test'): MailboxDb {
  const db = new MailboxDb(name, store.options);
  dbs.push(db);
  return db;
}

function queue(options: SendQueueOptions): SendQueue {
  const q = createSendQueue({ retry: { baseDelayMs: 5, maxDelayMs: 20 }, conflictRetry: { attempts: 3, baseDelayMs: 2 }, ...options });
  queues.push(q);
  return q;
}

const draft = (subject: string, extra: Partial<SendDraft> = {}): SendDraft => ({
  to: [{ email: 'customer@example.com', name: 'Customer' }],
  subject,
  text_body: `Body of ${subject}`,
  ...extra,
});

async function submissionsFor(sim: Simulator, subject: string) {
  const snap = await sim.snapshot();
  const ids = new Set(snap.messages.filter((m) => m.subject === subject).map((m) => m.id));
  return { messages: [...ids], submissions: snap.submissions.filter((s) => s.email_id !== null && ids.has(s.email_id)) };
}

function outcome(q: SendQueue, status: SendOutcome['status'], seq: number): Promise<SendOutcome> {
  return firstValueFrom(q.outcomes$.pipe(filter((o) => o.status === status && o.seq === seq)));
}

const SEND = /\/mailbox\/messages\/send$/;
const UPLOAD = /\/mailbox\/attachments:upload$/;

describe.skipIf(!specAvailable)('send(): delivered exactly once', () => {
  it('shows a send at once in the Outbox, delivers it when online, links its submission', async () => {
    const sim = await withSim({ messages: 10 });
    const net = new NetLog();
    const db = openDb(testStore());
    const online$ = new BehaviorSubject(false);
    const q = queue({ outbox: db.outbox, api: apiFor(sim, net), online$ });

    const { seq, idempotency_key } = await q.send(draft('Hello outbox'));
    const shown = await firstValueFrom(q.outbox$.pipe(filter((list) => list.length > 0)));
    expect(shown).toHaveLength(1);
    expect(shown[0]).toMatchObject({ seq, idempotency_key, status: 'pending', attempts: 0 });
    expect(shown[0]?.draft.subject).toBe('Hello outbox');
    expect(net.requests).toHaveLength(0);

    const linked = outcome(q, 'linked', seq);
    online$.next(true);
    const done = await linked;
    expect(done.status === 'linked' && done.submission_id).toMatch(/^sub_/);
    const { submissions, messages } = await submissionsFor(sim, 'Hello outbox');
    expect(messages).toHaveLength(1);
    expect(submissions).toHaveLength(1);
    expect(done.status === 'linked' && done.message_id).toBe(messages[0]);

    const entry = await db.outbox.get(seq);
    expect(entry?.status).toBe('acked');
    expect(entry?.send?.message_id).toBe(messages[0]);
    expect(entry?.send?.submission_id).toBe(submissions[0]?.id);
    expect(await firstValueFrom(q.outbox$)).toEqual([]);
    const sends = net.matching('POST', SEND);
    expect(sends).toHaveLength(1);
    expect(sends[0]?.headers['idempotency-key']).toBe(idempotency_key);
    expect(sim.validationFailures()).toEqual([]);
  });

  it('a send retried after a dropped response is delivered once (client retry, same key)', async () => {
    const sim = await withSim({ messages: 10 });
    const net = new NetLog();
    const db = openDb(testStore());
    const q = queue({ outbox: db.outbox, api: apiFor(sim, net) });
    await sim.control.dropNextResponses({ count: 1, path: '/mailbox/messages/send' });
    const { seq, idempotency_key } = await q.send(draft('Dropped once'));
    await outcome(q, 'sent', seq);

    const sends = net.matching('POST', SEND);
    expect(sends).toHaveLength(2);
    expect(sends[0]?.status).toBe('network_error');
    expect(sends.map((r) => r.headers['idempotency-key'])).toEqual([idempotency_key, idempotency_key]);
    expect(sends[1]?.body).toBe(sends[0]?.body);
    const { submissions } = await submissionsFor(sim, 'Dropped once');
    expect(submissions).toHaveLength(1);
  });

  it('a send whose response is dropped and the client gives up is retried by the queue with the same key, delivered once', async () => {
    const sim = await withSim({ messages: 10 });
    const net = new NetLog();
    const db = openDb(testStore());
    const q = queue({ outbox: db.outbox, api: apiFor(sim, net, { attempts: 1 }) });
    await sim.control.dropNextResponses({ count: 1, path: '/mailbox/messages/send' });
    const { seq, idempotency_key } = await q.send(draft('Queue retry'));
    await outcome(q, 'sent', seq);
    const sends = net.matching('POST', SEND);
    expect(sends).toHaveLength(2);
    expect(new Set(sends.map((r) => r.headers['idempotency-key']))).toEqual(new Set([idempotency_key]));
    expect((await db.outbox.get(seq))?.attempts).toBe(2);
    expect((await submissionsFor(sim, 'Queue retry')).submissions).toHaveLength(1);
  });

  it('a send made offline and followed by a reload is delivered once when back online', async () => {
    const sim = await withSim({ messages: 10 });
    const store = testStore();
    const net = new NetLog();
    net.online = false;
    const db1 = openDb(store);
    // The app believes it is online, but the network is down: attempts fail and back off.
    const q1 = queue({ outbox: db1.outbox, api: apiFor(sim, net, { attempts: 1 }), retry: { baseDelayMs: 60_000 } });
    const { seq, idempotency_key } = await q1.send(draft('Offline then reload'));
    await waitFor(async () => (await db1.outbox.get(seq))?.send?.error?.code === 'network_error');
    const before = await db1.outbox.get(seq);
    expect(before?.status).toBe('pending');
    expect(before?.send?.idempotency_key).toBe(idempotency_key);
    q1.stop();
    db1.close();

    // Reload, back online: a new queue on the same database.
    net.online = true;
    net.clear();
    const db2 = openDb(store);
    const q2 = queue({ outbox: db2.outbox, api: apiFor(sim, net), now: () => Date.now() + 120_000 });
    await waitFor(async () => (await db2.outbox.get(seq))?.status === 'acked');
    const sends = net.matching('POST', SEND);
    expect(sends).toHaveLength(1);
    expect(sends[0]?.headers['idempotency-key']).toBe(idempotency_key);
    expect(JSON.parse(sends[0]?.body ?? '{}')).toEqual((await db2.outbox.get(seq))?.send?.request);
    await q2.flush();
    expect(net.matching('POST', SEND)).toHaveLength(1);
    expect((await submissionsFor(sim, 'Offline then reload')).submissions).toHaveLength(1);
  });

  it('a send left "sending" by a tab that died is resent with its key and still delivered once', async () => {
    const sim = await withSim({ messages: 10 });
    const store = testStore();
    const net = new NetLog();
    const db1 = openDb(store);
    const q1 = queue({ outbox: db1.outbox, api: apiFor(sim, net) });
    const { seq } = await q1.send(draft('Died mid-send'));
    await outcome(q1, 'sent', seq);
    q1.stop();
    // The tab died after the server accepted the send but before the ack was stored.
    await db1.outbox.update(seq, { status: 'sending' });
    const { message_id: _m, acked_at: _a, ...unacked } = (await db1.outbox.get(seq))!.send!;
    await db1.outbox.update(seq, { send: unacked });

    const db2 = openDb(store);
    const q2 = queue({ outbox: db2.outbox, api: apiFor(sim, net) });
    await waitFor(async () => (await db2.outbox.get(seq))?.status === 'acked');
    expect(net.matching('POST', SEND)).toHaveLength(2);
    expect((await submissionsFor(sim, 'Died mid-send')).submissions).toHaveLength(1);
    await q2.flush();
  });
});

describe.skipIf(!specAvailable)('send(): rejections are final', () => {
  it('a 422 fails the send with the server message and is never retried', async () => {
    const sim = await withSim({ messages: 10 });
    const net = new NetLog();
    const db = openDb(testStore());
    const errors: unknown[] = [];
    const q = queue({ outbox: db.outbox, api: apiFor(sim, net), onError: (e) => errors.push(e) });
    const { seq } = await q.send({ to: [{ email: 'x@example.com', name: null }], subject: 'No body' });
    const failed = await outcome(q, 'failed', seq);
    expect(failed.status === 'failed' && failed.error).toMatchObject({ code: 'validation_error', status: 422, message: expect.stringContaining('text_body or html_body') });
    await q.flush();
    expect(net.matching('POST', SEND)).toHaveLength(1);
    const list = await firstValueFrom(q.outbox$);
    expect(list.map((s) => [s.seq, s.status])).toEqual([[seq, 'failed']]);
    expect(errors).toHaveLength(1);
    // The user may discard it.
    expect(await q.discard(seq)).toBe(true);
    expect(await db.outbox.get(seq)).toBeUndefined();
  });

  it('a 409 idempotency_conflict on an in-flight send is retried after a short wait with the same key, and is delivered once', async () => {
    const sim = await withSim({ messages: 10 });
    const net = new NetLog();
    // The first two POSTs find the key's first request still running (docs/idempotency.md).
    let conflicts = 2;
    net.intercept = (url, init) => {
      if (!SEND.test(new URL(url).pathname) || init?.method !== 'POST' || conflicts <= 0) return undefined;
      conflicts -= 1;
      const body = { error: { code: 'idempotency_conflict', message: 'A request with this Idempotency-Key is still in progress.', param: 'Idempotency-Key' } };
      return Promise.resolve(new Response(JSON.stringify(body), { status: 409, headers: { 'content-type': 'application/json' } }));
    };
    const db = openDb(testStore());
    const q = queue({ outbox: db.outbox, api: apiFor(sim, net) });
    const { seq, idempotency_key } = await q.send(draft('In flight'));
    const sent = await outcome(q, 'sent', seq);
    expect(sent.status).toBe('sent');
    const posts = net.matching('POST', SEND);
    expect(posts.map((r) => r.status)).toEqual([409, 409, 200]);
    expect(new Set(posts.map((r) => r.headers['idempotency-key']))).toEqual(new Set([idempotency_key]));
    expect(new Set(posts.map((r) => r.body)).size).toBe(1);
    expect((await submissionsFor(sim, 'In flight')).submissions).toHaveLength(1);
  });

  it('a 409 idempotency_conflict that persists fails the send after a bounded number of resends; retry() resends with the same key', async () => {
    const sim = await withSim({ messages: 10 });
    const net = new NetLog();
    const db = openDb(testStore());
    const q = queue({ outbox: db.outbox, api: apiFor(sim, net) });
    const first = await q.send(draft('Original'));
    await outcome(q, 'sent', first.seq);
    // Another entry under the same key with a different body (e.g. a corrupted copy).
    const sent = (await db.outbox.get(first.seq)) as SendEntry;
    const clash: SendEntry = {
      kind: 'send',
      ids: [],
      status: 'pending',
      attempts: 0,
      created_at: Date.now(),
      send: { idempotency_key: sent.send.idempotency_key, draft: { ...sent.send.draft, subject: 'Different' } },
    };
    net.clear();
    const seq = await db.outbox.add(clash);
    const failed = await outcome(q, 'failed', seq);
    expect(failed.status === 'failed' && failed.error).toMatchObject({ code: 'idempotency_conflict', status: 409 });
    await q.flush();
    // The first POST and 3 resends (conflictRetry.attempts), then final.
    expect(net.matching('POST', SEND)).toHaveLength(4);
    expect((await submissionsFor(sim, 'Different')).submissions).toHaveLength(0);
    expect((await submissionsFor(sim, 'Original')).submissions).toHaveLength(1);

    // Only an explicit retry() sends it again, still under its own key.
    const again = outcome(q, 'failed', seq);
    await q.retry(seq);
    await again;
    const sends = net.matching('POST', SEND);
    expect(sends).toHaveLength(8);
    expect(new Set(sends.map((r) => r.headers['idempotency-key']))).toEqual(new Set([sent.send.idempotency_key]));
  });
});

describe.skipIf(!specAvailable)('send(): attachments, identity, leadership', () => {
  it('uploads attachments first and does not re-upload when the send is retried', async () => {
    const sim = await withSim({ messages: 10 });
    const net = new NetLog();
    const db = openDb(testStore());
    const q = queue({ outbox: db.outbox, api: apiFor(sim, net, { attempts: 1 }) });
    await sim.control.failNext({ count: 1, status: 503, path: '/mailbox/messages/send' });
    const bytes = new TextEncoder().encode('%PDF-1.4 invoice bytes');
    const { seq } = await q.send(draft('With attachment', { attachments: [{ filename: 'invoice.pdf', content_type: 'application/pdf', data: new Blob([bytes]) }] }));
    const sent = await outcome(q, 'sent', seq);
    expect(net.matching('POST', UPLOAD)).toHaveLength(1);
    expect(net.matching('POST', SEND)).toHaveLength(2);
    const entry = (await db.outbox.get(seq)) as SendEntry;
    expect(entry.send.draft.attachments[0]?.blob_id).toMatch(/.+/);
    expect(entry.send.draft.attachments[0]?.bytes).toBeUndefined();
    const res = await fetch(`${sim.url}/mailbox/messages/${sent.status === 'sent' ? sent.message_id : ''}`, { headers: { Authorization: `Bearer ${sim.apiKey}` } });
    const message = (await res.json()) as { data: { attachments: Array<{ filename: string; size_bytes: number }> } };
    expect(message.data.attachments).toEqual([expect.objectContaining({ filename: 'invoice.pdf', size_bytes: bytes.byteLength })]);
  });

  it('applies the identity defaults to the frozen request', async () => {
    const sim = await withSim({ messages: 10 });
    const net = new NetLog();
    const db = openDb(testStore());
    const api = apiFor(sim, net);
    const { data: identity } = await api.getIdentity();
    const q = queue({ outbox: db.outbox, api });
    const { seq } = await q.send(draft('Identity defaults'));
    await outcome(q, 'sent', seq);
    const body = JSON.parse(net.matching('POST', SEND)[0]?.body ?? '{}') as { from?: { email: string } };
    expect(body.from?.email).toBe(identity.email);
    const own = await q.send(draft('Own from', { from: { email: identity.email, name: 'Someone Else' } }));
    await outcome(q, 'sent', own.seq);
    const body2 = JSON.parse(net.matching('POST', SEND)[1]?.body ?? '{}') as { from?: { name: string } };
    expect(body2.from?.name).toBe('Someone Else');
  });

  it('only the leader sends; a follower tab writes to the outbox and the leader delivers it', async () => {
    const sim = await withSim({ messages: 10 });
    const store = testStore();
    const followerNet = new NetLog();
    const leaderNet = new NetLog();
    const follower = queue({ outbox: openDb(store).outbox, api: apiFor(sim, followerNet), leader$: new BehaviorSubject(false) });
    const leaderDb = openDb(store);
    const leader$ = new BehaviorSubject(false);
    const leader = queue({ outbox: leaderDb.outbox, api: apiFor(sim, leaderNet), leader$ });
    const { seq } = await follower.send(draft('From a follower'));
    await follower.flush();
    expect(followerNet.requests).toHaveLength(0);
    leader$.next(true);
    await waitFor(async () => (await leaderDb.outbox.get(seq))?.status === 'acked');
    expect(followerNet.requests).toHaveLength(0);
    expect(leaderNet.matching('POST', SEND)).toHaveLength(1);
    expect((await submissionsFor(sim, 'From a follower')).submissions).toHaveLength(1);
    await leader.flush();
  });
});

describe.skipIf(!specAvailable)('send(): undo send (a send delay)', () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('holds a delayed send in the Outbox; discarding it during the delay means the server never sees it', async () => {
    const sim = await withSim({ messages: 10 });
    const net = new NetLog();
    const q = queue({ outbox: openDb(testStore()).outbox, api: apiFor(sim, net) });
    const at = Date.now();
    const { seq } = await q.send(draft('Undo me'), { delayMs: 60_000 });
    const shown = await firstValueFrom(q.outbox$.pipe(filter((list) => list.length > 0)));
    expect(shown[0]).toMatchObject({ seq, status: 'pending' });
    expect(shown[0]?.hold_until).toBeGreaterThanOrEqual(at + 60_000);
    await q.flush();
    await sleep(100);
    expect(net.requests).toHaveLength(0);
    expect(await q.discard(seq)).toBe(true);
    await firstValueFrom(q.outbox$.pipe(filter((list) => list.length === 0)));
    await q.flush();
    expect(net.requests).toHaveLength(0);
    expect((await submissionsFor(sim, 'Undo me')).messages).toHaveLength(0);
  });

  it('sends once the delay ends, not before; discard then answers false', async () => {
    const sim = await withSim({ messages: 10 });
    const net = new NetLog();
    const q = queue({ outbox: openDb(testStore()).outbox, api: apiFor(sim, net) });
    const at = Date.now();
    const { seq } = await q.send(draft('Delayed'), { delayMs: 400 });
    const sent = await outcome(q, 'sent', seq);
    expect(Date.now() - at).toBeGreaterThanOrEqual(390);
    expect(sent.status).toBe('sent');
    expect(net.matching('POST', SEND)).toHaveLength(1);
    expect(await q.discard(seq)).toBe(false);
    expect((await submissionsFor(sim, 'Delayed')).messages).toHaveLength(1);
  });

  it('the delay survives a reload, and a delayed send written by a follower tab is sent by the leader when it ends', async () => {
    const sim = await withSim({ messages: 10 });
    const store = testStore();
    const net = new NetLog();
    const db1 = openDb(store);
    const q1 = queue({ outbox: db1.outbox, api: apiFor(sim, net), leader$: new BehaviorSubject(false) });
    const at = Date.now();
    const { seq } = await q1.send(draft('Held across a reload'), { delayMs: 1200 });
    q1.stop();
    db1.close();

    // The next tab leads at once, while the delay still runs.
    const db2 = openDb(store);
    const q2 = queue({ outbox: db2.outbox, api: apiFor(sim, net) });
    await q2.flush();
    expect(net.matching('POST', SEND)).toHaveLength(0);
    await waitFor(async () => (await db2.outbox.get(seq))?.status === 'acked', 10_000);
    expect(Date.now() - at).toBeGreaterThanOrEqual(1150);
    expect(net.matching('POST', SEND)).toHaveLength(1);

    // A follower tab (same database) queues a delayed send: the leader arms its timer.
    const follower = queue({ outbox: openDb(store).outbox, api: apiFor(sim, net), leader$: new BehaviorSubject(false) });
    const second = await follower.send(draft('From a follower, delayed'), { delayMs: 300 });
    await waitFor(async () => (await db2.outbox.get(second.seq))?.status === 'acked', 10_000);
    expect(net.matching('POST', SEND)).toHaveLength(2);
  });

  it('refuses a bad delay with a TypeError that names the range', async () => {
    const sim = await withSim({ messages: 10 });
    const q = queue({ outbox: openDb(testStore()).outbox, api: apiFor(sim, new NetLog()) });
    await expect(q.send(draft('x'), { delayMs: -5 })).rejects.toThrow(/delayMs must be a number of milliseconds from 0/);
    await expect(q.send(draft('x'), { delayMs: Number.NaN })).rejects.toThrow(TypeError);
  });

  it('reduceSend does not attempt a send before its hold ends', () => {
    const held: SendEntry = {
      seq: 1, kind: 'send', ids: [], status: 'pending', attempts: 0, created_at: 0,
      send: { idempotency_key: 'k', draft: { to: [], subject: 's', attachments: [] }, hold_until: 5_000 },
    };
    expect(reduceSend(held, { type: 'attempt', at: 4_999 })).toBe(held);
    expect(reduceSend(held, { type: 'attempt', at: 5_000 }).status).toBe('sending');
  });
});

describe.skipIf(!specAvailable)('send(): pins', () => {
  it('pins the messages a pending send relates to until it is delivered', async () => {
    const sim = await withSim({ messages: 10 });
    const net = new NetLog();
    const db = openDb(testStore());
    const pinned = new Map<string, number>();
    const pins = {
      pin: (ids: readonly string[]) => ids.forEach((id) => pinned.set(id, (pinned.get(id) ?? 0) + 1)),
      unpin: (ids: readonly string[]) => ids.forEach((id) => pinned.set(id, (pinned.get(id) ?? 0) - 1)),
    };
    const online$ = new BehaviorSubject(false);
    const q = queue({ outbox: db.outbox, api: apiFor(sim, net), online$, pins });
    const { seq } = await q.send(draft('Re: question', { related_message_ids: ['msg_original'] }));
    await waitFor(() => pinned.get('msg_original') === 1);
    const sent = outcome(q, 'sent', seq);
    online$.next(true);
    await sent;
    await waitFor(() => pinned.get('msg_original') === 0);
  });
});

describe('reduceSend (pure)', () => {
  const base: SendEntry = {
    seq: 1,
    kind: 'send',
    ids: [],
    status: 'pending',
    attempts: 0,
    created_at: 0,
    send: { idempotency_key: 'k', draft: { to: [], subject: 's', attachments: [{ filename: 'a', content_type: 'x/y', bytes: new Uint8Array([1]) }] } },
  };

  it('walks pending → sending → pending (retry) → sending → acked, keeping the key', () => {
    let e = reduceSend(base, { type: 'attempt', at: 1 });
    expect([e.status, e.attempts]).toEqual(['sending', 1]);
    e = reduceSend(e, { type: 'uploaded', index: 0, blob_id: 'blob_1' });
    expect(e.send.draft.attachments[0]).toEqual({ filename: 'a', content_type: 'x/y', blob_id: 'blob_1' });
    e = reduceSend(e, { type: 'retry', at: 2, error: { code: 'network_error', message: 'down', status: 0 }, next_attempt_at: 10 });
    expect([e.status, e.send.next_attempt_at, e.send.error?.code]).toEqual(['pending', 10, 'network_error']);
    e = reduceSend(e, { type: 'attempt', at: 11 });
    expect([e.status, e.attempts, e.send.next_attempt_at]).toEqual(['sending', 2, undefined]);
    e = reduceSend(e, { type: 'sent', at: 12, message_id: 'msg_1' });
    expect([e.status, e.send.message_id, e.send.error, e.send.idempotency_key]).toEqual(['acked', 'msg_1', undefined, 'k']);
    expect(reduceSend(e, { type: 'rejected', error: { code: 'x', message: 'y', status: 409 } })).toBe(e);
  });

  it('freezes the request once, fails for good on rejection, resumes only on request, recovers a dead sender', () => {
    const req = buildSendRequest({ to: [], subject: 's', attachments: [] }, undefined);
    let e = reduceSend(base, { type: 'frozen', request: req });
    expect(reduceSend(e, { type: 'frozen', request: { ...req, subject: 'other' } }).send.request?.subject).toBe('s');
    e = reduceSend(reduceSend(e, { type: 'attempt', at: 1 }), { type: 'rejected', error: { code: 'validation_error', message: 'bad', status: 422 } });
    expect(e.status).toBe('failed');
    expect(reduceSend(e, { type: 'attempt', at: 2 })).toBe(e);
    const resumed = reduceSend(e, { type: 'resume' });
    expect([resumed.status, resumed.send.error]).toEqual(['pending', undefined]);
    const stuck = reduceSend(base, { type: 'attempt', at: 1 });
    expect(reduceSend(stuck, { type: 'recover' }).status).toBe('pending');
  });

  it('buildSendRequest applies identity from/reply_to/bcc only where the draft has none', () => {
    const identity = { email: 'me@x.com', name: 'Me', reply_to: [{ email: 'r@x.com', name: null }], bcc: [{ email: 'archive@x.com', name: null }] };
    const a = buildSendRequest({ to: [{ email: 't@x.com', name: null }], subject: 's', text_body: 't', attachments: [{ filename: 'f', content_type: 'a/b', blob_id: 'b1' }] }, identity);
    expect(a).toEqual({
      to: [{ email: 't@x.com', name: null }],
      subject: 's',
      from: { email: 'me@x.com', name: 'Me' },
      bcc: identity.bcc,
      reply_to: identity.reply_to,
      text_body: 't',
      attachments: [{ filename: 'f', content_type: 'a/b', blob_id: 'b1' }],
    });
    const b = buildSendRequest({ to: [], subject: 's', from: { email: 'o@x.com', name: 'O' }, bcc: [], reply_to: [{ email: 'z@x.com', name: null }], attachments: [] }, identity);
    expect(b.from).toEqual({ email: 'o@x.com', name: 'O' });
    expect(b.bcc).toBeUndefined();
    expect(b.reply_to).toEqual([{ email: 'z@x.com', name: null }]);
    expect(() => buildSendRequest({ to: [], subject: 's', attachments: [{ filename: 'f', content_type: 'a/b', bytes: new Uint8Array(1) }] }, undefined)).toThrow(/upload it first/);
  });
});

async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 8000): Promise<void> {
  const start = Date.now();
  while (!(await cond())) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
