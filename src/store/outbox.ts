// Transactional outbox functions for optimistic message mutations (DESIGN.md
// invariants 3 and 4). No network here: the flusher (src/sync/outbox.ts) decides,
// these functions commit.
//
// - enqueue: in ONE transaction, append the entry (kind, ids, op) and recompute the
//   visible records (overlay.ts keeps the server copy in `shadows` and moves
//   folder-index rows, folder counters and thread counters), so views change before any
//   network call.
// - settle: per (entry, id), the server's verdict. An applied op is folded into the
//   server copy ("server copy := server copy + op"), in the same transaction as the
//   fast-forwarded message token (invariant 1); a rolled-back op is simply dropped,
//   and recomputing restores the exact server record and counters.
import type { Folder, Message, Thread } from '../api/types.js';
import { getTokens, setTokens } from './apply.js';
import type { FolderBase, MailboxDb, OutboxEntry, OutboxStatus, Shadow, ThreadBase } from './db.js';
import { recomputeVisible, visibleFolder } from './overlay.js';
import { addMessageDelta, applyOps, emptyDelta, type CounterDelta, type MessagePatch, type PendingOp } from './pending.js';

/** Why a mutation was rolled back (or, for `not_found` on a remove, why it counts as done). */
export type MutationReason =
  /** The server does not have the message (destroyed, or never existed). */
  | 'not_found'
  /** The server listed the id in the batch result's `failed` array. */
  | 'failed'
  /** The server rejected the whole request (400, 403, 413, 422, …). */
  | 'rejected'
  /** Conflicts persisted past the bounded rebases under conflict policy `fail`. */
  | 'conflict'
  /** Cancelled by the app while its delay held it (undo): never sent. */
  | 'cancelled';

/** A serialisable error detail (outcomes are stored in IndexedDB for other tabs). */
export interface MutationErrorDetail {
  code: string;
  message: string;
  /** HTTP status when the server answered (0 for client-side failures). */
  status?: number;
}

/**
 * The fate of one message id of one `update()`/`remove()` call.
 * - `applied`: the server acknowledged it as sent.
 * - `rebased`: it met a conflict, was rebased on newer server records, and then acknowledged.
 * - `rolled_back`: the server refused it; the local effect was undone (see `reason`, `error`).
 */
export interface MutationOutcome {
  id: string;
  status: 'applied' | 'rebased' | 'rolled_back';
  reason?: MutationReason;
  error?: MutationErrorDetail;
}

/** Outbox fields owned by message mutations. */
export interface MutationMeta {
  /** The engine instance that enqueued it (it resolves the caller's promise). */
  origin: string;
  /** Outcomes of ids already settled (ids leave `entry.ids` as they settle). */
  outcomes?: MutationOutcome[];
  /** When the last id settled (terminal entries kept for another tab are pruned after a while). */
  settled_at?: number;
  /**
   * Not sent before this time (ms since epoch): the delay of an undoable mutation
   * (`remove(ids, { delayMs })`). Its optimistic effect shows at once; until it is
   * sent, {@link cancelMutation} rolls it back without the server ever seeing it.
   */
  hold_until?: number;
}

declare module './db.js' {
  interface OutboxEntry {
    /** Present on entries of kind 'update' / 'remove' (src/store/outbox.ts). */
    mutation?: MutationMeta;
  }
}

/** The longest a remove or a send may be held in the outbox for undo (1 hour). */
export const MAX_HOLD_MS = 60 * 60 * 1000;

/**
 * Checks an undo delay given by the app (`delayMs`, default 0) and returns it; a
 * TypeError naming `what` when it is not a number of milliseconds within
 * {@link MAX_HOLD_MS}.
 */
export function checkHoldDelay(what: string, value: unknown): number {
  const ms = value ?? 0;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0 || ms > MAX_HOLD_MS) {
    throw new TypeError(`${what} must be a number of milliseconds from 0 to ${MAX_HOLD_MS} (1 hour), e.g. 5000`);
  }
  return ms;
}

