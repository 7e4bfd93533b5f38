// Optimistic mutations against the simulator over real HTTP (fake-indexeddb):
// optimistic effect before the request, fast-forward without refetch, conflict →
// rebase, rollback, coalescing.
import { afterEach, describe, expect, it } from 'vitest';
import { firstValueFrom } from 'rxjs';
import type { Folder, Message } from '../../src/api/types.js';
import type { MutationOutcome } from '../../src/reactive/mutations.js';
import type { SyncError } from '../../src/sync/errors.js';
import { BATCH_DELETE, BATCH_UPDATE, controlledFetch, converge, eventually, requests, sim, wire, type Simulator, type Wired } from './helpers.js';

let s: Simulator | undefined;
const engines: Wired[] = [];
afterEach(async () => {
  for (const e of engines.splice(0)) await e.stop();
  await s?.close();
  s = undefined;
});

async function started(sim: Simulator, options: Parameters<typeof wire>[1] = {}): Promise<Wired> {
  const w = wire(sim, options);
  engines.push(w);
  await w.sync.start();
  return w;
}

const inboxOf = (folders: Folder[]) => folders.find((f) => f.role === 'inbox') as Folder;

async function pick(sim: Simulator, pred: (m: Message) => boolean, n = 1): Promise<Message[]> {
  const snap = await sim.snapshot();
  const found = snap.messages.filter(pred).slice(0, n);
  if (found.length < n) throw new Error('the seeded mailbox has too few matching messages');
  return found;
}

describe('optimistic mutations', () => {
  it('show in messages$, count$ and folders$ before the request is sent, then fast-forward without a refetch', async () => {
    s = await sim();
    const net = controlledFetch();
    const w = await started(s, { fetch: net.fetch });
    const inbox = inboxOf(await firstValueFrom(w.sync.folders$()));
    const [target] = await pick(s, (m) => !m.flags.seen && m.folder_ids.includes(inbox.id));
    const id = (target as Message).id;
    const unreadBefore = await firstValueFrom(w.sync.count$({ folderId: inbox.id, unread: true }));

    // Live subscriptions log what the app sees, in order with the request.
    const log: string[] = [];
    const subs = [
      // (count$ is checked by fresh reads below: a live count$ over the membership index
      // does not re-emit on a flag change, a views issue reported to the engine owner.)
      w.sync.messages$({ folderId: inbox.id, unread: true }).subscribe((ms) => log.push(`count ${ms.length}`)),
      w.sync.message$(id).subscribe((m) => log.push(`message seen=${String(m?.flags.seen)}`)),
      w.sync.folders$().subscribe((fs) => log.push(`folder unread ${inboxOf(fs).unread_messages}`)),
    ];
    await eventually(() => log.length >= 3, 5000, 'initial emissions');
    const held = net.hold('/mailbox/messages:batch-update');
    const outcome = w.update([id], { seen: true });
    await held.arrived;
    // The request is parked in the fetch wrapper: the server has not seen it...
    expect((await s.snapshot()).messages.find((m) => m.id === id)?.flags.seen).toBe(false);
    // ...but every view already shows the change: fresh reads, and the live subscriptions.
    expect(await firstValueFrom(w.sync.count$({ folderId: inbox.id, unread: true }))).toBe(unreadBefore - 1);
    expect((await firstValueFrom(w.sync.message$(id)))?.flags.seen).toBe(true);
    expect(inboxOf(await firstValueFrom(w.sync.folders$())).unread_messages).toBe(inbox.unread_messages - 1);
    const changed = [`count ${unreadBefore - 1}`, 'message seen=true', `folder unread ${inbox.unread_messages - 1}`];
    await eventually(() => changed.every((l) => log.includes(l)), 5000, `live views while the request is held: ${log.join(' | ')}`);
    log.push('request released');
    const request = log.indexOf('request released');
    const getsBefore = requests(s, 'POST /mailbox/messages:batch-get');
    held.release();
    expect(await outcome).toEqual([{ id, status: 'applied' }]);
    // Fast-forward: no batch-get of the acknowledged message, and no flicker back.
    expect(requests(s, 'POST /mailbox/messages:batch-get')).toBe(getsBefore);
    await new Promise((r) => setTimeout(r, 50));
    for (const sub of subs) sub.unsubscribe();
    const afterRequest = log.slice(request + 1);
    expect(afterRequest.filter((l) => l.startsWith('count')).every((l) => l === `count ${unreadBefore - 1}`)).toBe(true);
    expect(afterRequest).not.toContain('message seen=false');
    expect(afterRequest.filter((l) => l.startsWith('folder')).every((l) => l === `folder unread ${inbox.unread_messages - 1}`)).toBe(true);
    expect(net.bodies('/mailbox/messages:batch-update')[0]).toMatchObject({ ids: [id], seen: true, if_in_state: expect.any(String) });
    await converge(w, s);
  });

  it('remove moves to Trash optimistically (counters of both folders move), permanent removes delete', async () => {
    s = await sim();
    const w = await started(s);
    const folders = await firstValueFrom(w.sync.folders$());
    const inbox = inboxOf(folders);
    const trash = folders.find((f) => f.role === 'trash') as Folder;
    const [a, b] = await pick(s, (m) => m.folder_ids.length === 1 && m.folder_ids[0] === inbox.id, 2);
    const trashed = w.remove([(a as Message).id]);
    const destroyed = w.remove([(b as Message).id], { permanent: true });
    // The local commit precedes any request; views follow it.
    await eventually(async () => inboxOf(await firstValueFrom(w.sync.folders$())).total_messages === inbox.total_messages - 2, 5000, 'optimistic counters');
    const after = await firstValueFrom(w.sync.folders$());
    expect(inboxOf(after).total_messages).toBe(inbox.total_messages - 2);
    expect(after.find((f) => f.id === trash.id)?.total_messages).toBe(trash.total_messages + 1);
    expect((await firstValueFrom(w.sync.message$((a as Message).id)))?.folder_ids).toEqual([trash.id]);
    expect(await firstValueFrom(w.sync.message$((b as Message).id))).toBeUndefined();
    expect(await trashed).toEqual([{ id: (a as Message).id, status: 'applied' }]);
    expect(await destroyed).toEqual([{ id: (b as Message).id, status: 'applied' }]);
    expect(requests(s, BATCH_DELETE)).toBe(2);
    await converge(w, s);
  });
});

