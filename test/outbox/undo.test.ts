// Undo of a remove (issue 18): `remove(ids, { delayMs, signal })` moves the messages
// to Trash locally at once, the outbox holds the request for the delay (across a
// reload too), and aborting the signal before it is sent rolls the move back exactly;
// the server never sees it. Against the simulator over real HTTP (fake-indexeddb).
import { testStore } from '../helpers/storage.js';
import { firstValueFrom } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import type { Folder, Message } from '../../src/api/types.js';
import { cancelMutation, enqueueMutations, setMutationStatus } from '../../src/store/outbox.js';
import { MailboxDb } from '../../src/store/db.js';
import { planRound } from '../../src/sync/outboxPlan.js';
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

const role = (folders: Folder[], r: string) => folders.find((f) => f.role === r) as Folder;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function inboxMessage(sim: Simulator): Promise<{ id: string; inbox: Folder; trash: Folder }> {
  const snap = await sim.snapshot();
  const inbox = role(snap.folders, 'inbox');
  const trash = role(snap.folders, 'trash');
  const m = snap.messages.find((x: Message) => x.folder_ids.includes(inbox.id) && !x.flags.seen);
  if (!m) throw new Error('the seeded mailbox has no unread inbox message');
  return { id: m.id, inbox, trash };
}

describe('remove() with an undo window', () => {
  it('moves to Trash at once, sends nothing while held, and an abort restores the message exactly; the server never sees it', async () => {
    s = await sim();
    const net = controlledFetch();
    const w = await started(s, { fetch: net.fetch });
    const { id, inbox } = await inboxMessage(s);
    const before = await firstValueFrom(w.sync.message$(id));
    const foldersBefore = await firstValueFrom(w.sync.folders$());
    const undo = new AbortController();

    const outcome = w.remove([id], { delayMs: 60_000, signal: undo.signal });
    await eventually(async () => !(await firstValueFrom(w.sync.messageIds$({ folderId: inbox.id }))).includes(id), 5000, 'left the inbox locally');
    expect(role(await firstValueFrom(w.sync.folders$()), 'inbox').total_messages).toBe(role(foldersBefore, 'inbox').total_messages - 1);
    await w.outbox.then((o) => o.flush());
    await sleep(100);
    expect(requests(s, BATCH_DELETE)).toBe(0);

    undo.abort();
    expect(await outcome).toEqual([{ id, status: 'rolled_back', reason: 'cancelled' }]);
    expect(await firstValueFrom(w.sync.message$(id))).toEqual(before);
    expect(await firstValueFrom(w.sync.folders$())).toEqual(foldersBefore);
    expect(await firstValueFrom(w.sync.messageIds$({ folderId: inbox.id }))).toContain(id);
    expect(requests(s, BATCH_DELETE)).toBe(0);
    expect((await s.snapshot()).messages.find((m) => m.id === id)?.folder_ids).toEqual([inbox.id]);
    await converge(w, s);
  });

  it('sends the remove when the delay ends; an abort after that changes nothing', async () => {
    s = await sim();
    const w = await started(s);
    const { id, trash } = await inboxMessage(s);
    const undo = new AbortController();
    const started_ = Date.now();
    const outcomes = await w.remove([id], { delayMs: 400, signal: undo.signal });
    expect(Date.now() - started_).toBeGreaterThanOrEqual(390);
    expect(outcomes).toEqual([{ id, status: 'applied' }]);
    expect((await s.snapshot()).messages.find((m) => m.id === id)?.folder_ids).toEqual([trash.id]);
    undo.abort();
    await sleep(50);
    expect((await s.snapshot()).messages.find((m) => m.id === id)?.folder_ids).toEqual([trash.id]);
    expect(requests(s, BATCH_DELETE)).toBe(1);
    await converge(w, s);
  });

  it('keeps holding across a reload: the next engine sends it only once the delay ends', async () => {
    s = await sim();
    const store = testStore();
    const first = await started(s, { store });
    const { id, trash } = await inboxMessage(s);
    const at = Date.now();
    void first.remove([id], { delayMs: 1500 }).catch(() => undefined);
    await eventually(async () => (await firstValueFrom(first.sync.message$(id)))?.folder_ids[0] === trash.id, 5000, 'moved locally');
    await first.stop();

    const second = await started(s, { store });
    // Still moved locally (the entry is durable), still not sent.
    expect((await firstValueFrom(second.sync.message$(id)))?.folder_ids).toEqual([trash.id]);
    await second.outbox.then((o) => o.flush());
    expect(requests(s, BATCH_DELETE)).toBe(0);
    await eventually(() => requests(s as Simulator, BATCH_DELETE) === 1, 10_000, 'sent after the delay');
    expect(Date.now() - at).toBeGreaterThanOrEqual(1450);
    await eventually(async () => (await s?.snapshot())?.messages.find((m) => m.id === id)?.folder_ids[0] === trash.id, 5000, 'in Trash on the server');
    await eventually(async () => (await second.outbox.then((o) => o.flush()), true), 5000, 'flushed');
    await converge(second, s);
  });

  it('a later mutation of the same message waits behind the held remove, and goes at once when the remove is cancelled', async () => {
    s = await sim();
    const w = await started(s);
    const { id } = await inboxMessage(s);
    const other = (await s.snapshot()).messages.find((m) => m.id !== id) as Message;
    const undo = new AbortController();
    const removed = w.remove([id], { delayMs: 60_000, signal: undo.signal });
    const marked = w.update([id], { flagged: true });
    const unrelated = await w.update([other.id], { flagged: !other.flags.flagged });
    expect(unrelated).toEqual([{ id: other.id, status: 'applied' }]);
    expect(requests(s, BATCH_UPDATE)).toBe(1); // only the unrelated one
    undo.abort();
    expect(await removed).toEqual([{ id, status: 'rolled_back', reason: 'cancelled' }]);
    expect(await marked).toEqual([{ id, status: 'applied' }]);
    expect((await s.snapshot()).messages.find((m) => m.id === id)?.flags.flagged).toBe(true);
    expect(requests(s, BATCH_DELETE)).toBe(0);
    await converge(w, s);
  });

  it('refuses a bad delay or signal with a TypeError that says what to pass', () => {
    const w = wire({ apiKey: 'k', url: 'http://127.0.0.1:9' } as unknown as Simulator);
    engines.push(w);
    expect(() => w.remove(['m1'], { delayMs: -1 })).toThrow(/delayMs must be a number of milliseconds/);
    expect(() => w.remove(['m1'], { delayMs: 2 * 60 * 60_000 })).toThrow(/1 hour/);
    expect(() => w.remove(['m1'], { signal: {} as AbortSignal })).toThrow(/AbortSignal/);
  });
});

