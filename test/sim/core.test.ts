// Core behaviours other layers build on: session tokens, listing with cursors,
// typed changes, guarded batch updates, deliveries over SSE, snapshots.
import { describe, expect, it } from 'vitest';
import { api, withSim, type Envelope } from '../helpers/sim.js';
import { openSse } from './sse.js';

type Summary = { id: string; received_at: string; flags: { seen: boolean }; folder_ids: string[]; thread_id: string };
type Changes = { old_state: string | null; new_state: string; has_more: boolean; created: string[]; updated: string[]; destroyed: string[]; sync_required?: boolean };

describe('simulator core', () => {
  it('lists every message newest first with cursors, matching the snapshot', async () => {
    const sim = await withSim({ messages: 730, seed: 7 });
    const seen: Summary[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const r = await api<Envelope<Summary[]>>(sim, 'GET', `/mailbox/messages?limit=100${cursor ? `&cursor=${cursor}` : ''}`);
      expect(r.status).toBe(200);
      seen.push(...r.body.data);
      cursor = r.body.pagination?.next_cursor;
      pages += 1;
    } while (cursor);
    expect(pages).toBe(8);
    expect(seen).toHaveLength(730);
    for (let i = 1; i < seen.length; i++) expect(Date.parse(seen[i - 1]!.received_at)).toBeGreaterThanOrEqual(Date.parse(seen[i]!.received_at));
    const snap = await sim.snapshot();
    expect([...seen].sort((a, b) => (a.id < b.id ? -1 : 1))).toEqual(snap.messages);
    expect(sim.validationFailures()).toEqual([]);
  });

  it('moves message, thread and folder states on a flag change and reports typed changes', async () => {
    const sim = await withSim({ messages: 120 });
    const session = await api<Envelope<{ states: Record<string, string> }>>(sim, 'GET', '/mailbox/session');
    const before = session.body.data.states;
    const list = await api<Envelope<Summary[]>>(sim, 'GET', '/mailbox/messages?is_unread=true&limit=3');
    const ids = list.body.data.map((m) => m.id);
    expect(ids.length).toBe(3);
    const up = await api(sim, 'POST', '/mailbox/messages:batch-update', { body: { ids, seen: true, if_in_state: before.messages } });
    expect(up.status).toBe(200);
    const q = Object.entries(before).map(([t, s]) => `${t}_since_state=${s}`).join('&');
    const ch = await api<Envelope<{ types: Record<string, Changes> }>>(sim, 'GET', `/mailbox/changes?types=messages,threads,folders,quotas&${q}`);
    expect(ch.status).toBe(200);
    const t = ch.body.data.types;
    expect(t.messages!.updated.sort()).toEqual([...ids].sort());
    expect(t.threads!.updated.length).toBeGreaterThan(0);
    expect(t.folders!.updated.length).toBeGreaterThan(0);
    expect(t.quotas!.updated).toEqual([]);
    expect(t.quotas!.new_state).toBe(before.quotas);
    // A stale if_in_state is a 409 and changes nothing.
    const snap = await sim.snapshot();
    const stale = await api(sim, 'POST', '/mailbox/messages:batch-update', { body: { ids, seen: false, if_in_state: before.messages } });
    expect(stale.status).toBe(409);
    expect(stale.body.error?.code).toBe('conflict');
    expect(await sim.snapshot()).toEqual(snap);
  });

  it('moves exactly the dependent states: delivery, send, identity edit, folder rename', async () => {
    const sim = await withSim({ messages: 50 });
    const states = async () => (await api<Envelope<{ states: Record<string, string> }>>(sim, 'GET', '/mailbox/session')).body.data.states;
    const moved = (a: Record<string, string>, b: Record<string, string>) => Object.keys(a).filter((k) => a[k] !== b[k]).sort();
    let before = await states();
    await sim.control.deliver({ subject: 'new' });
    let after = await states();
    expect(moved(before, after)).toEqual(['folders', 'messages', 'quotas', 'threads']);
    before = after;
    await api(sim, 'POST', '/mailbox/messages/send', { body: { to: [{ email: 'x@example.com' }], subject: 'out', text_body: 'x' } });
    after = await states();
    expect(moved(before, after)).toEqual(['folders', 'messages', 'quotas', 'submissions', 'threads']);
    before = after;
    await sim.control.updateIdentity({ name: 'Renamed' });
    after = await states();
    expect(moved(before, after)).toEqual(['identities']);
    before = after;
    const custom = (await sim.snapshot()).folders.find((f) => f.role === null)!;
    await sim.control.renameFolder(custom.id, 'Renamed folder');
    after = await states();
    expect(moved(before, after)).toEqual(['folders']);
  });

  it('streams a delivery as message.received and replays it after Last-Event-ID', async () => {
    const sim = await withSim({ messages: 20 });
    const auth = { Authorization: `Bearer ${sim.apiKey}` };
    const s1 = await openSse(`${sim.url}/mailbox/events`, auth);
    expect(s1.status).toBe(200);
    const { id } = await sim.control.deliver({ subject: 'Hello live', text: 'Body' });
    await s1.until((ev) => ev.some((e) => e.event === 'message.received'));
    const first = s1.events.find((e) => e.event === 'message.received')!;
    expect(JSON.parse(first.data).message_id).toBe(id);
    s1.close();
    const { id: id2 } = await sim.control.deliver({ subject: 'While away' });
    const s2 = await openSse(`${sim.url}/mailbox/events`, { ...auth, 'Last-Event-ID': first.id! });
    await s2.until((ev) => ev.some((e) => e.event === 'message.received'));
    const replayed = s2.events.filter((e) => e.event === 'message.received').map((e) => JSON.parse(e.data).message_id);
    expect(replayed).toEqual([id2]);
    s2.close();
  });
});
