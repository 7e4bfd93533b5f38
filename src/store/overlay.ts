// Keeps "visible = server + pending" (DESIGN.md invariant 3) true in the database.
//
// Only visible records live in `messages`, `folders` and `threads`. For a message with
// pending ops the server version lives in `shadows`; for a folder or thread whose
// counters include pending changes, the server version and the summed counter delta
// live in `folderBases` / `threadBases`. So at all times:
//   visible message = applyOps(shadow.server, ops in seq order)   (or the server record)
//   visible folder  = overlayFolder(base.server, base.delta)       (or the server record)
//   visible thread  = overlayThread(base.server, base.delta, ...)  (or the server record)
// and base.delta = Σ over pending messages of (visible − server) counters. Every update
// is incremental: a message's change of delta is added to its folders and thread, so
// a recompute costs O(messages touched), not O(pending messages).
import type { Folder, Message, Thread } from '../api/types.js';
import {
  ACTIVE_OUTBOX_STATUSES,
  type FolderBase,
  type MailboxDb,
  type OutboxEntry,
  type Shadow,
  type ThreadBase,
  type ThreadDelta,
} from './db.js';
import { writeMemberships, type VisibleChange } from './memberships.js';
import { addMessageDelta, applyOps, emptyDelta, overlayFolder, overlayThread, type CounterDelta, type PendingOp } from './pending.js';

/**
 * Pending ops per message id: ops of active (pending/sending/rebasing) outbox
 * entries whose `ids` include it, in `seq` order.
 */
export async function loadPendingOps(db: MailboxDb, ids: readonly string[]): Promise<Map<string, PendingOp[]>> {
  const wanted = new Set(ids);
  const byId = new Map<string, PendingOp[]>();
  if (wanted.size === 0) return byId;
  let entries: OutboxEntry[];
  if (wanted.size <= 20) {
    const hits = await Promise.all([...wanted].map((id) => db.outbox.where('ids').equals(id).toArray()));
    const bySeq = new Map<number, OutboxEntry>();
    for (const entry of hits.flat()) bySeq.set(entry.seq ?? 0, entry);
    entries = [...bySeq.values()].filter((e) => ACTIVE_OUTBOX_STATUSES.includes(e.status));
  } else {
    entries = await db.outbox.where('status').anyOf([...ACTIVE_OUTBOX_STATUSES]).toArray();
  }
  entries.sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
  for (const entry of entries) {
    if (!entry.op) continue;
    for (const id of entry.ids) {
      if (!wanted.has(id)) continue;
      const list = byId.get(id) ?? [];
      list.push(entry.op);
      byId.set(id, list);
    }
  }
  return byId;
}

/** Structural equality of two JSON-like values (records from the API). */
export function sameRecord(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => sameRecord(v, b[i]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(rb, k) && sameRecord(ra[k], rb[k]));
}

function threadIdsOf(...messages: (Message | null | undefined)[]): string[] {
  const out: string[] = [];
  for (const m of messages) if (m?.thread_id) out.push(m.thread_id);
  return out;
}

/**
 * Recomputes the visible version of each message from its server copy and pending
 * ops, moves its index rows, adjusts folder and thread counters by the change of its
 * counter delta, and drops the shadow once no ops remain (visible = server again).
 *
 * MUST run inside a rw transaction over `db.overlayTables`. The outbox calls it after
 * enqueue, ack and rollback; the server-apply path calls it for messages with
 * pending ops. When a message has no shadow yet, its current visible record is its
 * server version (no ops were applied to it), and a shadow is created.
 */
