// The peers measured beside the engine, runnable in Node (fake-indexeddb) and in
// Chromium (real IndexedDB): raw Dexie (the limit: one bulkPut, one indexed range
// read) and RxDB 17 on its free Dexie storage.
//
// Each function opens its own database instance outside the timed region and closes
// it afterwards, so a query is measured cold (RxDB caches query results per
// database instance; reusing one would time the cache).
import { Dexie } from 'dexie';
import { createRxDatabase, removeRxDatabase } from 'rxdb';
import type { RxCollection, RxJsonSchema } from 'rxdb';
import { getRxStorageDexie } from 'rxdb/plugins/storage-dexie';
import { firstValueFrom } from 'rxjs';
import { filter } from 'rxjs/operators';
import type { PeerRow } from './shape.js';

/** The IndexedDB implementation to use (fake-indexeddb in Node, the window's in Chromium). */
export interface IdbEnv {
  indexedDB: IDBFactory;
  IDBKeyRange: typeof IDBKeyRange;
}

/** Result of one timed query: the ids returned, newest first. */
export interface QueryRun {
  ms: number;
  ids: string[];
}

export const PAGE = 50;

// ---- raw Dexie --------------------------------------------------------------------

function openDexie(env: IdbEnv, name: string): Dexie {
  const db = new Dexie(name, { indexedDB: env.indexedDB, IDBKeyRange: env.IDBKeyRange });
  db.version(1).stores({ messages: 'id, [folder_id+received_at]' });
  return db;
}

/** Milliseconds for one `bulkPut` of all rows into an empty table. */
export async function dexieIngest(env: IdbEnv, name: string, rows: readonly PeerRow[]): Promise<number> {
  const db = openDexie(env, name);
  await db.open();
  const t0 = performance.now();
  await db.table('messages').bulkPut(rows as PeerRow[]);
  const ms = performance.now() - t0;
  const count = await db.table('messages').count();
  db.close();
  if (count !== rows.length) throw new Error(`dexie ingest stored ${count} of ${rows.length}`);
  return ms;
}

/** Newest `PAGE` of a folder through the compound index, read backwards. */
export async function dexieFolderQuery(env: IdbEnv, name: string, folderId: string): Promise<QueryRun> {
  const db = openDexie(env, name);
  await db.open();
  const t0 = performance.now();
  const rows = (await db
    .table('messages')
    .where('[folder_id+received_at]')
    .between([folderId, Dexie.minKey], [folderId, Dexie.maxKey])
    .reverse()
    .limit(PAGE)
    .toArray()) as PeerRow[];
  const ms = performance.now() - t0;
  db.close();
  return { ms, ids: rows.map((r) => r.id) };
}

export async function dexieDelete(env: IdbEnv, name: string): Promise<void> {
  await new Dexie(name, { indexedDB: env.indexedDB, IDBKeyRange: env.IDBKeyRange }).delete();
}

// ---- RxDB ---------------------------------------------------------------------------

const ADDRESS = { type: ['object', 'null'] } as const;
const ADDRESSES = { type: 'array', items: { type: 'object' } } as const;

/** The schema an RxDB user would write for the API's message summary. */
export const RXDB_SCHEMA: RxJsonSchema<PeerRow> = {
  version: 0,
  primaryKey: 'id',
  type: 'object',
  properties: {
    id: { type: 'string', maxLength: 64 },
    folder_id: { type: 'string', maxLength: 64 },
    received_at: { type: 'string', maxLength: 40 },
    folder_ids: { type: 'array', items: { type: 'string' } },
    thread_id: { type: ['string', 'null'] },
    subject: { type: ['string', 'null'] },
    preview: { type: ['string', 'null'] },
    from: ADDRESS,
    to: ADDRESSES,
    cc: ADDRESSES,
    bcc: ADDRESSES,
    sent_at: { type: ['string', 'null'] },
    size_bytes: { type: ['number', 'null'] },
    has_attachments: { type: 'boolean' },
    attachments: { type: 'array', items: { type: 'object' } },
    flags: { type: 'object' },
    keywords: { type: 'array', items: { type: 'string' } },
  },
  required: ['id', 'folder_id', 'received_at'],
  indexes: [['folder_id', 'received_at']],
};

async function openRx(env: IdbEnv, name: string) {
  const db = await createRxDatabase<{ messages: RxCollection<PeerRow> }>({
    name,
    storage: getRxStorageDexie({ indexedDB: env.indexedDB, IDBKeyRange: env.IDBKeyRange }),
    multiInstance: false,
    eventReduce: true,
    closeDuplicates: true,
  });
  await db.addCollections({ messages: { schema: RXDB_SCHEMA } });
  return db;
}

/** Milliseconds for one `bulkInsert` of all rows into an empty collection. */
export async function rxdbIngest(env: IdbEnv, name: string, rows: readonly PeerRow[]): Promise<number> {
  const db = await openRx(env, name);
  const t0 = performance.now();
  const res = await db.messages.bulkInsert(rows as PeerRow[]);
  const ms = performance.now() - t0;
  const count = await db.messages.count().exec();
  await db.close();
  if (res.error.length) throw new Error(`rxdb bulkInsert: ${res.error.length} errors, first ${JSON.stringify(res.error[0]).slice(0, 200)}`);
  if (count !== rows.length) throw new Error(`rxdb ingest stored ${count} of ${rows.length}`);
  return ms;
}

/** Newest `PAGE` of a folder as an RxDB user writes it: `find(...).$`, first emission. */
export async function rxdbFolderQuery(env: IdbEnv, name: string, folderId: string): Promise<QueryRun> {
  const db = await openRx(env, name);
  const t0 = performance.now();
  const docs = await firstValueFrom(
    db.messages
      .find({ selector: { folder_id: folderId }, sort: [{ received_at: 'desc' }], limit: PAGE })
      .$.pipe(filter((d): d is NonNullable<typeof d> => Array.isArray(d))),
  );
  const ms = performance.now() - t0;
  const ids = docs.map((d) => d.id);
  await db.close();
  return { ms, ids };
}

export async function rxdbDelete(env: IdbEnv, name: string): Promise<void> {
  await removeRxDatabase(name, getRxStorageDexie({ indexedDB: env.indexedDB, IDBKeyRange: env.IDBKeyRange }), false);
}

/** The peer functions in one object, as the Node runner and the browser bundle use them. */
export const peers = { dexieIngest, dexieFolderQuery, dexieDelete, rxdbIngest, rxdbFolderQuery, rxdbDelete };
export type Peers = typeof peers;