/** An outbox entry of a message mutation. */
export type MutationEntry = OutboxEntry & { seq: number; kind: 'update' | 'remove'; op: PendingOp; mutation: MutationMeta };

/** True for entries written by {@link enqueueMutations}. */
export function isMutationEntry(entry: OutboxEntry): entry is MutationEntry {
  return (entry.kind === 'update' || entry.kind === 'remove') && entry.op !== undefined && entry.seq !== undefined && entry.mutation !== undefined;
}

/** A mutation to enqueue. */
export type NewMutation = (
  | { kind: 'update'; ids: readonly string[]; patch: MessagePatch }
  | { kind: 'remove'; ids: readonly string[]; permanent: boolean }
) & {
  /** Hold it in the outbox this long from its commit (undo window): see {@link MutationMeta.hold_until}. */
  delayMs?: number;
};

const ACTIVE: readonly OutboxStatus[] = ['pending', 'sending', 'rebasing'];
const TERMINAL: readonly OutboxStatus[] = ['acked', 'failed'];

/** Canonical form of a patch: keyword names lowercased (the API normalises them), keys sorted. */
export function canonicalPatch(patch: MessagePatch): MessagePatch {
  const out: MessagePatch = {};
  if (patch.seen !== undefined) out.seen = patch.seen;
  if (patch.flagged !== undefined) out.flagged = patch.flagged;
  if (patch.keywords) {
    const entries = Object.entries(patch.keywords).map(([k, v]) => [k.toLowerCase(), v] as const);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    // Object.fromEntries defines own properties: `__proto__` stays a keyword (issue 19).
    if (entries.length > 0) out.keywords = Object.fromEntries(entries);
  }
  return out;
}

/** The Trash folder (role 'trash') the replica knows, if any. */
export async function trashFolderId(db: MailboxDb): Promise<string | null> {
  const folders = await db.folders.toArray();
  return folders.find((f) => f.role === 'trash')?.id ?? null;
}

/**
 * Appends mutations to the outbox and applies their optimistic effect, all in one
 * transaction (DESIGN.md invariant 4). Entries keep the given order (their `seq`).
 * Returns the new entries' seqs, in input order.
 */
export async function enqueueMutations(db: MailboxDb, mutations: readonly NewMutation[], origin: string, now: number): Promise<number[]> {
  if (mutations.length === 0) return [];
  return db.transaction('rw', db.overlayTables, async () => {
    let trash: string | null | undefined;
    const seqs: number[] = [];
    const touched: string[] = [];
    for (const m of mutations) {
      let op: PendingOp;
      if (m.kind === 'update') {
        op = { kind: 'update', patch: canonicalPatch(m.patch) };
      } else {
        // docs/search-and-batch.md: batch-delete moves to Trash unless `permanent`.
        if (!m.permanent) trash ??= await trashFolderId(db);
        op = { kind: 'remove', permanent: m.permanent, trashFolderId: m.permanent ? null : (trash ?? null) };
      }
      const ids = [...new Set(m.ids)];
      const mutation: MutationMeta = m.delayMs !== undefined && m.delayMs > 0 ? { origin, hold_until: now + m.delayMs } : { origin };
      const entry: OutboxEntry = { kind: m.kind, ids, op, status: 'pending', attempts: 0, created_at: now, mutation };
      seqs.push(await db.outbox.add(entry));
      touched.push(...ids);
    }
    await recomputeVisible(db, touched);
    return seqs;
  });
}

/** Mutation entries whose ops overlay records (pending, sending, rebasing), in `seq` order. */
export async function activeMutations(db: MailboxDb): Promise<MutationEntry[]> {
  const entries = await db.outbox.where('status').anyOf([...ACTIVE]).toArray();
  return entries.filter(isMutationEntry).sort((a, b) => a.seq - b.seq);
}

/**
 * Sets the status (and optionally bumps `attempts`) of the given mutation entries that
 * are still active, and returns the seqs it moved: an entry cancelled meanwhile (by
 * any tab) is not among them, so the caller does not send it.
 */