export async function recomputeVisible(db: MailboxDb, ids: readonly string[]): Promise<void> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return;
  const [opsById, visibles, shadows] = await Promise.all([
    loadPendingOps(db, unique),
    db.messages.bulkGet(unique),
    db.shadows.bulkGet(unique),
  ]);
  const change = emptyDelta();
  const memberChanges: VisibleChange[] = [];
  const putMessages: Message[] = [];
  const deleteMessages: string[] = [];
  const putShadows: Shadow[] = [];
  const deleteShadows: string[] = [];
  const touchedThreads = new Set<string>();

  unique.forEach((id, i) => {
    const before = visibles[i];
    const shadow = shadows[i];
    const ops = opsById.get(id) ?? [];
    const server = shadow ? (shadow.server ?? undefined) : before;
    // The counter delta currently folded into folders/threads is (before − basis).
    const basis = shadow ? (shadow.basis === undefined ? server : (shadow.basis ?? undefined)) : before;
    const after = ops.length > 0 ? applyOps(server, ops) : server;
    addMessageDelta(change, server, after);
    addMessageDelta(change, before, basis);
    for (const t of threadIdsOf(before, after, server, basis)) touchedThreads.add(t);
    if (!sameRecord(before, after)) {
      if (after) putMessages.push(after);
      else deleteMessages.push(id);
      memberChanges.push({ before, after });
    }
    if (ops.length > 0) putShadows.push({ id, server: server ?? null, basis: server ?? null });
    else if (shadow) deleteShadows.push(id);
  });

  if (putMessages.length > 0) await db.messages.bulkPut(putMessages);
  if (deleteMessages.length > 0) await db.messages.bulkDelete(deleteMessages);
  // Each helper is awaited only when it has IndexedDB work to do: an await of a
  // promise that did none spends one of Dexie's zone echoes (see visibleThread).
  if (memberChanges.length > 0) await writeMemberships(db, memberChanges);
  if (putShadows.length > 0) await db.shadows.bulkPut(putShadows);
  if (deleteShadows.length > 0) await db.shadows.bulkDelete(deleteShadows);
  if ([...change.folders.values()].some((d) => !isZeroFolderDelta(d))) await applyFolderDelta(db, change);
  if (touchedThreads.size > 0) await refreshThreads(db, [...touchedThreads], change);
}

function isZeroFolderDelta(d: { total: number; unread: number }): boolean {
  return d.total === 0 && d.unread === 0;
}

function folderDeltaMap(base: FolderBase): CounterDelta {
  const delta = emptyDelta();
  delta.folders.set(base.id, { ...base.delta });
  return delta;
}

/** Adds a counter change to the visible folders (creating bases as needed). */
async function applyFolderDelta(db: MailboxDb, change: CounterDelta): Promise<void> {
  const entries = [...change.folders].filter(([, d]) => !isZeroFolderDelta(d));
  if (entries.length === 0) return;
  const ids = entries.map(([id]) => id);
  const [bases, visibles] = await Promise.all([db.folderBases.bulkGet(ids), db.folders.bulkGet(ids)]);
  const putBases: FolderBase[] = [];
  const deleteBases: string[] = [];
  const putFolders: Folder[] = [];
  entries.forEach(([id, d], i) => {
    // Without a base, the visible folder is the server folder.
    const base = bases[i] ?? { id, server: visibles[i] ?? null, delta: { total: 0, unread: 0 } };
    base.delta = { total: base.delta.total + d.total, unread: base.delta.unread + d.unread };
    if (isZeroFolderDelta(base.delta)) deleteBases.push(id);
    else putBases.push(base);
    if (base.server) putFolders.push(overlayFolder(base.server, folderDeltaMap(base)));
  });
  if (putBases.length > 0) await db.folderBases.bulkPut(putBases);
  if (deleteBases.length > 0) await db.folderBases.bulkDelete(deleteBases);
  if (putFolders.length > 0) await db.folders.bulkPut(putFolders);
}

/** Visible version of a server folder given its base (if any). */
export function visibleFolder(server: Folder, base: FolderBase | undefined): Folder {
  return base ? overlayFolder(server, folderDeltaMap(base)) : server;
}

/**
 * Visible version of a server thread: counters + delta, and `last_message` replaced
 * by its visible version when that message has pending ops (`pendingLast` holds the
 * visible versions of such messages, read beforehand). Pure: no database access, so
 * callers loop over many threads inside a transaction without native awaits (which
 * spend Dexie's zone echoes and can let IndexedDB commit early).
 */
function visibleThread(server: Thread, delta: ThreadDelta, pendingLast: ReadonlyMap<string, Message | undefined>): Thread {
  const map = emptyDelta();
  map.threads.set(server.id, { ...delta });
  const lastId = server.last_message?.id;
  const visibleById = new Map<string, Message | undefined>();
  if (lastId !== undefined && pendingLast.has(lastId)) visibleById.set(lastId, pendingLast.get(lastId));
  return overlayThread(server, map, visibleById);
}

