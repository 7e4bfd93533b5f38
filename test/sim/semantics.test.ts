// Semantics the sync engine relies on: change paging and collapsing (RFC 8620 §5.2),
// query changes (§5.6) against fresh listings, guarded writes, expired tokens, SSE
// replay, rate limits, idempotent sends, and derived counters after random changes.
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/sim/random.js';
import type { Simulator } from '../../src/sim/index.js';
import { api, withSim, type Envelope } from '../helpers/sim.js';
import { openSse } from './sse.js';

type Changes = { old_state: string | null; new_state: string; has_more: boolean; created: string[]; updated: string[]; destroyed: string[]; sync_required?: boolean };
type Summary = { id: string; folder_ids: string[]; flags: { seen: boolean; flagged: boolean }; thread_id: string; keywords: string[] };
type QueryChanges = { old_query_state: string | null; new_query_state: string; has_more: boolean; removed: string[]; added: Array<{ id: string; index: number }>; total: number | null };

async function folderIdByRole(sim: Simulator, role: string): Promise<string> {
  const r = await api<Envelope<Array<{ id: string; role: string | null }>>>(sim, 'GET', '/mailbox/folders?limit=100');
  return r.body.data.find((f) => f.role === role)?.id ?? '';
}

/** Random "other device" and "outside world" activity, seeded. */
async function randomChanges(sim: Simulator, rng: Rng, steps: number): Promise<void> {
  const custom = (await sim.control.createFolder(`Random ${rng.int(0, 1e9)}`)).id;
  for (let i = 0; i < steps; i++) {
    const snap = await sim.snapshot();
    const pick = () => snap.messages[rng.int(0, snap.messages.length - 1)]?.id ?? '';
    const ids = Array.from({ length: rng.int(1, 4) }, pick);
    const r = rng.next();
    if (r < 0.3) await sim.control.setFlags(ids, { seen: rng.chance(0.5) });
    else if (r < 0.45) await sim.control.setFlags(ids, { flagged: rng.chance(0.5), keywords: { work: rng.chance(0.5), $answered: rng.chance(0.5), $SEEN: rng.chance(0.5) } });
    else if (r < 0.6) await sim.control.trash(ids);
    else if (r < 0.72) await sim.control.destroy(ids);
    else if (r < 0.9) await sim.control.deliver({ subject: `invoice ${i}`, text: 'Please find the invoice.', ...(rng.chance(0.3) ? { folder_id: custom } : {}) });
    else {
      const thread = snap.threads[rng.int(0, snap.threads.length - 1)];
      await sim.control.deliver({ subject: `Re: follow-up ${i}`, ...(thread ? { thread_id: thread.id } : {}) });
    }
  }
}

async function allChanges(sim: Simulator, type: string, since: string, limit: number): Promise<Changes[]> {
  const pages: Changes[] = [];
  let state = since;
  for (let guard = 0; guard < 10_000; guard++) {
    const r = await api<Envelope<{ types: Record<string, Changes> }>>(sim, 'GET', `/mailbox/changes?types=${type}&${type}_since_state=${state}&limit=${limit}`);
    expect(r.status).toBe(200);
    const c = r.body.data.types[type]!;
    pages.push(c);
    state = c.new_state;
    if (!c.has_more) break;
  }
  return pages;
}