export async function setMutationStatus(db: MailboxDb, seqs: readonly number[], status: OutboxStatus, countAttempt = false): Promise<number[]> {
  if (seqs.length === 0) return [];
  return db.transaction('rw', db.outbox, async () => {
    const entries = await db.outbox.bulkGet([...seqs]);
    const next = entries.filter((e): e is MutationEntry => e !== undefined && isMutationEntry(e) && ACTIVE.includes(e.status));
    for (const e of next) {
      e.status = status;
      if (countAttempt) e.attempts += 1;
    }
    if (next.length > 0) await db.outbox.bulkPut(next);
    return next.map((e) => e.seq);
  });
}

/**
 * Cancels a mutation the leader has not sent yet (undo), in one transaction: every id
 * it still holds settles as `rolled_back` with reason `cancelled`, and the visible
 * records and counters are recomputed without its op. Returns the entry's outcomes,
 * or undefined when it is in flight (`sending`/`rebasing`), settled or gone.
 */
export async function cancelMutation(db: MailboxDb, seq: number, options: Omit<SettleOptions, 'fastForward'>): Promise<MutationOutcome[] | undefined> {
  return db.transaction('rw', db.overlayTables, async () => {
    const entry = await db.outbox.get(seq);
    if (!entry || !isMutationEntry(entry) || entry.status !== 'pending') return undefined;
    const ids = entry.ids;
    const outcomes = [...(entry.mutation.outcomes ?? []), ...ids.map((id): MutationOutcome => ({ id, status: 'rolled_back', reason: 'cancelled' }))];
    const done: MutationEntry = { ...entry, ids: [], status: 'failed', mutation: { ...entry.mutation, outcomes, settled_at: options.now } };
    if (options.keepSettled(done)) await db.outbox.put(done);
    else await db.outbox.delete(seq);
    await recomputeVisible(db, ids);
    return outcomes;
  });
}

/**
 * A new leader's recovery: mutation entries left `sending`/`rebasing` by a leader that
 * is gone (reload, crash) go back to `pending`. Resending is safe: updates are
 * absolute and a remove of a message already removed answers `not_found` (done).
 */
export async function recoverMutations(db: MailboxDb): Promise<number> {
  return db.transaction('rw', db.outbox, async () => {
    const stuck = (await db.outbox.where('status').anyOf(['sending', 'rebasing']).toArray()).filter(isMutationEntry);
    for (const e of stuck) e.status = 'pending';
    if (stuck.length > 0) await db.outbox.bulkPut(stuck);
    return stuck.length;
  });
}

/** The server's verdict on one id of one entry. */
export interface Settlement {
  seq: number;
  id: string;
  /**
   * What the server now holds: `apply` = server copy + this entry's op, `gone` = the
   * server has no such message, `keep` = the server copy is already current (a pull
   * brought it, or the op was rolled back).
   */
  server: 'apply' | 'gone' | 'keep';
  outcome: MutationOutcome;
}

/** Options of {@link settleMutations}. */
export interface SettleOptions {
  /**
   * Fast-forward the message token from `oldState` to `newState` with the settled
   * records (DESIGN.md invariant 1). When the replica is no longer at `oldState`
   * nothing is written and `settleMutations` returns false.
   */
  fastForward?: { oldState: string; newState: string };
  /** Keep a terminal entry (for its origin tab to read) instead of deleting it. */
  keepSettled: (entry: MutationEntry) => boolean;
  now: number;
}

/**
 * Settles ids of mutation entries in one transaction: folds applied ops into the
 * server copies, removes settled ids from their entries (an entry with no ids left
 * ends as `acked`, or `failed` when every id was rolled back), recomputes the visible
 * records, and fast-forwards the message token when asked. Returns false (and writes
 * nothing) when a requested fast-forward no longer matches the replica's token.
 */