/**
 * Reads, in two bulk requests, the visible versions of the last messages of these
 * threads that have pending ops (a shadow). Keys of the result = pending last ids.
 */
async function pendingLastMessages(db: MailboxDb, threads: readonly (Thread | null | undefined)[]): Promise<Map<string, Message | undefined>> {
  const lastIds = [...new Set(threads.map((t) => t?.last_message?.id).filter((id): id is string => id !== undefined))];
  const out = new Map<string, Message | undefined>();
  if (lastIds.length === 0) return out;
  const shadows = await db.shadows.bulkGet(lastIds);
  const pending = lastIds.filter((_, i) => shadows[i] !== undefined);
  if (pending.length === 0) return out;
  const visible = await db.messages.bulkGet(pending);
  pending.forEach((id, i) => out.set(id, visible[i]));
  return out;
}

function baseNeeded(delta: ThreadDelta, server: Thread | null, pendingLast: ReadonlyMap<string, Message | undefined>): boolean {
  const lastId = server?.last_message?.id;
  return delta.unread !== 0 || delta.count !== 0 || (lastId !== undefined && pendingLast.has(lastId));
}

/** Re-derives the visible threads touched by a counter change or a pending last message. */
async function refreshThreads(db: MailboxDb, threadIds: string[], change: CounterDelta): Promise<void> {
  if (threadIds.length === 0) return;
  const [bases, visibles] = await Promise.all([db.threadBases.bulkGet(threadIds), db.threads.bulkGet(threadIds)]);
  // Without a base, the visible thread is the server thread.
  const servers = threadIds.map((id, i) => bases[i]?.server ?? (bases[i] ? null : (visibles[i] ?? null)));
  const pendingLast = await pendingLastMessages(db, servers);
  const putBases: ThreadBase[] = [];
  const deleteBases: string[] = [];
  const putThreads: Thread[] = [];
  threadIds.forEach((id, i) => {
    const d = change.threads.get(id) ?? { unread: 0, count: 0 };
    const existing = bases[i];
    const base: ThreadBase = existing ?? { id, server: servers[i] ?? null, delta: { unread: 0, count: 0 } };
    base.delta = { unread: base.delta.unread + d.unread, count: base.delta.count + d.count };
    if (baseNeeded(base.delta, base.server, pendingLast)) putBases.push(base);
    else if (existing) deleteBases.push(id);
    if (!base.server) return;
    const next = visibleThread(base.server, base.delta, pendingLast);
    if (!sameRecord(next, visibles[i])) putThreads.push(next);
  });
  if (putBases.length > 0) await db.threadBases.bulkPut(putBases);
  if (deleteBases.length > 0) await db.threadBases.bulkDelete(deleteBases);
  if (putThreads.length > 0) await db.threads.bulkPut(putThreads);
}

/**
 * Writes server versions of folders (and removes destroyed ones), re-applying the
 * pending counter delta of each. Runs inside a rw transaction over `db.overlayTables`.
 */
export async function putServerFolders(db: MailboxDb, records: readonly Folder[], destroyed: readonly string[] = []): Promise<void> {
  const ids = [...records.map((f) => f.id), ...destroyed];
  if (ids.length === 0) return;
  const bases = await db.folderBases.bulkGet(ids);
  const baseById = new Map<string, FolderBase>();
  for (const b of bases) if (b) baseById.set(b.id, b);
  const putBases: FolderBase[] = [];
  const visible: Folder[] = [];
  for (const folder of records) {
    const base = baseById.get(folder.id);
    if (base) putBases.push({ ...base, server: folder });
    visible.push(visibleFolder(folder, base));
  }
  for (const id of destroyed) {
    const base = baseById.get(id);
    if (base) putBases.push({ ...base, server: null });
  }
  if (putBases.length > 0) await db.folderBases.bulkPut(putBases);
  if (visible.length > 0) await db.folders.bulkPut(visible);
  if (destroyed.length > 0) await db.folders.bulkDelete([...destroyed]);
}

/**
 * Writes server versions of threads (and removes destroyed ones), re-applying the
 * pending counter delta and pending last message. Runs inside a rw transaction over
 * `db.overlayTables`.
 */