describe('change paging and collapsing', () => {
  for (const seed of [11, 12, 13]) {
    it(`paging with a small limit reproduces the unpaged changes (seed ${seed})`, { timeout: 120_000 }, async () => {
      const sim = await withSim({ messages: 150, seed });
      const rng = new Rng(seed);
      const session = await api<Envelope<{ states: Record<string, string> }>>(sim, 'GET', '/mailbox/session');
      const start = session.body.data.states;
      const before = await sim.snapshot();
      await randomChanges(sim, rng, 40);
      const after = await sim.snapshot();
      for (const [type, records] of [['messages', 'messages'], ['threads', 'threads'], ['folders', 'folders'], ['quotas', 'quotas']] as const) {
        const [whole] = await allChanges(sim, type, start[type]!, 500);
        expect(whole!.has_more, `seed ${seed}`).toBe(false);
        const beforeIds = new Set(before[records].map((r) => r.id));
        const afterIds = new Set(after[records].map((r) => r.id));
        // RFC 8620 §5.2: created = new ids, destroyed = gone ids, one list per id.
        expect(new Set(whole!.created), `seed ${seed} ${type}`).toEqual(new Set([...afterIds].filter((id) => !beforeIds.has(id))));
        // Every id gone is destroyed; ids created and destroyed within the window may
        // be too (RFC 8620 §5.2 MAY), never an id that still exists.
        const gone = [...beforeIds].filter((id) => !afterIds.has(id));
        for (const id of gone) expect(whole!.destroyed, `seed ${seed} ${type}`).toContain(id);
        for (const id of whole!.destroyed) expect(afterIds.has(id), `seed ${seed} ${type} ${id}`).toBe(false);
        const all = [...whole!.created, ...whole!.updated, ...whole!.destroyed];
        expect(new Set(all).size).toBe(all.length);
        for (const limit of [1, 3, 7]) {
          const pages = await allChanges(sim, type, start[type]!, limit);
          const replica = new Set(beforeIds);
          const touched = new Set<string>();
          for (const p of pages) {
            expect(p.created.length + p.updated.length + p.destroyed.length).toBeLessThanOrEqual(limit);
            for (const id of p.created) replica.add(id);
            for (const id of [...p.created, ...p.updated]) touched.add(id);
            for (const id of p.destroyed) replica.delete(id);
          }
          expect(pages.at(-1)!.new_state).toBe(whole!.new_state);
          expect(replica, `seed ${seed} ${type} limit ${limit}`).toEqual(afterIds);
          for (const id of [...whole!.created, ...whole!.updated]) expect(touched.has(id), `seed ${seed} ${type} limit ${limit} ${id}`).toBe(true);
        }
      }
    });
  }

  it('reports an id created and destroyed within the window, and updated+destroyed, as destroyed only', async () => {
    const sim = await withSim({ messages: 30 });
    const s = (await api<Envelope<Changes>>(sim, 'GET', '/mailbox/changes')).body.data.new_state;
    const { id: temp } = await sim.control.deliver({ subject: 'short-lived' });
    await sim.control.setFlags([temp], { seen: true });
    await sim.control.destroy([temp]);
    const victim = (await sim.snapshot()).messages[0]!.id;
    await sim.control.setFlags([victim], { flagged: true });
    await sim.control.destroy([victim]);
    const c = (await api<Envelope<Changes>>(sim, 'GET', `/mailbox/changes?since_state=${s}`)).body.data;
    expect(c.created).toEqual([]);
    expect(c.updated).toEqual([]);
    expect(new Set(c.destroyed)).toEqual(new Set([temp, victim]));
  });
});