describe('conflicts', () => {
  it('a remote change between the mutation and its send: 409, pull, rebase, retry with the new state', async () => {
    s = await sim();
    const net = controlledFetch();
    const w = await started(s, { fetch: net.fetch });
    const [target] = await pick(s, (m) => !m.flags.seen && !m.flags.flagged);
    const id = (target as Message).id;
    const held = net.hold('/mailbox/messages:batch-update');
    const outcome = w.update([id], { seen: true });
    await held.arrived;
    // Another device flags the same message while our request is in flight.
    await s.control.setFlags([id], { flagged: true });
    held.release();
    expect(await outcome).toEqual([{ id, status: 'rebased' }]);
    const bodies = net.bodies('/mailbox/messages:batch-update');
    expect(bodies).toHaveLength(2);
    expect(bodies[1]?.if_in_state).not.toBe(bodies[0]?.if_in_state);
    // Visible = the new server record (flagged) + our op (seen).
    const local = await firstValueFrom(w.sync.message$(id));
    expect(local?.flags).toMatchObject({ seen: true, flagged: true });
    await converge(w, s);
  });

  it("policy 'force' sends without if_in_state after the bounded rebases; 'fail' rolls back", async () => {
    s = await sim();
    const net = controlledFetch();
    const w = await started(s, { fetch: net.fetch, outbox: { maxRebases: 1, conflict: 'force' } });
    const [a] = await pick(s, (m) => !m.flags.flagged);
    await s.control.failNext({ count: 2, status: 409, path: '/mailbox/messages:batch-update' });
    expect(await w.update([(a as Message).id], { flagged: true })).toEqual([{ id: (a as Message).id, status: 'rebased' }]);
    const bodies = net.bodies('/mailbox/messages:batch-update');
    expect(bodies.map((b) => 'if_in_state' in b)).toEqual([true, true, false]);
    await converge(w, s);
    await w.stop();
    engines.splice(0);

    const net2 = controlledFetch();
    const v = await started(s, { fetch: net2.fetch, outbox: { maxRebases: 1, conflict: 'fail' } });
    const [b] = await pick(s, (m) => !m.flags.flagged);
    const server = (await s.snapshot()).messages.find((m) => m.id === (b as Message).id);
    await s.control.failNext({ count: 2, status: 409, path: '/mailbox/messages:batch-update' });
    const [out] = await v.update([(b as Message).id], { flagged: true });
    expect(out).toMatchObject({ id: (b as Message).id, status: 'rolled_back', reason: 'conflict', error: { code: 'conflict', status: 409 } });
    expect(net2.bodies('/mailbox/messages:batch-update')).toHaveLength(2);
    expect(await firstValueFrom(v.sync.message$((b as Message).id))).toEqual(server);
    await converge(v, s);
  });
});