describe('held entries in the store and the planner', () => {
  it('cancelMutation rolls back a pending entry and a claim after it sends nothing; an entry in flight cannot be cancelled', async () => {
    const db = new MailboxDb('undo-store', { ...testStore().options });
    try {
      const [a, b] = await enqueueMutations(
        db,
        [
          { kind: 'remove', ids: ['m1', 'm2'], permanent: false, delayMs: 5000 },
          { kind: 'update', ids: ['m3'], patch: { seen: true } },
        ],
        'origin-1',
        1_000,
      );
      const held = await db.outbox.get(a as number);
      expect(held?.mutation?.hold_until).toBe(6_000);
      expect(await cancelMutation(db, a as number, { keepSettled: () => false, now: 2_000 })).toEqual([
        { id: 'm1', status: 'rolled_back', reason: 'cancelled' },
        { id: 'm2', status: 'rolled_back', reason: 'cancelled' },
      ]);
      expect(await db.outbox.get(a as number)).toBeUndefined();
      // The flusher read it before the cancel: its claim now moves nothing, so nothing is sent.
      expect(await setMutationStatus(db, [a as number, b as number], 'sending')).toEqual([b]);
      expect(await cancelMutation(db, b as number, { keepSettled: () => false, now: 2_000 })).toBeUndefined();
    } finally {
      db.close();
    }
  });

  it('planRound sends nothing of a held entry and holds back later entries that share an id with it', () => {
    const remove = { kind: 'remove', permanent: false, trashFolderId: 't' } as const;
    const flag = { kind: 'update', patch: { flagged: true } } as const;
    const plan = planRound(
      [
        { seq: 1, ids: ['a', 'b'], op: remove, held: true },
        { seq: 2, ids: ['b', 'c'], op: flag },
        { seq: 3, ids: ['d'], op: flag },
        { seq: 4, ids: ['c'], op: flag },
      ],
      100,
    );
    expect(plan.waiting).toEqual([1, 2, 4]);
    expect(plan.deferred).toEqual([]);
    expect(plan.batches).toEqual([{ op: flag, force: false, items: [{ seq: 3, id: 'd' }] }]);
  });
});