describe('query changes (RFC 8620 §5.6)', () => {
  const queries = ['', 'is_unread=true', 'q=invoice', 'keyword=work', 'has_attachment=false&sort_by=size_bytes&sort_direction=asc', 'sort_by=subject&sort_direction=asc'];
  for (const seed of [21, 22]) {
    it(`removed then added reproduce a fresh listing (seed ${seed})`, { timeout: 120_000 }, async () => {
      const sim = await withSim({ messages: 200, seed, rateLimitPerMinute: 0 });
      const rng = new Rng(seed);
      const inbox = await folderIdByRole(sim, 'inbox');
      const all = [...queries, `folder_id=${inbox}`];
      const listing = async (q: string) => {
        const ids: string[] = [];
        let cursor: string | undefined;
        do {
          const r = await api<Envelope<Summary[]>>(sim, 'GET', `/mailbox/messages?limit=100&${q}${cursor ? `&cursor=${cursor}` : ''}`);
          expect(r.status).toBe(200);
          ids.push(...r.body.data.map((m) => m.id));
          cursor = r.body.pagination?.next_cursor;
        } while (cursor);
        return ids;
      };
      const states = new Map<string, { state: string; ids: string[] }>();
      for (const q of all) {
        const r = await api<Envelope<QueryChanges>>(sim, 'GET', `/mailbox/messages/query-changes?${q}`);
        states.set(q, { state: r.body.data.new_query_state, ids: await listing(q) });
      }
      await randomChanges(sim, rng, 30);
      for (const q of all) {
        const { state, ids } = states.get(q)!;
        const fresh = await listing(q);
        for (const limit of [500, 4]) {
          let list = [...ids];
          let since = state;
          for (let guard = 0; guard < 1000; guard++) {
            const r = await api<Envelope<QueryChanges>>(sim, 'GET', `/mailbox/messages/query-changes?${q}&since_query_state=${since}&limit=${limit}&calculate_total=true`);
            expect(r.status, `seed ${seed} query ${q}`).toBe(200);
            const c = r.body.data;
            const removed = new Set(c.removed);
            list = list.filter((id) => !removed.has(id));
            for (const a of [...c.added].sort((x, y) => x.index - y.index)) list.splice(a.index, 0, a.id);
            expect(c.total).toBe(fresh.length);
            since = c.new_query_state;
            if (!c.has_more) break;
          }
          expect(list, `seed ${seed} query "${q}" limit ${limit}`).toEqual(fresh);
        }
      }
    });
  }

  it('honours up_to_id: changes after the client window are left out', async () => {
    const sim = await withSim({ messages: 120, seed: 5 });
    const first = await api<Envelope<Summary[]>>(sim, 'GET', '/mailbox/messages?limit=10');
    const window = first.body.data.map((m) => m.id);
    const qs = (await api<Envelope<QueryChanges>>(sim, 'GET', '/mailbox/messages/query-changes')).body.data.new_query_state;
    const snap = await sim.snapshot();
    const outside = snap.messages.map((m) => m.id).filter((id) => !window.includes(id)).slice(0, 5);
    await sim.control.destroy([...outside, window[4]!]);
    const { id: fresh } = await sim.control.deliver({ subject: 'newest' });
    const c = (await api<Envelope<QueryChanges>>(sim, 'GET', `/mailbox/messages/query-changes?since_query_state=${qs}&up_to_id=${window[9]}`)).body.data;
    expect(c.removed).toEqual([window[4]]);
    expect(c.added).toEqual([{ id: fresh, index: 0 }]);
  });

  it('answers 400 for an unknown, expired or foreign query state', async () => {
    const sim = await withSim({ messages: 20 });
    const qs = (await api<Envelope<QueryChanges>>(sim, 'GET', '/mailbox/messages/query-changes?is_unread=true')).body.data.new_query_state;
    const foreign = await api(sim, 'GET', `/mailbox/messages/query-changes?is_unread=false&since_query_state=${qs}`);
    expect(foreign.status).toBe(400);
    expect(foreign.body.error?.param).toBe('since_query_state');
    await sim.control.expireChangeLog();
    const expired = await api(sim, 'GET', `/mailbox/messages/query-changes?is_unread=true&since_query_state=${qs}`);
    expect(expired.status).toBe(400);
  });
});

describe('guarded writes', () => {
  it('a stale if_in_state on batch-update and batch-delete changes nothing', async () => {
    const sim = await withSim({ messages: 40 });
    const s0 = (await api<Envelope<{ states: Record<string, string> }>>(sim, 'GET', '/mailbox/session')).body.data.states.messages!;
    const snap = await sim.snapshot();
    const ids = snap.messages.slice(0, 3).map((m) => m.id);
    await sim.control.setFlags([ids[0]!], { flagged: true });
    const moved = await sim.snapshot();
    for (const [path, body] of [
      ['/mailbox/messages:batch-update', { ids, seen: true, keywords: { done: true }, if_in_state: s0 }],
      ['/mailbox/messages:batch-delete', { ids, permanent: true, if_in_state: s0 }],
    ] as const) {
      const r = await api(sim, 'POST', path, { body });
      expect(r.status).toBe(409);
      expect(r.body.error?.code).toBe('conflict');
      expect(r.body.error?.retryable).toBe(false);
      expect(await sim.snapshot()).toEqual(moved);
    }
    expect(moved).not.toEqual(snap);
  });

  it('a malformed if_in_state is a 400 naming the parameter', async () => {
    const sim = await withSim({ messages: 10 });
    const id = (await sim.snapshot()).messages[0]!.id;
    const r = await api(sim, 'POST', '/mailbox/messages:batch-update', { body: { ids: [id], seen: true, if_in_state: '%%%' } });
    expect(r.status).toBe(400);
    expect(r.body.error?.param).toBe('if_in_state');
  });
});

