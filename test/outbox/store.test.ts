// The store half of the outbox without network (fake-indexeddb): enqueue applies the
// optimistic effect; settling folds applied ops into the server copies (and
// fast-forwards the token atomically) or drops rolled-back ones. Model-based: at
// every step the visible records equal "server model + pending ops in order", and
// folder/thread counters equal the counters derived from the visible messages.
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { Message } from '../../src/api/types.js';
import { getTokens, putServerRecords, setTokens } from '../../src/store/apply.js';
import type { MailboxDb } from '../../src/store/db.js';
import {
  activeMutations,
  enqueueMutations,
  pruneSettled,
  settleMutations,
  takeSettled,
  type NewMutation,
  type Settlement,
} from '../../src/store/outbox.js';
import { applyOps, type PendingOp } from '../../src/store/pending.js';
import { planRound } from '../../src/sync/outboxPlan.js';
import { derivedFolder, derivedThread, freshDb, message } from '../store/fixtures.js';

const dbs: MailboxDb[] = [];
afterEach(() => {
  for (const db of dbs.splice(0)) db.close();
});

const FOLDERS = ['inbox', 'archive', 'trash'];
const IDS = ['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7'];

function seedMessages(): Map<string, Message> {
  return new Map(
    IDS.map((id, i) => [
      id,
      message({
        id,
        thread_id: `t${i % 3}`,
        folder_ids: [FOLDERS[i % 2] as string],
        received_at: `2026-01-0${i + 1}T00:00:00.000Z`,
        flags: { seen: i % 3 === 0, flagged: false, draft: false, answered: false },
      }),
    ]),
  );
}

async function seeded(model: Map<string, Message>): Promise<MailboxDb> {
  const db = freshDb();
  dbs.push(db);
  await db.open();
  const all = [...model.values()];
  await db.transaction('rw', db.serverTables, async () => {
    const folders = FOLDERS.map((f) => ({ ...derivedFolder(f, all), ...(f === 'trash' ? { role: 'trash' } : {}) }));
    await putServerRecords(db, 'folders', folders);
    await putServerRecords(db, 'messages', all);
    const threads = ['t0', 't1', 't2'].map((t) => derivedThread(t, all)).filter((t) => t !== undefined);
    await putServerRecords(db, 'threads', threads);
    await setTokens(db, { messages: 'S0', folders: 'F0', threads: 'T0' });
  });
  return db;
}

/** Visible state must equal model + pending ops, with counters derived from it. */
async function checkInvariant(db: MailboxDb, model: Map<string, Message>): Promise<void> {
  const entries = await activeMutations(db);
  const expected = new Map<string, Message>();
  for (const [id, server] of model) {
    const ops: PendingOp[] = entries.filter((e) => e.ids.includes(id)).map((e) => e.op);
    const visible = applyOps(server, ops);
    if (visible) expected.set(id, visible);
  }
  const local = new Map((await db.messages.toArray()).map((m) => [m.id, m]));
  expect(local).toEqual(expected);
  const visible = [...expected.values()];
  for (const f of await db.folders.toArray()) {
    const d = derivedFolder(f.id, visible);
    expect({ id: f.id, total: f.total_messages, unread: f.unread_messages }).toEqual({ id: f.id, total: d.total_messages, unread: d.unread_messages });
  }
  for (const t of await db.threads.toArray()) {
    const d = derivedThread(t.id, visible);
    expect({ id: t.id, count: t.message_count, unread: t.unread_count }).toEqual({ id: t.id, count: d?.message_count ?? 0, unread: d?.unread_count ?? 0 });
  }
  // Every index row matches a visible message's folders.
  const rows = await (await db.folderIndex.toArray()).filter((r) => FOLDERS.includes(r.folder_id));
  const expectedRows = visible.flatMap((m) => m.folder_ids.map((f) => `${f}:${m.id}`)).sort();
  expect(rows.map((r) => `${r.folder_id}:${r.id}`).sort()).toEqual(expectedRows);
}