export async function settleMutations(db: MailboxDb, settlements: readonly Settlement[], options: SettleOptions): Promise<boolean> {
  if (settlements.length === 0 && !options.fastForward) return true;
  return db.transaction('rw', [...db.overlayTables, db.syncState], async () => {
    if (options.fastForward && (await getTokens(db)).messages !== options.fastForward.oldState) return false;
    const seqs = [...new Set(settlements.map((s) => s.seq))];
    const loaded = await db.outbox.bulkGet(seqs);
    const entries = new Map<number, MutationEntry>();
    for (const e of loaded) if (e && isMutationEntry(e) && ACTIVE.includes(e.status)) entries.set(e.seq, e);
    // A move to Trash enqueued before the replica knew its Trash folder: fold it in
    // with the folder known now; if still unknown, the server copy cannot be derived,
    // so no fast-forward (the caller pulls instead).
    const ops = new Map<number, PendingOp>();
    let trash: string | null | undefined;
    for (const e of entries.values()) {
      let op = e.op;
      if (op.kind === 'remove' && !op.permanent && op.trashFolderId === null) {
        trash ??= await trashFolderId(db);
        if (trash === null && options.fastForward && settlements.some((s) => s.seq === e.seq && s.server === 'apply')) return false;
        op = { ...op, trashFolderId: trash };
      }
      ops.set(e.seq, op);
    }

    // 1. New server copies of ids whose op the server applied (or that it does not have).
    const ids = [...new Set(settlements.map((s) => s.id))];
    const shadowRows = await db.shadows.bulkGet(ids);
    const shadows = new Map<string, Shadow>();
    for (const row of shadowRows) if (row) shadows.set(row.id, row);
    const ackDelta = emptyDelta();
    const newServer = new Map<string, Message | null>();
    for (const s of settlements) {
      const entry = entries.get(s.seq);
      const shadow = shadows.get(s.id);
      if (!entry || !entry.ids.includes(s.id) || !shadow || s.server === 'keep') continue;
      const before = shadow.server ?? undefined;
      const after = s.server === 'gone' ? undefined : applyOps(before, [ops.get(s.seq) ?? entry.op]);
      addMessageDelta(ackDelta, before, after);
      // Keep the basis: folders/threads hold the delta computed against it (overlay.ts).
      const basis = shadow.basis === undefined ? shadow.server : shadow.basis;
      const next: Shadow = { id: s.id, server: after ?? null, basis };
      shadows.set(s.id, next);
      newServer.set(s.id, after ?? null);
    }
    if (newServer.size > 0) {
      await db.shadows.bulkPut([...newServer.keys()].map((id) => shadows.get(id) as Shadow));
      await predictServerCounters(db, ackDelta, newServer);
    }

    // 2. Settled ids leave their entries; entries with none left end.
    const settledIds: string[] = [];
    for (const s of settlements) {
      const entry = entries.get(s.seq);
      if (!entry || !entry.ids.includes(s.id)) continue;
      entry.ids = entry.ids.filter((id) => id !== s.id);
      entry.mutation = { ...entry.mutation, outcomes: [...(entry.mutation.outcomes ?? []), s.outcome] };
      settledIds.push(s.id);
    }
    const put: OutboxEntry[] = [];
    const remove: number[] = [];
    for (const entry of entries.values()) {
      if (entry.ids.length > 0) {
        put.push(entry);
        continue;
      }
      const outcomes = entry.mutation.outcomes ?? [];
      entry.status = outcomes.length > 0 && outcomes.every((o) => o.status === 'rolled_back') ? 'failed' : 'acked';
      entry.mutation = { ...entry.mutation, settled_at: options.now };
      if (options.keepSettled(entry)) put.push(entry);
      else remove.push(entry.seq);
    }
    if (put.length > 0) await db.outbox.bulkPut(put);
    if (remove.length > 0) await db.outbox.bulkDelete(remove);

    // 3. Visible = server + remaining pending ops.
    await recomputeVisible(db, settledIds);
    if (options.fastForward) await setTokens(db, { messages: options.fastForward.newState });
    return true;
  });
}

/**
 * The server applied ops, so its folder and thread counters moved by `delta` (the
 * same arithmetic as the optimistic overlay). Fold that into the server copies the
 * overlay keeps, so the visible counters do not flicker back to stale server numbers
 * until the next pull brings the server's own folders and threads (their tokens are
 * not fast-forwarded; that pull replaces these predictions). A folder or thread
 * without a base IS its server copy, so it is adjusted in place; with a base, the
 * base's server copy is adjusted and the visible folder re-derived (recomputeVisible
 * then applies the change of pending deltas on top, and re-derives touched threads).
 */
