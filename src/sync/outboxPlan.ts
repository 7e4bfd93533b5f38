// Coalescing outbox entries into batch calls (pure). The flusher sends one "round"
// at a time: entries in `seq` order, grouped by identical op (same patch, or same
// kind of remove), each group split into calls of at most `maxIds` ids
// (BatchUpdateMailboxMessagesBody / BatchDeleteMailboxMessagesBody: maxItems 100).
//
// Ordering per id: within a round every id appears at most once. An entry touching an
// id that an earlier entry of the round already claimed (or that a deferred entry
// blocks) waits for the next round, and blocks its own ids for the rest of this one,
// so the ops of one id reach the server in `seq` order. An entry held by its delay
// (undo) is not sent, and the entries after it that share an id wait with it.
import { canonicalPatch } from '../store/outbox.js';
import type { PendingOp } from '../store/pending.js';

/** What the planner needs of an outbox entry. */
export interface PlanEntry {
  seq: number;
  ids: readonly string[];
  op: PendingOp;
  /** Send without `if_in_state` (conflict policy `force`). */
  force?: boolean;
  /** Held by its delay (undo): not sent this round, and it blocks its ids for the entries after it. */
  held?: boolean;
}

/** One batch call: ids with the op they share. */
export interface PlannedBatch {
  op: PendingOp;
  force: boolean;
  /** (entry, id) pairs; ids are unique within the whole round. */
  items: { seq: number; id: string }[];
}

/** A round of batch calls plus the entries left for a later round. */
export interface Plan {
  batches: PlannedBatch[];
  /** Seqs of entries that wait for the next round (an id of theirs is busy). */
  deferred: number[];
  /**
   * Seqs of entries that wait for a held entry: held ones, and later ones sharing an id
   * with one (their ops must not overtake it). They go once the hold ends or the held
   * entry is cancelled, not in the next round.
   */
  waiting: number[];
}

/** A string equal for two ops exactly when one batch call can carry both. */
export function opKey(op: PendingOp, force = false): string {
  const guard = force ? 'force' : 'guarded';
  if (op.kind === 'update') return `update:${guard}:${JSON.stringify(canonicalPatch(op.patch))}`;
  return `remove:${guard}:${op.permanent ? 'permanent' : 'trash'}`;
}

/** Plans one round (entries must be sorted by `seq`). */
export function planRound(entries: readonly PlanEntry[], maxIds: number): Plan {
  if (!(maxIds >= 1)) throw new RangeError('planRound: maxIds must be >= 1');
  const claimed = new Set<string>();
  const blocked = new Set<string>();
  const groups = new Map<string, { op: PendingOp; force: boolean; items: { seq: number; id: string }[] }>();
  const deferred: number[] = [];
  const waiting: number[] = [];
  const held = new Set<string>();
  for (const entry of entries) {
    const ids = [...new Set(entry.ids)];
    if (ids.length === 0) continue;
    if (entry.held || ids.some((id) => held.has(id))) {
      waiting.push(entry.seq);
      for (const id of ids) held.add(id);
      continue;
    }
    if (ids.some((id) => claimed.has(id) || blocked.has(id))) {
      deferred.push(entry.seq);
      for (const id of ids) blocked.add(id);
      continue;
    }
    const force = entry.force ?? false;
    const key = opKey(entry.op, force);
    const group = groups.get(key) ?? { op: entry.op, force, items: [] };
    for (const id of ids) {
      claimed.add(id);
      group.items.push({ seq: entry.seq, id });
    }
    groups.set(key, group);
  }
  const batches: PlannedBatch[] = [];
  for (const group of groups.values()) {
    for (let i = 0; i < group.items.length; i += maxIds) {
      batches.push({ op: group.op, force: group.force, items: group.items.slice(i, i + maxIds) });
    }
  }
  return { batches, deferred, waiting };
}