const mutationArb: fc.Arbitrary<NewMutation> = fc.oneof(
  fc.record({
    kind: fc.constant('update' as const),
    ids: fc.uniqueArray(fc.constantFrom(...IDS), { minLength: 1, maxLength: 3 }),
    patch: fc.oneof(
      fc.record({ seen: fc.boolean() }),
      fc.record({ flagged: fc.boolean() }),
      fc.record({ keywords: fc.dictionary(fc.constantFrom('a', 'B', 'c'), fc.boolean(), { minKeys: 1, maxKeys: 2 }) }),
    ),
  }),
  fc.record({ kind: fc.constant('remove' as const), ids: fc.uniqueArray(fc.constantFrom(...IDS), { minLength: 1, maxLength: 2 }), permanent: fc.boolean() }),
);

type Step = { type: 'enqueue'; mutation: NewMutation } | { type: 'settle'; verdict: 'apply' | 'keep' | 'gone'; fastForward: boolean };
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: mutationArb.map((mutation) => ({ type: 'enqueue' as const, mutation })) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('settle' as const), verdict: fc.constantFrom('apply' as const, 'keep' as const, 'gone' as const), fastForward: fc.boolean() }) },
);

/** Settles the first planned batch like the flusher, updating the server model alike. */
async function settleFirstBatch(db: MailboxDb, model: Map<string, Message>, verdict: 'apply' | 'keep' | 'gone', fastForward: boolean, n: number): Promise<boolean> {
  const entries = await activeMutations(db);
  const plan = planRound(entries, 100);
  const batch = plan.batches[0];
  if (!batch) return false;
  const settlements: Settlement[] = batch.items.map(({ seq, id }) => ({
    seq,
    id,
    server: verdict,
    outcome: verdict === 'keep' ? { id, status: 'rolled_back', reason: 'rejected' } : { id, status: 'applied' },
  }));
  const oldState = (await getTokens(db)).messages as string;
  const ok = await settleMutations(db, settlements, { keepSettled: () => false, now: n, ...(fastForward ? { fastForward: { oldState, newState: `S${n}` } } : {}) });
  expect(ok).toBe(true);
  expect((await getTokens(db)).messages).toBe(fastForward ? `S${n}` : oldState);
  for (const { id } of batch.items) {
    const server = model.get(id);
    if (verdict === 'gone') model.delete(id);
    else if (verdict === 'apply' && server) {
      const next = applyOps(server, [batch.op]);
      if (next) model.set(id, next);
      else model.delete(id);
    }
  }
  return true;
}

