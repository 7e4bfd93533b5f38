// The data shape both peers (raw Dexie and RxDB) store, derived from the API's
// message summary the way an RxDB user would have to.
//
// RxDB cannot index into arrays (its indexes are over scalar top-level fields), so a
// user who wants "newest 50 of a folder" adds a scalar `folder_id` (the message's
// first folder) and indexes [folder_id, received_at]. Raw Dexie gets the very same
// rows and the same compound index, so the two differ only in the library. A message
// that sits in several folders is indexed under its first one only; the bench counts
// how many such records the dataset has and records it in the figure's notes.
import type { components } from '../../src/api/schema.js';

export type Message = components['schemas']['MailboxMessageSummary'];

/** A message summary plus the scalar index fields. */
export type PeerRow = Message & { folder_id: string; received_at: string };

/** Adds the scalar index fields; a null received_at falls back to sent_at, then ''. */
export function toPeerRow(m: Message): PeerRow {
  return { ...m, folder_id: m.folder_ids[0] ?? '', received_at: m.received_at ?? m.sent_at ?? '' };
}

/** The folder holding the most messages (by first folder), and its size. */
export function largestFolder(rows: readonly Message[]): { folderId: string; size: number; multiFolder: number } {
  const counts = new Map<string, number>();
  let multiFolder = 0;
  for (const r of rows) {
    const f = r.folder_ids[0] ?? '';
    counts.set(f, (counts.get(f) ?? 0) + 1);
    if (r.folder_ids.length > 1) multiFolder++;
  }
  let best = '';
  let size = -1;
  for (const [f, n] of counts) if (n > size) [best, size] = [f, n];
  return { folderId: best, size, multiFolder };
}
