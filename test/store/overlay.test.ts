import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { Message } from '../../src/api/types.js';
import { putServerRecords } from '../../src/store/apply.js';
import { ALL_MESSAGES, type MailboxDb, type OutboxEntry } from '../../src/store/db.js';
import { membershipsOf } from '../../src/store/memberships.js';
import { recomputeVisible } from '../../src/store/overlay.js';
import { applyOps, type PendingOp } from '../../src/store/pending.js';
import { derivedFolder, derivedThread, freshDb, message } from './fixtures.js';

const FOLDERS = ['inbox', 'archive', 'trash'];
const THREADS = ['t1', 't2', 't3'];

let db: MailboxDb | undefined;
afterEach(async () => {
  db?.close();
  db = undefined;
});

async function serverWrite(d: MailboxDb, server: Map<string, Message>, opts: { messages?: Message[]; destroyed?: string[]; counters?: boolean }) {
  await d.transaction('rw', d.serverTables, async () => {
    await putServerRecords(d, 'messages', opts.messages ?? [], opts.destroyed ?? []);
    if (opts.counters) {
      await putServerRecords(d, 'folders', FOLDERS.map((f) => derivedFolder(f, server.values())));
      const threads = THREADS.map((t) => derivedThread(t, server.values()));
      await putServerRecords(
        d,
        'threads',
        threads.filter((t) => t !== undefined),
        THREADS.filter((_, i) => threads[i] === undefined),
      );
    }
  });
}

async function enqueue(d: MailboxDb, ids: string[], op: PendingOp): Promise<number> {
  return d.transaction('rw', d.overlayTables, async () => {
    const entry: OutboxEntry = { kind: op.kind === 'update' ? 'update' : 'remove', ids, op, status: 'pending', attempts: 0, created_at: 0 };
    const seq = await d.outbox.add(entry);
    await recomputeVisible(d, ids);
    return seq;
  });
}

async function settle(d: MailboxDb, seq: number, status: 'acked' | 'failed', serverAfter?: Message[]) {
  await d.transaction('rw', d.serverTables, async () => {
    const entry = await d.outbox.get(seq);
    if (!entry) throw new Error('no entry');
    await d.outbox.update(seq, { status });
    if (serverAfter) await putServerRecords(d, 'messages', serverAfter);
    await recomputeVisible(d, entry.ids);
  });
}