describe('store/outbox (model-based)', () => {
  it('enqueue and settle keep visible = server + pending, with derived counters, at every step', async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 14 }), async (steps) => {
        runs += 1;
        const model = seedMessages();
        const db = await seeded(model);
        let n = 0;
        for (const step of steps) {
          n += 1;
          if (step.type === 'enqueue') await enqueueMutations(db, [step.mutation], 'me', n);
          else await settleFirstBatch(db, model, step.verdict, step.fastForward, n);
          await checkInvariant(db, model);
        }
        // Drain: everything settles; no shadows or bases are left behind.
        while (await settleFirstBatch(db, model, 'apply', true, ++n)) await checkInvariant(db, model);
        expect(await db.shadows.count()).toBe(0);
        expect(await db.outbox.count()).toBe(0);
        db.close();
      }),
      { seed: 11, numRuns: 40 },
    );
    expect(runs).toBe(40);
  });

  it('a fast-forward from a state the replica is no longer at writes nothing', async () => {
    const model = seedMessages();
    const db = await seeded(model);
    const [seq] = await enqueueMutations(db, [{ kind: 'update', ids: ['m1'], patch: { flagged: true } }], 'me', 1);
    const before = await db.messages.toArray();
    const ok = await settleMutations(db, [{ seq: seq as number, id: 'm1', server: 'apply', outcome: { id: 'm1', status: 'applied' } }], {
      fastForward: { oldState: 'S-other', newState: 'S9' },
      keepSettled: () => false,
      now: 2,
    });
    expect(ok).toBe(false);
    expect((await getTokens(db)).messages).toBe('S0');
    expect((await activeMutations(db)).map((e) => e.ids)).toEqual([['m1']]);
    expect(await db.messages.toArray()).toEqual(before);
  });

  it('settled entries of another origin are kept for it to take, then pruned', async () => {
    const db = await seeded(seedMessages());
    const [s1, s2] = await enqueueMutations(
      db,
      [
        { kind: 'update', ids: ['m1', 'm2'], patch: { seen: true } },
        { kind: 'remove', ids: ['m3'], permanent: false },
      ],
      'tab-b',
      1,
    );
    const keep = { keepSettled: () => true, now: 100 };
    await settleMutations(db, [{ seq: s1 as number, id: 'm1', server: 'apply', outcome: { id: 'm1', status: 'applied' } }], keep);
    expect(await takeSettled(db, 'tab-b')).toEqual([]); // m2 is still pending
    await settleMutations(db, [{ seq: s1 as number, id: 'm2', server: 'keep', outcome: { id: 'm2', status: 'rolled_back', reason: 'failed' } }], keep);
    await settleMutations(db, [{ seq: s2 as number, id: 'm3', server: 'apply', outcome: { id: 'm3', status: 'applied' } }], { ...keep, now: 5 });
    expect(await takeSettled(db, 'tab-a')).toEqual([]);
    const taken = await takeSettled(db, 'tab-b');
    expect(taken.map((e) => [e.seq, e.status, e.mutation.outcomes])).toEqual([
      [s1, 'acked', [{ id: 'm1', status: 'applied' }, { id: 'm2', status: 'rolled_back', reason: 'failed' }]],
      [s2, 'acked', [{ id: 'm3', status: 'applied' }]],
    ]);
    expect(await db.outbox.count()).toBe(0);

    const [s3] = await enqueueMutations(db, [{ kind: 'update', ids: ['m4'], patch: { flagged: true } }], 'gone-tab', 200);
    await settleMutations(db, [{ seq: s3 as number, id: 'm4', server: 'keep', outcome: { id: 'm4', status: 'rolled_back', reason: 'rejected' } }], { ...keep, now: 300 });
    expect((await db.outbox.get(s3 as number))?.status).toBe('failed');
    expect(await pruneSettled(db, 300)).toBe(0);
    expect(await pruneSettled(db, 301)).toBe(1);
    expect(await db.outbox.count()).toBe(0);
  });

  it('a move to Trash enqueued before the Trash folder was known is folded in once it is (never fast-forwarded blind)', async () => {
    const model = seedMessages();
    const db = freshDb();
    dbs.push(db);
    await db.open();
    const all = [...model.values()];
    await db.transaction('rw', db.serverTables, async () => {
      await putServerRecords(db, 'folders', [derivedFolder('inbox', all), derivedFolder('archive', all)]);
      await putServerRecords(db, 'messages', all);
      await setTokens(db, { messages: 'S0' });
    });
    const [seq] = await enqueueMutations(db, [{ kind: 'remove', ids: ['m0'], permanent: false }], 'me', 1);
    expect((await activeMutations(db))[0]?.op).toEqual({ kind: 'remove', permanent: false, trashFolderId: null });
    const settle = (fastForward: { oldState: string; newState: string }) =>
      settleMutations(db, [{ seq: seq as number, id: 'm0', server: 'apply', outcome: { id: 'm0', status: 'applied' } }], { fastForward, keepSettled: () => false, now: 2 });
    expect(await settle({ oldState: 'S0', newState: 'S1' })).toBe(false);
    expect((await getTokens(db)).messages).toBe('S0');
    await db.transaction('rw', db.serverTables, () => putServerRecords(db, 'folders', [{ ...derivedFolder('trash', all), role: 'trash' }]));
    expect(await settle({ oldState: 'S0', newState: 'S1' })).toBe(true);
    expect((await db.messages.get('m0'))?.folder_ids).toEqual(['trash']);
    expect((await db.folders.get('trash'))?.total_messages).toBe(1);
    expect((await getTokens(db)).messages).toBe('S1');
  });
});