describe('expired tokens', () => {
  it('a token older than the retained log answers sync_required for that type only', async () => {
    const sim = await withSim({ messages: 30, changeLogLimit: 5 });
    const s0 = (await api<Envelope<{ states: Record<string, string> }>>(sim, 'GET', '/mailbox/session')).body.data.states;
    const ids = (await sim.snapshot()).messages.slice(0, 8).map((m) => m.id);
    for (const id of ids) await sim.control.setFlags([id], { flagged: true });
    const r = await api<Envelope<{ types: Record<string, Changes> }>>(sim, 'GET', `/mailbox/changes?types=messages,identities&messages_since_state=${s0.messages}&identities_since_state=${s0.identities}`);
    expect(r.status).toBe(200);
    expect(r.body.data.types.messages!.sync_required).toBe(true);
    expect(r.body.data.types.identities!.sync_required).toBeUndefined();
    const legacy = await api<Envelope<Changes>>(sim, 'GET', `/mailbox/changes?since_state=${s0.messages}`);
    expect(legacy.body.data.sync_required).toBe(true);
  });

  it('expireChangeLog makes every earlier token, and SSE id, answer sync_required', async () => {
    const sim = await withSim({ messages: 30 });
    const s0 = (await api<Envelope<{ states: Record<string, string> }>>(sim, 'GET', '/mailbox/session')).body.data.states;
    const s1 = await openSse(`${sim.url}/mailbox/events`, { Authorization: `Bearer ${sim.apiKey}` });
    await sim.control.deliver({ subject: 'before expiry' });
    await s1.until((ev) => ev.some((e) => e.event === 'message.received'));
    const lastId = s1.events.find((e) => e.event === 'message.received')!.id!;
    s1.close();
    await sim.control.expireChangeLog();
    for (const path of ['/mailbox/folders/changes', '/mailbox/quotas/changes', '/mailbox/submissions/changes']) {
      const type = path.split('/')[2]!;
      const r = await api<Envelope<Changes>>(sim, 'GET', `${path}?since_state=${s0[type]}`);
      expect(r.body.data.sync_required, path).toBe(true);
    }
    const s2 = await openSse(`${sim.url}/mailbox/events?last_event_id=${lastId}`, { Authorization: `Bearer ${sim.apiKey}` });
    await s2.until((ev) => ev.some((e) => e.event === 'sync_required'));
    expect(JSON.parse(s2.events.find((e) => e.event === 'sync_required')!.data).event_type).toBe('sync_required');
    s2.close();
  });
});

