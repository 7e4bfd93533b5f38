// The single path by which server data enters the replica. Every function here runs
// inside a caller's rw transaction over `db.serverTables`, so records and the state
// token describing them commit together (DESIGN.md invariant 1).
import type { Folder, Identity, Message, Quota, Submission, Thread } from '../api/types.js';
import type { Table } from 'dexie';
import type { MailboxDb } from './db.js';
import { putServerFolders, putServerMessages, putServerThreads } from './overlay.js';

/** The six resource types of `/mailbox/changes` (docs/sync.md "Typed mailbox changes"). */
export const SYNC_TYPES = ['messages', 'folders', 'threads', 'submissions', 'identities', 'quotas'] as const;
/** One resource type of the typed changes endpoint. */
export type SyncType = (typeof SYNC_TYPES)[number];

/** The record type of each sync type. */
export interface RecordOf {
  messages: Message;
  folders: Folder;
  threads: Thread;
  submissions: Submission;
  identities: Identity;
  quotas: Quota;
}

/** State tokens per type; a missing type has never been synced. */
export type StateTokens = Partial<Record<SyncType, string>>;

const TOKEN_PREFIX = 'state:';

/** Reads the committed state tokens. */
export async function getTokens(db: MailboxDb): Promise<StateTokens> {
  const rows = await db.syncState.bulkGet(SYNC_TYPES.map((t) => TOKEN_PREFIX + t));
  const tokens: StateTokens = {};
  SYNC_TYPES.forEach((type, i) => {
    const value = rows[i]?.value;
    if (typeof value === 'string') tokens[type] = value;
  });
  return tokens;
}

/** Writes state tokens (in the caller's transaction, with the records they describe). */
export async function setTokens(db: MailboxDb, tokens: StateTokens): Promise<void> {
  const rows = Object.entries(tokens)
    .filter((e): e is [SyncType, string] => typeof e[1] === 'string')
    .map(([type, value]) => ({ key: TOKEN_PREFIX + type, value }));
  if (rows.length > 0) await db.syncState.bulkPut(rows);
}

/** Reads one `syncState` value. */
export async function getSyncValue<T>(db: MailboxDb, key: string): Promise<T | undefined> {
  return (await db.syncState.get(key))?.value as T | undefined;
}

/** Writes (or with `undefined`, deletes) one `syncState` value. */
export async function setSyncValue(db: MailboxDb, key: string, value: unknown): Promise<void> {
  if (value === undefined) await db.syncState.delete(key);
  else await db.syncState.put({ key, value });
}

/**
 * Writes server records of one type and removes destroyed ids. Messages, folders
 * and threads go through the overlay so pending local changes stay applied.
 */
export async function putServerRecords<T extends SyncType>(
  db: MailboxDb,
  type: T,
  records: readonly RecordOf[T][],
  destroyed: readonly string[] = [],
): Promise<void> {
  switch (type) {
    case 'messages':
      return putServerMessages(db, records as readonly Message[], destroyed);
    case 'folders':
      return putServerFolders(db, records as readonly Folder[], destroyed);
    case 'threads':
      return putServerThreads(db, records as readonly Thread[], destroyed);
    default: {
      const table = db[type as 'identities' | 'quotas' | 'submissions'] as unknown as Table<RecordOf[T], string>;
      if (records.length > 0) await table.bulkPut([...records]);
      if (destroyed.length > 0) await table.bulkDelete([...destroyed]);
    }
  }
}

/**
 * Ids the replica holds for a type, including messages that exist on the server
 * but are hidden by a pending local remove (they live only in `shadows`).
 */
export async function localIds(db: MailboxDb, type: SyncType): Promise<Set<string>> {
  const ids = new Set<string>((await db[type].toCollection().primaryKeys()) as string[]);
  if (type === 'messages') {
    for (const shadow of await db.shadows.toArray()) if (shadow.server) ids.add(shadow.id);
  }
  return ids;
}

/**
 * After a full re-listing of a type: removes every local record the listing did not
 * contain (the server no longer has it). Messages with pending ops keep their ops;
 * their server copy becomes null, so they disappear until the outbox resolves them.
 */
export async function sweepServerRecords(db: MailboxDb, type: SyncType, listed: ReadonlySet<string>): Promise<string[]> {
  const gone = [...(await localIds(db, type))].filter((id) => !listed.has(id));
  for (let i = 0; i < gone.length; i += 500) {
    await putServerRecords(db, type, [], gone.slice(i, i + 500));
  }
  return gone;
}
