// The replica's change feed (DESIGN.md "The replica port"): a read that runs now and
// again whenever what it read changes, whether the write came from this engine or
// from another tab or process on the same database. Sync, content and reactive
// watch the replica only through this, so no code outside src/store knows how the
// database reports changes (here Dexie's liveQuery; another backend brings its own).
import { Dexie, liveQuery } from 'dexie';
import { from, type Observable } from 'rxjs';
import { setSyncValue } from './apply.js';
import type { MailboxDb } from './db.js';

/**
 * Emits `read()`'s result now and after every committed write that changes what it
 * read. `read` must only read the replica (it runs outside the caller's transaction).
 * Errors of `read` end the stream with that error.
 */
export function live<T>(read: () => Promise<T> | T): Observable<T> {
  return from(liveQuery(read));
}

/**
 * Writes one sync-state value in a transaction of its own, even when called from
 * inside another transaction's zone (status publishing runs wherever a status
 * change is dispatched).
 */
export function writeSyncValueDetached(db: MailboxDb, key: string, value: unknown): Promise<void> {
  return Dexie.ignoreTransaction(() => db.transaction('rw', db.syncState, () => setSyncValue(db, key, value)));
}