describe('event stream', () => {
  it('replays every missed event exactly once after a cut, by header and by query parameter', async () => {
    const sim = await withSim({ messages: 10, pingIntervalMs: 50 });
    const auth = { Authorization: `Bearer ${sim.apiKey}` };
    const s1 = await openSse(`${sim.url}/mailbox/events`, auth);
    const a = await sim.control.deliver({ subject: 'a' });
    await s1.until((ev) => ev.some((e) => e.event === 'message.received'));
    await s1.until((ev) => ev.some((e) => e.event === 'ping'));
    await sim.control.cutEventStreams();
    await s1.ended;
    expect(sim.stats().sseConnectionsOpen).toBe(0);
    const lastId = s1.events.filter((e) => e.event === 'message.received').at(-1)!.id!;
    const missed = [];
    for (let i = 0; i < 4; i++) missed.push((await sim.control.deliver({ subject: `missed ${i}` })).id);
    for (const open of [() => openSse(`${sim.url}/mailbox/events`, { ...auth, 'Last-Event-ID': lastId }), () => openSse(`${sim.url}/mailbox/events?last_event_id=${lastId}`, auth)]) {
      const s = await open();
      await s.until((ev) => ev.filter((e) => e.event === 'message.received').length >= 4);
      await s.until((ev) => ev.some((e) => e.event === 'ping'));
      const got = s.events.filter((e) => e.event === 'message.received').map((e) => JSON.parse(e.data).message_id);
      expect(got).toEqual(missed);
      expect(got).not.toContain(a.id);
      s.close();
    }
  });

  it('answers sync_required when Last-Event-ID is older than the retained event log', async () => {
    const sim = await withSim({ messages: 10, eventLogLimit: 2 });
    const auth = { Authorization: `Bearer ${sim.apiKey}` };
    const s1 = await openSse(`${sim.url}/mailbox/events`, auth);
    await sim.control.deliver({ subject: 'seen' });
    await s1.until((ev) => ev.some((e) => e.event === 'message.received'));
    const lastId = s1.events.find((e) => e.event === 'message.received')!.id!;
    s1.close();
    for (let i = 0; i < 2; i++) await sim.control.deliver({ subject: `kept ${i}` });
    const within = await openSse(`${sim.url}/mailbox/events`, { ...auth, 'Last-Event-ID': lastId });
    await within.until((ev) => ev.filter((e) => e.event === 'message.received').length === 2);
    expect(within.events.some((e) => e.event === 'sync_required')).toBe(false);
    within.close();
    await sim.control.deliver({ subject: 'one too many' });
    const beyond = await openSse(`${sim.url}/mailbox/events`, { ...auth, 'Last-Event-ID': lastId });
    await beyond.until((ev) => ev.some((e) => e.event === 'sync_required'));
    expect(beyond.events.some((e) => e.event === 'message.received')).toBe(false);
    beyond.close();
  });

  it('filters by event_types and validates close_after', async () => {
    const sim = await withSim({ messages: 10 });
    const junk = await folderIdByRole(sim, 'junk');
    const s = await openSse(`${sim.url}/mailbox/events?event_types=message.received.spam`, { Authorization: `Bearer ${sim.apiKey}` });
    await sim.control.deliver({ subject: 'ham' });
    const spam = await sim.control.deliver({ subject: 'spam', folder_id: junk });
    await s.until((ev) => ev.some((e) => e.event.startsWith('message.received')));
    expect(s.events.filter((e) => e.event.startsWith('message.received')).map((e) => JSON.parse(e.data).message_id)).toEqual([spam.id]);
    s.close();
    const bad = await api(sim, 'GET', '/mailbox/events?close_after=10');
    expect(bad.status).toBe(400);
  });

  it('sends ping heartbeats at the requested interval and ends the stream after close_after', async () => {
    // secondMs shortens stream seconds: ping=10 → 20ms, close_after=30 → 60ms.
    const sim = await withSim({ messages: 5, secondMs: 2 });
    const s = await openSse(`${sim.url}/mailbox/events?ping=10&close_after=30`, { Authorization: `Bearer ${sim.apiKey}` });
    await s.ended;
    const pings = s.events.filter((e) => e.event === 'ping');
    expect(pings.length).toBeGreaterThan(0);
    expect(sim.stats().sseConnectionsOpen).toBe(0);
  });
});