async function predictServerCounters(db: MailboxDb, delta: CounterDelta, newServer: ReadonlyMap<string, Message | null>): Promise<void> {
  const folderIds = [...delta.folders].filter(([, d]) => d.total !== 0 || d.unread !== 0).map(([id]) => id);
  if (folderIds.length > 0) {
    const [bases, visibles] = await Promise.all([db.folderBases.bulkGet(folderIds), db.folders.bulkGet(folderIds)]);
    const putBases: FolderBase[] = [];
    const putFolders: Folder[] = [];
    folderIds.forEach((id, i) => {
      const d = delta.folders.get(id) ?? { total: 0, unread: 0 };
      const adjust = (f: Folder): Folder => ({ ...f, total_messages: f.total_messages + d.total, unread_messages: f.unread_messages + d.unread });
      const base = bases[i];
      if (base) {
        if (!base.server) return;
        const next = { ...base, server: adjust(base.server) };
        putBases.push(next);
        putFolders.push(visibleFolder(next.server, next));
      } else {
        const visible = visibles[i];
        if (visible) putFolders.push(adjust(visible));
      }
    });
    if (putBases.length > 0) await db.folderBases.bulkPut(putBases);
    if (putFolders.length > 0) await db.folders.bulkPut(putFolders);
  }
  const touched = new Set([...delta.threads].filter(([, d]) => d.count !== 0 || d.unread !== 0).map(([id]) => id));
  for (const m of newServer.values()) if (m?.thread_id) touched.add(m.thread_id);
  if (touched.size === 0) return;
  const ids = [...touched];
  const [bases, visibles] = await Promise.all([db.threadBases.bulkGet(ids), db.threads.bulkGet(ids)]);
  const putBases: ThreadBase[] = [];
  const putThreads: Thread[] = [];
  ids.forEach((id, i) => {
    const d = delta.threads.get(id) ?? { unread: 0, count: 0 };
    const adjust = (t: Thread): Thread => {
      const lastId = t.last_message?.id;
      const last = lastId !== undefined ? newServer.get(lastId) : undefined;
      return {
        ...t,
        unread_count: t.unread_count + d.unread,
        message_count: t.message_count + d.count,
        // The thread's last message changed on the server exactly as the op says.
        ...(last ? { last_message: last } : {}),
      };
    };
    const base = bases[i];
    if (base) {
      if (base.server) putBases.push({ ...base, server: adjust(base.server) });
    } else {
      const visible = visibles[i];
      if (visible) putThreads.push(adjust(visible));
    }
  });
  if (putBases.length > 0) await db.threadBases.bulkPut(putBases);
  if (putThreads.length > 0) await db.threads.bulkPut(putThreads);
}

/** Takes (reads and deletes) the terminal entries enqueued by `origin`. */
export async function takeSettled(db: MailboxDb, origin: string): Promise<MutationEntry[]> {
  return db.transaction('rw', db.outbox, async () => {
    const done = (await db.outbox.where('status').anyOf([...TERMINAL]).toArray()).filter(
      (e): e is MutationEntry => isMutationEntry(e) && e.mutation.origin === origin,
    );
    if (done.length > 0) await db.outbox.bulkDelete(done.map((e) => e.seq));
    return done;
  });
}

/** Deletes terminal mutation entries settled before `before` (their origin is gone). */
export async function pruneSettled(db: MailboxDb, before: number): Promise<number> {
  return db.transaction('rw', db.outbox, async () => {
    const old = (await db.outbox.where('status').anyOf([...TERMINAL]).toArray()).filter(
      (e): e is MutationEntry => isMutationEntry(e) && (e.mutation.settled_at ?? 0) < before,
    );
    if (old.length > 0) await db.outbox.bulkDelete(old.map((e) => e.seq));
    return old.length;
  });
}