describe('rollback', () => {
  it('a permanent failure restores the exact server record and counters and emits rolled_back', async () => {
    s = await sim();
    const w = await started(s);
    const folders = await firstValueFrom(w.sync.folders$());
    const inbox = inboxOf(folders);
    const [target] = await pick(s, (m) => !m.flags.seen && m.folder_ids.includes(inbox.id));
    const id = (target as Message).id;
    const before = await firstValueFrom(w.sync.message$(id));
    const threadBefore = await firstValueFrom(w.sync.thread$((target as Message).thread_id as string));
    const emitted: MutationOutcome[] = [];
    const errors: SyncError[] = [];
    const subs = [w.outcomes$.subscribe((o) => emitted.push(o)), w.sync.errors$.subscribe((e) => errors.push(e))];
    await s.control.failNext({ count: 1, status: 422, path: '/mailbox/messages:batch-update' });
    const outcome = w.update([id], { seen: true, keywords: { Triaged: true } });
    const [out] = await outcome;
    expect(out).toMatchObject({ id, status: 'rolled_back', reason: 'rejected', error: { status: 422 } });
    expect(emitted).toEqual([out]);
    expect(errors.length).toBeGreaterThan(0);
    expect(await firstValueFrom(w.sync.message$(id))).toEqual(before);
    expect(await firstValueFrom(w.sync.folders$())).toEqual(folders);
    expect(await firstValueFrom(w.sync.thread$((target as Message).thread_id as string))).toEqual(threadBefore);
    for (const sub of subs) sub.unsubscribe();
    await converge(w, s);
  });

  it('a message destroyed elsewhere: update rolls back with not_found, remove counts as done', async () => {
    s = await sim();
    const w = await started(s);
    const [a, b] = await pick(s, (m) => !m.flags.flagged, 2);
    const ids = [(a as Message).id, (b as Message).id];
    await s.control.destroy(ids);
    // The replica still has both (no pull yet): the sends meet 409, pull, then not_found.
    const [upd, rem] = await Promise.all([w.update([ids[0] as string], { flagged: true }), w.remove([ids[1] as string])]);
    expect(upd).toEqual([{ id: ids[0], status: 'rolled_back', reason: 'not_found' }]);
    // The remove went out only after the update's conflict was rebased: applied (already gone).
    expect(rem).toEqual([{ id: ids[1], status: 'applied', reason: 'not_found' }]);
    expect(await firstValueFrom(w.sync.message$(ids[0] as string))).toBeUndefined();
    await converge(w, s);
  });

  it('per-id failures in a batch result roll back just those ids', async () => {
    s = await sim();
    const w = await started(s);
    const [a] = await pick(s, (m) => !m.flags.flagged);
    const missing = 'msg_does_not_exist';
    const out = await w.update([(a as Message).id, missing], { flagged: true });
    expect(out).toEqual([
      { id: (a as Message).id, status: 'applied' },
      { id: missing, status: 'rolled_back', reason: 'not_found' },
    ]);
    expect((await firstValueFrom(w.sync.message$((a as Message).id)))?.flags.flagged).toBe(true);
    await converge(w, s);
  });
});

describe('coalescing', () => {
  it('500 update calls within a tick become at most 5 batch requests', async () => {
    s = await sim({ messages: 600 });
    const w = await started(s);
    const ids = (await s.snapshot()).messages.slice(0, 500).map((m) => m.id);
    const before = requests(s, BATCH_UPDATE);
    const calls = ids.map((id) => w.update([id], { keywords: { bulk: true } }));
    const outcomes = (await Promise.all(calls)).flat();
    expect(outcomes).toHaveLength(500);
    expect(outcomes.every((o) => o.status === 'applied')).toBe(true);
    expect(requests(s, BATCH_UPDATE) - before).toBeLessThanOrEqual(5);
    await converge(w, s);
  });

  it('ops of one id reach the server in order (toggle spam ends in the last state)', async () => {
    s = await sim();
    const net = controlledFetch();
    const w = await started(s, { fetch: net.fetch });
    const [a, b] = await pick(s, () => true, 2);
    const ida = (a as Message).id;
    const idb = (b as Message).id;
    const calls = [w.update([ida], { flagged: true }), w.update([ida, idb], { flagged: false }), w.update([ida], { flagged: true }), w.update([idb], { flagged: true })];
    await Promise.all(calls);
    const sent = net.bodies('/mailbox/messages:batch-update').map((b) => `${String(b.flagged)}:${(b.ids as string[]).join(',')}`);
    expect(sent).toEqual([`true:${ida}`, `false:${ida},${idb}`, `true:${ida},${idb}`]);
    const server = (await s.snapshot()).messages;
    expect(server.find((m) => m.id === ida)?.flags.flagged).toBe(true);
    expect(server.find((m) => m.id === idb)?.flags.flagged).toBe(true);
    await converge(w, s);
  });
});

describe('input checks', () => {
  it('throw a TypeError that says the fix', async () => {
    s = await sim();
    const w = wire(s);
    engines.push(w);
    expect(() => w.update(['m'], {})).toThrow(/nothing to change/);
    expect(() => w.update('m' as unknown as string[], { seen: true })).toThrow(/array of message ids/);
    expect(() => w.update(['m'], { keywords: { $draft: true } })).toThrow(/read-only/);
    expect(() => w.update(['m'], { folder_id: 'x' } as never)).toThrow(/remove\(\)/);
    expect(await w.update([], { seen: true })).toEqual([]);
  });
});
