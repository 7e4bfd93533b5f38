// The engine's own store measured on the peers' data: its server-apply path
// (putServerMessages inside one rw transaction over the overlay tables, exactly what
// a committed sync page does) and its local folder query (the folder index, `folderIndex`).
import { MailboxDb } from '../../src/store/db.js';
import { putServerMessages } from '../../src/store/overlay.js';
import { queryMessages } from '../../src/store/queries.js';
import type { IdbEnv, QueryRun } from './peers.js';
import { PAGE } from './peers.js';
import type { Message } from './shape.js';

/**
 * Milliseconds to apply `messages` to an empty replica in pages of `pageSize`
 * records, one transaction per page (pageSize ≥ messages.length: one transaction).
 */
export async function storeIngest(env: IdbEnv, name: string, messages: readonly Message[], pageSize: number): Promise<number> {
  const db = new MailboxDb(name, env);
  await db.open();
  const t0 = performance.now();
  for (let i = 0; i < messages.length; i += pageSize) {
    const page = messages.slice(i, i + pageSize);
    await db.transaction('rw', db.overlayTables, () => putServerMessages(db, page));
  }
  const ms = performance.now() - t0;
  const count = await db.messages.count();
  db.close();
  if (count !== messages.length) throw new Error(`store ingest stored ${count} of ${messages.length}`);
  return ms;
}

/** Newest `PAGE` of a folder through the store's local query (folder index). */
export async function storeFolderQuery(env: IdbEnv, name: string, folderId: string): Promise<QueryRun> {
  const db = new MailboxDb(name, env);
  await db.open();
  const t0 = performance.now();
  const rows = await queryMessages(db, { folderId, limit: PAGE });
  const ms = performance.now() - t0;
  db.close();
  return { ms, ids: rows.map((r) => r.id) };
}

export async function storeDelete(env: IdbEnv, name: string): Promise<void> {
  await new MailboxDb(name, env).delete();
}
