// Side-index rows of a message (db.ts `Membership`, table `folderIndex`): one per
// folder plus one under ALL_MESSAGES. Rebuilt from the visible record whenever it is
// written, so the index never disagrees with what the app sees.
import type { Message } from '../api/types.js';
import type { MailboxDb, Membership, MembershipKey } from './db.js';

/** Pseudo folder id of the membership rows that index every message. */
export const ALL_MESSAGES = '';

/** The primary key and the indexes of `folderIndex`. */
export const FOLDER_INDEX = {
  /** The primary key: a folder's rows in received order (ties by id). */
  byTime: '[folder_id+received_key+id]',
  /** Unread rows only (`unread` is absent on read ones). */
  unread: '[folder_id+unread+received_key]',
  /** Flagged rows only. */
  flagged: '[folder_id+flagged+received_key]',
} as const;

/**
 * Above every id in a key position: arrays sort after strings in IndexedDB's order,
 * so `[folder, t, ABOVE_IDS]` bounds every row of `folder` received at `t`.
 */
export const ABOVE_IDS: [] = [];

/** Sort key of a nullable ISO timestamp: epoch ms, or -Infinity (oldest) when absent. */
export function timeKey(iso: string | null | undefined): number {
  if (!iso) return -Infinity;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? -Infinity : ms;
}

/** The membership rows of one visible message (unread and flagged only when true). */
export function membershipsOf(message: Message): Membership[] {
  const received_key = timeKey(message.received_at);
  const folders = new Set([ALL_MESSAGES, ...message.folder_ids]);
  const unread = !message.flags.seen;
  const flagged = message.flags.flagged;
  return [...folders].map((folder_id) => {
    const row: Membership = { folder_id, id: message.id, received_key };
    if (unread) row.unread = 1;
    if (flagged) row.flagged = 1;
    return row;
  });
}

/** One visible-record transition: the version the index holds now → the new one. */
export interface VisibleChange {
  before: Message | undefined;
  after: Message | undefined;
}

/**
 * Moves the membership rows of each message from `before` to `after` (undefined =
 * absent). Rows are derived from the visible record, so the old rows' keys are known
 * without an index scan. Must run inside a rw transaction over `folderIndex`.
 */
export async function writeMemberships(db: MailboxDb, changes: Iterable<VisibleChange>): Promise<void> {
  const stale: MembershipKey[] = [];
  const rows: Membership[] = [];
  for (const { before, after } of changes) {
    const next = after ? membershipsOf(after) : [];
    if (before) {
      // A row whose key is unchanged is overwritten by its new version; the others go.
      const beforeKey = timeKey(before.received_at);
      const keep = new Set(next.filter((r) => r.received_key === beforeKey).map((r) => r.folder_id));
      for (const folderId of new Set([ALL_MESSAGES, ...before.folder_ids])) {
        if (!keep.has(folderId)) stale.push([folderId, beforeKey, before.id]);
      }
    }
    rows.push(...next);
  }
  if (stale.length > 0) await db.folderIndex.bulkDelete(stale);
  if (rows.length > 0) await db.folderIndex.bulkPut(rows);
}