export async function putServerThreads(db: MailboxDb, records: readonly Thread[], destroyed: readonly string[] = []): Promise<void> {
  const ids = [...records.map((t) => t.id), ...destroyed];
  if (ids.length === 0) return;
  const [bases, pendingLast] = await Promise.all([db.threadBases.bulkGet(ids), pendingLastMessages(db, records)]);
  const baseById = new Map<string, ThreadBase>();
  for (const b of bases) if (b) baseById.set(b.id, b);
  const putBases: ThreadBase[] = [];
  const deleteBases: string[] = [];
  const putThreads: Thread[] = [];
  for (const thread of records) {
    const base = baseById.get(thread.id);
    // A thread without a base whose (new) last message has pending ops gets one now.
    const next: ThreadBase = base ? { ...base, server: thread } : { id: thread.id, server: thread, delta: { unread: 0, count: 0 } };
    if (baseNeeded(next.delta, thread, pendingLast)) putBases.push(next);
    else if (base) deleteBases.push(thread.id);
    putThreads.push(visibleThread(thread, next.delta, pendingLast));
  }
  for (const id of destroyed) {
    const base = baseById.get(id);
    if (!base) continue;
    // Keep a non-zero delta: pending messages still count against this thread id.
    if (base.delta.unread !== 0 || base.delta.count !== 0) putBases.push({ ...base, server: null });
    else deleteBases.push(id);
  }
  if (putBases.length > 0) await db.threadBases.bulkPut(putBases);
  if (deleteBases.length > 0) await db.threadBases.bulkDelete(deleteBases);
  if (putThreads.length > 0) await db.threads.bulkPut(putThreads);
  if (destroyed.length > 0) await db.threads.bulkDelete([...destroyed]);
}

/**
 * Writes server versions of messages (and removes destroyed ones) through the
 * overlay: a message with pending ops gets its shadow replaced and its visible
 * version recomputed; any other message is written as is (its counter delta is 0,
 * so folders and threads are untouched). Runs inside a rw transaction over
 * `db.overlayTables`.
 */
export async function putServerMessages(db: MailboxDb, records: readonly Message[], destroyed: readonly string[] = []): Promise<void> {
  // Last write wins when an id appears twice (a destroy after a put, or vice versa).
  const incoming = new Map<string, Message | undefined>();
  for (const m of records) incoming.set(m.id, m);
  for (const id of destroyed) incoming.set(id, undefined);
  const ids = [...incoming.keys()];
  if (ids.length === 0) return;
  // Shadows exist only for messages with pending ops (usually none): read their keys
  // once instead of probing every incoming id.
  const shadowed = new Set(await db.shadows.toCollection().primaryKeys());
  const withShadow = ids.filter((id) => shadowed.has(id));
  const [found, visibles] = await Promise.all([withShadow.length > 0 ? db.shadows.bulkGet(withShadow) : [], db.messages.bulkGet(ids)]);
  const shadowById = new Map<string, Shadow>();
  for (const sh of found) if (sh) shadowById.set(sh.id, sh);
  const shadows = ids.map((id) => shadowById.get(id));
  const pending: string[] = [];
  const putShadows: Shadow[] = [];
  const putMessages: Message[] = [];
  const deleteMessages: string[] = [];
  const memberChanges: VisibleChange[] = [];
  ids.forEach((id, i) => {
    const server = incoming.get(id);
    const shadow = shadows[i];
    const before = visibles[i];
    if (shadow) {
      // Keep the basis: folders/threads still hold the delta computed against it.
      const basis = shadow.basis === undefined ? shadow.server : shadow.basis;
      putShadows.push({ id, server: server ?? null, basis });
      pending.push(id);
      return;
    }
    if (sameRecord(before, server)) return;
    if (server) putMessages.push(server);
    else deleteMessages.push(id);
    memberChanges.push({ before, after: server });
  });
  if (putMessages.length > 0) await db.messages.bulkPut(putMessages);
  if (deleteMessages.length > 0) await db.messages.bulkDelete(deleteMessages);
  if (memberChanges.length > 0) await writeMemberships(db, memberChanges);
  if (putShadows.length > 0) await db.shadows.bulkPut(putShadows);
  if (pending.length > 0) await recomputeVisible(db, pending);
}
