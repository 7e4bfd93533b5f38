// Side-index rows of a message (db.ts `Membership`): one per folder plus one under
// ALL_MESSAGES. Rebuilt from the visible record whenever it is written, so the index
// never disagrees with what the app sees.
import type { Message } from '../api/types.js';
import { ALL_MESSAGES, type MailboxDb, type Membership } from './db.js';

/** Sort key of a nullable ISO timestamp: epoch ms, or -Infinity (oldest) when absent. */
export function timeKey(iso: string | null | undefined): number {
  if (!iso) return -Infinity;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? -Infinity : ms;
}

/** The membership rows of one visible message. */
export function membershipsOf(message: Message): Membership[] {
  const received_key = timeKey(message.received_at);
  const unread: 0 | 1 = message.flags.seen ? 0 : 1;
  const flagged: 0 | 1 = message.flags.flagged ? 1 : 0;
  const folders = new Set([ALL_MESSAGES, ...message.folder_ids]);
  return [...folders].map((folder_id) => ({ folder_id, id: message.id, received_key, unread, flagged }));
}

/** One visible-record transition: the version the index holds now → the new one. */
export interface VisibleChange {
  before: Message | undefined;
  after: Message | undefined;
}

/**
 * Moves the membership rows of each message from `before` to `after` (undefined =
 * absent). Rows are derived from the visible record, so the old rows are known
 * without an index scan. Must run inside a rw transaction over `memberships`.
 */
export async function writeMemberships(db: MailboxDb, changes: Iterable<VisibleChange>): Promise<void> {
  const stale: [string, string][] = [];
  const rows: Membership[] = [];
  for (const { before, after } of changes) {
    const next = after ? membershipsOf(after) : [];
    if (before) {
      const keep = new Set(next.map((r) => r.folder_id));
      for (const folderId of new Set([ALL_MESSAGES, ...before.folder_ids])) {
        if (!keep.has(folderId)) stale.push([folderId, before.id]);
      }
    }
    rows.push(...next);
  }
  if (stale.length > 0) await db.memberships.bulkDelete(stale);
  if (rows.length > 0) await db.memberships.bulkPut(rows);
}