describe('rate limits, idempotency, dropped responses, counters', () => {
  it('answers 429 with Retry-After past the budget and recovers in the next window', async () => {
    let now = Date.UTC(2026, 5, 1);
    const sim = await withSim({ messages: 10, rateLimitPerMinute: 5, now: () => now });
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 7; i++) {
      last = await api(sim, 'GET', '/mailbox/folders');
      statuses.push(last.status);
      expect(last.headers.get('x-ratelimit-limit')).toBe('5');
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    expect(last!.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(last!.body.error).toMatchObject({ code: 'rate_limit_exceeded', retryable: true });
    now += 61_000;
    const again = await api(sim, 'GET', '/mailbox/folders');
    expect(again.status).toBe(200);
    expect(again.headers.get('x-ratelimit-remaining')).toBe('4');
  });

  it('replays a send with the same Idempotency-Key and body; conflicts on a different body', async () => {
    const sim = await withSim({ messages: 10 });
    const body = { to: [{ email: 'agent@example.com', name: null }], subject: 'Note to self', text_body: 'hello' };
    const a = await api<Envelope<{ message_id: string }>>(sim, 'POST', '/mailbox/messages/send', { body, headers: { 'Idempotency-Key': 'k-1' } });
    const b = await api<Envelope<{ message_id: string }>>(sim, 'POST', '/mailbox/messages/send', { body, headers: { 'Idempotency-Key': 'k-1' } });
    expect(b.body.data).toEqual(a.body.data);
    const c = await api(sim, 'POST', '/mailbox/messages/send', { body: { ...body, text_body: 'other' }, headers: { 'Idempotency-Key': 'k-1' } });
    expect(c.status).toBe(409);
    expect(c.body.error?.code).toBe('idempotency_conflict');
    const snap = await sim.snapshot();
    expect(snap.submissions.filter((s) => s.email_id === a.body.data.message_id)).toHaveLength(1);
    // Sent to self: one copy in Sent, one delivered to the Inbox, same thread.
    const copies = snap.messages.filter((m) => m.subject === 'Note to self');
    expect(copies).toHaveLength(2);
    expect(new Set(copies.map((m) => m.thread_id)).size).toBe(1);
  });

  it('a send whose response was dropped is replayed, not repeated, when retried with its key', async () => {
    const sim = await withSim({ messages: 10 });
    const body = { to: [{ email: 'someone@example.com' }], subject: 'Exactly once', text_body: 'hi' };
    await sim.control.dropNextResponses({ count: 1, path: '/mailbox/messages/send' });
    await expect(api(sim, 'POST', '/mailbox/messages/send', { body, headers: { 'Idempotency-Key': 'once-1' } })).rejects.toThrow();
    const retry = await api<Envelope<{ message_id: string }>>(sim, 'POST', '/mailbox/messages/send', { body, headers: { 'Idempotency-Key': 'once-1' } });
    expect(retry.status).toBe(200);
    const snap = await sim.snapshot();
    expect(snap.messages.filter((m) => m.subject === 'Exactly once').map((m) => m.id)).toEqual([retry.body.data.message_id]);
    expect(snap.submissions.filter((s) => s.email_id === retry.body.data.message_id)).toHaveLength(1);
  });

  it('dropNextResponses applies the request and then drops the connection', async () => {
    const sim = await withSim({ messages: 10 });
    const id = (await sim.snapshot()).messages.find((m) => !m.flags.flagged)!.id;
    await sim.control.dropNextResponses({ count: 1, path: '/mailbox/messages:batch-update' });
    await expect(api(sim, 'POST', '/mailbox/messages:batch-update', { body: { ids: [id], flagged: true } })).rejects.toThrow();
    expect((await sim.snapshot()).messages.find((m) => m.id === id)!.flags.flagged).toBe(true);
    const ok = await api(sim, 'POST', '/mailbox/messages:batch-update', { body: { ids: [id], flagged: false } });
    expect(ok.status).toBe(200);
  });

  it('counts requests per route template and bytes sent', async () => {
    const sim = await withSim({ messages: 10 });
    sim.resetStats();
    await api(sim, 'GET', '/mailbox/folders');
    const id = (await sim.snapshot()).messages[0]!.id;
    await api(sim, 'GET', `/mailbox/messages/${id}`);
    await api(sim, 'GET', `/mailbox/messages/${id}`);
    const st = sim.stats();
    expect(st.requests).toBe(3);
    expect(st.byPath).toEqual({ 'GET /mailbox/folders': 1, 'GET /mailbox/messages/{message_id}': 2 });
    expect(st.bytesOut).toBeGreaterThan(0);
  });
});

describe('consistency and determinism', () => {
  for (const seed of [31, 32, 33]) {
    it(`folder counters and thread summaries match the messages after random changes (seed ${seed})`, async () => {
      const sim = await withSim({ messages: 250, seed });
      await randomChanges(sim, new Rng(seed), 50);
      const snap = await sim.snapshot();
      for (const f of snap.folders) {
        const inFolder = snap.messages.filter((m) => m.folder_ids.includes(f.id));
        expect(f.total_messages, `seed ${seed} folder ${f.name}`).toBe(inFolder.length);
        expect(f.unread_messages, `seed ${seed} folder ${f.name}`).toBe(inFolder.filter((m) => !m.flags.seen).length);
      }
      const byThread = new Map<string, typeof snap.messages>();
      for (const m of snap.messages) byThread.set(m.thread_id ?? '', [...(byThread.get(m.thread_id ?? '') ?? []), m]);
      expect(new Set(snap.threads.map((t) => t.id))).toEqual(new Set(byThread.keys()));
      for (const t of snap.threads) {
        const ms = byThread.get(t.id)!;
        expect(t.message_count).toBe(ms.length);
        expect(t.unread_count).toBe(ms.filter((m) => !m.flags.seen).length);
        const newest = [...ms].sort((a, b) => Date.parse(b.received_at ?? '') - Date.parse(a.received_at ?? '') || (a.id < b.id ? 1 : -1))[0]!;
        expect(t.last_message?.id).toBe(newest.id);
        expect(new Set(t.folder_ids)).toEqual(new Set(ms.flatMap((m) => m.folder_ids)));
        for (const m of ms) {
          expect(m.keywords.includes('$seen')).toBe(m.flags.seen);
          expect(m.keywords.includes('$flagged')).toBe(m.flags.flagged);
          expect(m.keywords.includes('$answered')).toBe(m.flags.answered);
          expect(m.keywords.includes('$draft')).toBe(m.flags.draft);
          expect(m.keywords.every((k) => k === k.toLowerCase())).toBe(true);
        }
      }
      const usage = await api<Envelope<Array<{ resource_type: string; used: number }>>>(sim, 'GET', '/mailbox/quotas');
      expect(usage.body.data.find((q) => q.resource_type === 'count')!.used).toBe(snap.messages.length);
      expect(usage.body.data.find((q) => q.resource_type === 'octets')!.used).toBe(snap.messages.reduce((n, m) => n + (m.size_bytes ?? 0), 0));
      expect(sim.validationFailures()).toEqual([]);
    });
  }

  it('the same seed generates the same mailbox; another seed a different one', async () => {
    const a = await withSim({ messages: 300, seed: 42 });
    const b = await withSim({ messages: 300, seed: 42 });
    const c = await withSim({ messages: 300, seed: 43 });
    const [sa, sb, sc] = await Promise.all([a.snapshot(), b.snapshot(), c.snapshot()]);
    expect(sa).toEqual(sb);
    expect(sc.messages.map((m) => m.id)).not.toEqual(sa.messages.map((m) => m.id));
    const roles = sa.folders.map((f) => f.role).filter((r) => r !== null).sort();
    expect(roles).toEqual(['archive', 'drafts', 'inbox', 'junk', 'sent', 'trash']);
    const sizes = sa.threads.map((t) => t.message_count);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(20);
    expect(sizes.some((n) => n >= 5)).toBe(true);
    expect(sa.messages.some((m) => m.flags.flagged)).toBe(true);
    expect(sa.messages.some((m) => !m.flags.seen)).toBe(true);
    expect(sa.messages.some((m) => m.has_attachments)).toBe(true);
    expect(sa.messages.some((m) => m.keywords.some((k) => !k.startsWith('$')))).toBe(true);
  });
});

describe('filters and sending rules', () => {
  it('thread date filters: after = a message at or after, before = a message before', async () => {
    const sim = await withSim({ messages: 300, seed: 8 });
    const snap = await sim.snapshot();
    const times = snap.messages.map((m) => Date.parse(m.received_at ?? '')).sort((a, b) => a - b);
    const pivot = times[Math.floor(times.length / 2)]!;
    const iso = new Date(pivot).toISOString();
    const listThreads = async (q: string) => {
      const ids: string[] = [];
      let cursor: string | undefined;
      do {
        const r = await api<Envelope<Array<{ id: string }>>>(sim, 'GET', `/mailbox/threads?limit=100&${q}${cursor ? `&cursor=${cursor}` : ''}`);
        ids.push(...r.body.data.map((t) => t.id));
        cursor = r.body.pagination?.next_cursor;
      } while (cursor);
      return new Set(ids);
    };
    const byThread = new Map<string, number[]>();
    for (const m of snap.messages) byThread.set(m.thread_id ?? '', [...(byThread.get(m.thread_id ?? '') ?? []), Date.parse(m.received_at ?? '')]);
    const expectAfter = new Set([...byThread].filter(([, ts]) => ts.some((t) => t >= pivot)).map(([id]) => id));
    const expectBefore = new Set([...byThread].filter(([, ts]) => ts.some((t) => t < pivot)).map(([id]) => id));
    expect(await listThreads(`after=${encodeURIComponent(iso)}`)).toEqual(expectAfter);
    expect(await listThreads(`before=${encodeURIComponent(iso)}`)).toEqual(expectBefore);
  });

  it('message filters agree with the records they match', async () => {
    const sim = await withSim({ messages: 300, seed: 9 });
    const snap = await sim.snapshot();
    const count = async (q: string) => (await api<Envelope<{ total: number }>>(sim, 'GET', `/mailbox/messages/count?${q}`)).body.data.total;
    expect(await count('is_unread=true')).toBe(snap.messages.filter((m) => !m.flags.seen).length);
    expect(await count('has_attachment=true')).toBe(snap.messages.filter((m) => m.has_attachments).length);
    expect(await count('keyword=%24flagged')).toBe(snap.messages.filter((m) => m.flags.flagged).length);
    expect(await count('not_keyword=%24seen')).toBe(snap.messages.filter((m) => !m.flags.seen).length);
    expect(await count('min_size_bytes=2000&max_size_bytes=50000')).toBe(snap.messages.filter((m) => (m.size_bytes ?? 0) >= 2000 && (m.size_bytes ?? 0) < 50000).length);
    expect(await count('subject=invoice')).toBe(snap.messages.filter((m) => (m.subject ?? '').toLowerCase().includes('invoice')).length);
    expect(await count('from=agent%40example.com')).toBe(snap.messages.filter((m) => m.from?.email === 'agent@example.com').length);
    expect(await count('header_name=List-Unsubscribe')).toBeGreaterThan(0);
    expect(await count('header_name=X-Mailer&header_value=bulksender')).toBe(await count('header_name=List-Unsubscribe'));
    const r = await api(sim, 'GET', '/mailbox/messages/count?thread_id=thr_x&is_unread=true');
    expect(r.status).toBe(400);
  });

  it('sends from an identity alias and refuses an address the mailbox does not own', async () => {
    const sim = await withSim({ messages: 10 });
    const ok = await api<Envelope<{ message_id: string }>>(sim, 'POST', '/mailbox/messages/send', { body: { from: { email: 'support@example.com' }, to: [{ email: 'c@example.com' }], subject: 'From support', html_body: '<p>Hi</p>' } });
    expect(ok.status).toBe(200);
    const snap = await sim.snapshot();
    const sent = snap.messages.find((m) => m.id === ok.body.data.message_id)!;
    expect(sent.from?.email).toBe('support@example.com');
    const alias = snap.identities.find((i) => i.email === 'support@example.com')!;
    expect(snap.submissions.find((s) => s.email_id === sent.id)?.identity_id).toBe(alias.id);
    const bad = await api(sim, 'POST', '/mailbox/messages/send', { body: { from: { email: 'ceo@elsewhere.test' }, to: [{ email: 'c@example.com' }], subject: 'Spoof', text_body: 'x' } });
    expect(bad.status).toBe(422);
    expect(bad.body.error?.param).toBe('from');
  });
});

describe('small-list paging', () => {
  it('submission and folder pages neither repeat nor skip when records are added between pages', async () => {
    const sim = await withSim({ messages: 400, seed: 4 });
    const pageAll = async <T extends { id: string }>(path: string, between: () => Promise<void>) => {
      const seen: string[] = [];
      let cursor: string | undefined;
      let first = true;
      do {
        const r = await api<Envelope<T[]>>(sim, 'GET', `${path}${path.includes('?') ? '&' : '?'}limit=3${cursor ? `&cursor=${cursor}` : ''}`);
        expect(r.status).toBe(200);
        seen.push(...r.body.data.map((x) => x.id));
        cursor = r.body.pagination?.next_cursor;
        if (first) await between();
        first = false;
      } while (cursor);
      return seen;
    };
    const before = (await sim.snapshot()).submissions.map((s) => s.id);
    const subs = await pageAll('/mailbox/submissions?sort_direction=desc', async () => {
      await api(sim, 'POST', '/mailbox/messages/send', { body: { to: [{ email: 'x@example.com' }], subject: 'between pages', text_body: 'x' } });
    });
    expect(new Set(subs).size).toBe(subs.length);
    expect(new Set(subs)).toEqual(new Set(before));
    const foldersBefore = (await sim.snapshot()).folders.map((f) => f.id);
    const folders = await pageAll('/mailbox/folders', async () => {
      await sim.control.createFolder('AAA first by name', null);
    });
    expect(new Set(folders).size).toBe(folders.length);
    for (const id of foldersBefore) expect(folders).toContain(id);
  });
});