describe('recomputeVisible', () => {
  it('applies an optimistic read to the message, its folder and thread counters, and its index rows', async () => {
    db = freshDb();
    const server = new Map([
      ['m1', message({ id: 'm1' })],
      ['m2', message({ id: 'm2', received_at: '2026-01-02T00:00:00.000Z' })],
    ]);
    await serverWrite(db, server, { messages: [...server.values()], counters: true });
    expect((await db.folders.get('inbox'))?.unread_messages).toBe(2);

    const seq = await enqueue(db, ['m1'], { kind: 'update', patch: { seen: true } });
    expect((await db.messages.get('m1'))?.flags.seen).toBe(true);
    expect((await db.folders.get('inbox'))?.unread_messages).toBe(1);
    expect((await db.threads.get('t1'))?.unread_count).toBe(1);
    expect((await db.shadows.get('m1'))?.server).toEqual(server.get('m1'));
    const unreadRows = await db.folderIndex.where('[folder_id+unread+received_key]').between(['inbox', 1, -Infinity], ['inbox', 1, Infinity]).toArray();
    expect(unreadRows.map((r) => r.id)).toEqual(['m2']);

    // A server folder write while pending keeps the optimistic delta on top.
    await serverWrite(db, server, { counters: true });
    expect((await db.folders.get('inbox'))?.unread_messages).toBe(1);

    // Rollback restores the exact server records.
    await settle(db, seq, 'failed');
    expect(await db.messages.get('m1')).toEqual(server.get('m1'));
    expect(await db.folders.get('inbox')).toEqual(derivedFolder('inbox', server.values()));
    expect(await db.threads.get('t1')).toEqual(derivedThread('t1', server.values()));
    expect(await db.shadows.count()).toBe(0);
    expect(await db.folderBases.count()).toBe(0);
    expect(await db.threadBases.count()).toBe(0);
  });

  it('re-applies pending ops over a newer server version and shows the pending last message in its thread', async () => {
    db = freshDb();
    const server = new Map([['m1', message({ id: 'm1' })]]);
    await serverWrite(db, server, { messages: [...server.values()], counters: true });
    await enqueue(db, ['m1'], { kind: 'update', patch: { flagged: true } });
    expect((await db.threads.get('t1'))?.last_message?.flags.flagged).toBe(true);

    // Another device marks it read: the server copy changes, the flag stays applied.
    const remote = message({ id: 'm1', flags: { seen: true, flagged: false, draft: false, answered: false }, keywords: ['$seen'] });
    server.set('m1', remote);
    await serverWrite(db, server, { messages: [remote], counters: true });
    const visible = await db.messages.get('m1');
    expect(visible?.flags).toEqual({ seen: true, flagged: true, draft: false, answered: false });
    expect((await db.shadows.get('m1'))?.server).toEqual(remote);
    expect((await db.folders.get('inbox'))?.unread_messages).toBe(0);
    expect((await db.threads.get('t1'))?.last_message).toEqual(visible);
  });

  it('hides a message removed locally and keeps its server copy for a rollback', async () => {
    db = freshDb();
    const server = new Map([['m1', message({ id: 'm1' })]]);
    await serverWrite(db, server, { messages: [...server.values()], counters: true });
    const seq = await enqueue(db, ['m1'], { kind: 'remove', permanent: false, trashFolderId: 'trash' });
    expect((await db.messages.get('m1'))?.folder_ids).toEqual(['trash']);
    expect((await db.folders.get('inbox'))?.total_messages).toBe(0);
    expect((await db.folders.get('trash'))?.total_messages).toBe(1);
    const d = db;
    const rowsOf = async (folder: string) => (await d.folderIndex.where('[folder_id+received_key+id]').between([folder, -Infinity], [folder, Infinity], true, true).toArray()).map((r) => r.id);
    expect(await rowsOf('inbox')).not.toContain('m1');
    expect(await rowsOf('trash')).toContain('m1');
    // Server acks: the new server version is in Trash; no delta remains.
    const trashed = { ...(server.get('m1') as Message), folder_ids: ['trash'] };
    server.set('m1', trashed);
    await settle(db, seq, 'acked', [trashed]);
    await serverWrite(db, server, { counters: true });
    expect(await db.messages.get('m1')).toEqual(trashed);
    expect((await db.folders.get('trash'))?.total_messages).toBe(1);
    expect(await db.folderBases.count()).toBe(0);
  });
});

// Model-based: random interleavings of server writes (with or without fresh counters),
// enqueues, acks and rollbacks. Invariants after every run:
//   messages = applyOps(server, active ops); folders/threads counters = counts over
//   visible messages (server counters are consistent with server messages);
//   memberships = rows of visible messages; settling everything returns to the server.
type Action =
  | { t: 'server'; id: number; seen: boolean; flagged: boolean; folder: number; thread: number; del: boolean; counters: boolean }
  | { t: 'enqueue'; ids: number[]; op: PendingOp }
  | { t: 'settle'; which: number; ok: boolean };

const opArb: fc.Arbitrary<PendingOp> = fc.oneof(
  fc.record({ seen: fc.option(fc.boolean(), { nil: undefined }), flagged: fc.option(fc.boolean(), { nil: undefined }) }).map((patch) => ({ kind: 'update' as const, patch })),
  fc.boolean().map((permanent) => ({ kind: 'remove' as const, permanent, trashFolderId: 'trash' })),
);
const actionArb: fc.Arbitrary<Action> = fc.oneof(
  fc.record({ t: fc.constant('server' as const), id: fc.nat(5), seen: fc.boolean(), flagged: fc.boolean(), folder: fc.nat(2), thread: fc.nat(2), del: fc.boolean(), counters: fc.boolean() }),
  fc.record({ t: fc.constant('enqueue' as const), ids: fc.uniqueArray(fc.nat(5), { minLength: 1, maxLength: 3 }), op: opArb }),
  fc.record({ t: fc.constant('settle' as const), which: fc.nat(10), ok: fc.boolean() }),
);

function mkMessage(id: number, a: { seen: boolean; flagged: boolean; folder: number; thread: number }): Message {
  return message({
    id: `m${id}`,
    thread_id: THREADS[a.thread] as string,
    folder_ids: [FOLDERS[a.folder] as string],
    received_at: `2026-01-0${(id % 9) + 1}T00:00:00.000Z`,
    flags: { seen: a.seen, flagged: a.flagged, draft: false, answered: false },
    keywords: [...(a.seen ? ['$seen'] : []), ...(a.flagged ? ['$flagged'] : [])],
  });
}

async function checkInvariants(d: MailboxDb, server: Map<string, Message>) {
  const entries = (await d.outbox.orderBy('seq').toArray()).filter((e) => ['pending', 'sending', 'rebasing'].includes(e.status));
  const expected = new Map<string, Message>();
  const allIds = new Set([...server.keys(), ...entries.flatMap((e) => e.ids)]);
  for (const id of allIds) {
    const ops = entries.filter((e) => e.ids.includes(id)).map((e) => e.op as PendingOp);
    const v = applyOps(server.get(id), ops);
    if (v) expected.set(id, v);
  }
  const visible = await d.messages.toArray();
  expect(new Map(visible.map((m) => [m.id, m]))).toEqual(expected);
  for (const f of FOLDERS) {
    const want = derivedFolder(f, expected.values());
    expect(await d.folders.get(f)).toEqual(want);
  }
  for (const t of THREADS) {
    const got = await d.threads.get(t);
    const serverThread = derivedThread(t, server.values());
    if (!serverThread) {
      expect(got).toBeUndefined();
      continue;
    }
    const mine = [...expected.values()].filter((m) => m.thread_id === t);
    expect(got?.unread_count).toBe(mine.filter((m) => !m.flags.seen).length);
    expect(got?.message_count).toBe(mine.length);
  }
  const rows = await d.folderIndex.toArray();
  const wantRows = [...expected.values()].flatMap(membershipsOf);
  const key = (r: { folder_id: string; id: string }) => `${r.folder_id}/${r.id}`;
  expect(rows.sort((a, b) => key(a).localeCompare(key(b)))).toEqual(wantRows.sort((a, b) => key(a).localeCompare(key(b))));
  expect(rows.filter((r) => r.folder_id === ALL_MESSAGES).length).toBe(expected.size);
}

describe('overlay model', () => {
  it('keeps visible = server + pending through random interleavings', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(actionArb, { minLength: 1, maxLength: 25 }), async (actions) => {
        const d = freshDb();
        try {
          const server = new Map<string, Message>();
          for (let i = 0; i < 6; i++) server.set(`m${i}`, mkMessage(i, { seen: i % 2 === 0, flagged: false, folder: i % 3, thread: i % 3 }));
          await serverWrite(d, server, { messages: [...server.values()], counters: true });
          const seqs: number[] = [];
          for (const a of actions) {
            if (a.t === 'server') {
              const id = `m${a.id}`;
              if (a.del) {
                server.delete(id);
                await serverWrite(d, server, { destroyed: [id], counters: a.counters });
              } else {
                const m = mkMessage(a.id, a);
                server.set(id, m);
                await serverWrite(d, server, { messages: [m], counters: a.counters });
              }
            } else if (a.t === 'enqueue') {
              seqs.push(await enqueue(d, a.ids.map((i) => `m${i}`), a.op));
            } else if (seqs.length > 0) {
              const seq = seqs.splice(a.which % seqs.length, 1)[0] as number;
              const entry = await d.outbox.get(seq);
              if (a.ok && entry?.op) {
                // The server applied the op: its new versions come back with the ack.
                const after: Message[] = [];
                const destroyed: string[] = [];
                for (const id of entry.ids) {
                  const cur = server.get(id);
                  const next = applyOps(cur, [entry.op]);
                  if (next) {
                    server.set(id, next);
                    after.push(next);
                  } else if (cur) {
                    server.delete(id);
                    destroyed.push(id);
                  }
                }
                await d.transaction('rw', d.serverTables, async () => {
                  await d.outbox.update(seq, { status: 'acked' });
                  await putServerRecords(d, 'messages', after, destroyed);
                  await recomputeVisible(d, entry.ids);
                });
              } else {
                await settle(d, seq, 'failed');
              }
            }
          }
          await serverWrite(d, server, { counters: true });
          await checkInvariants(d, server);
          for (const seq of seqs) await settle(d, seq, 'failed');
          await checkInvariants(d, server);
          expect(await d.shadows.count()).toBe(0);
          expect(await d.folderBases.count()).toBe(0);
          expect(await d.threadBases.count()).toBe(0);
          for (const t of THREADS) expect(await d.threads.get(t)).toEqual(derivedThread(t, server.values()));
        } finally {
          d.close();
        }
      }),
      { numRuns: 60, seed: Number(process.env.FC_SEED ?? 4242) },
    );
  });
});
