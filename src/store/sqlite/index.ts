// `sqliteStorage({ path })`: the replica (and its content cache) in one SQLite file,
// for Node, Electron's main process, the CLI and agents.
import { resolve } from 'node:path';
import { Dexie, RangeSet, type DBCore } from 'dexie';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import type { Message } from '../../api/types.js';
import type { BodyRow } from '../contentDb.js';
import { CONTENT_DB_SUFFIX } from '../contentDb.js';
import type { SearchQuery } from '../searchSyntax.js';
import type { ReplicaStorage, StorageDriver, TextSearch } from '../storage.js';
import { createSqliteCore, dropSqliteDatabase, storedValue, tablePrefix, type SqliteCoreOptions } from './core.js';
import { ftsCandidates, ftsTables, hasPending, indexBodies, indexMessages, pendingInFile, setupFts, toFtsQuery } from './fts.js';
import { IndexFiller } from './fill.js';
import type { SqliteFileOptions } from './errors.js';
import { SqliteFile } from './file.js';

export { SqliteStorageError, type SqliteFileOptions } from './errors.js';

/** Options of {@link sqliteStorage}. */
export interface SqliteStorageOptions extends SqliteFileOptions {
  /**
   * The database file (created with mode 0600, its folder with 0700). One file per
   * mailbox: the replica and the content cache share it.
   */
  path: string;
}

/** A {@link ReplicaStorage} on SQLite. */
export interface SqliteStorage extends ReplicaStorage {
  readonly kind: 'sqlite';
  /**
   * Resolves once the full-text index holds every message of the file's replicas. A
   * bootstrap's messages are indexed in the background after its writes (a few
   * seconds per 100k); until then `search$` reads the replica without the index.
   * The filling runs while a replica on the file is open (an engine started on it).
   * `onProgress` hears how many messages still wait, every `pollMs` (default 100).
   */
  whenIndexed(options?: { onProgress?: (waiting: number) => void; pollMs?: number; signal?: AbortSignal }): Promise<void>;
}

/**
 * The replica on a SQLite file (better-sqlite3, WAL). Two processes on one file
 * behave like two tabs: one leads, the other follows and sees its writes.
 *
 * @example
 * ```ts
 * import { createMailboxSync } from 'sendmux-sync';
 * import { sqliteStorage } from 'sendmux-sync/sqlite';
 * const sync = createMailboxSync({ apiKey, storage: sqliteStorage({ path: './mail/replica.sqlite' }) });
 * ```
 */
export function sqliteStorage(options: SqliteStorageOptions): SqliteStorage {
  const path = options.path === ':memory:' ? options.path : resolve(options.path);
  // Dexie opens its databases through IndexedDB; an in-memory one holds only their
  // schema, while every row lives in the SQLite file beneath.
  const factory = new IDBFactory();
  const deleteDatabase = factory.deleteDatabase.bind(factory);
  // Dexie's `db.delete()` resolves when this request succeeds: only after the rows are
  // gone from the file (dropping waits for transactions still running on it).
  factory.deleteDatabase = (name: string) => {
    const request = new DeferredRequest();
    const file = SqliteFile.acquire(path, options);
    dropSqliteDatabase(file, name)
      .finally(() => file.release())
      .then(
        () => request.follow(deleteDatabase(name)),
        (error: unknown) => request.fail(error as Error),
      );
    return request as unknown as IDBOpenDBRequest;
  };
  const driver: StorageDriver = {
    indexedDB: factory,
    IDBKeyRange,
    attach(db: Dexie) {
      // Dexie's liveQuery never runs while it has no default IndexedDB (Node).
      if (!Dexie.dependencies.indexedDB) {
        Dexie.dependencies.indexedDB = factory;
        Dexie.dependencies.IDBKeyRange = IDBKeyRange;
      }
      let file: SqliteFile | undefined;
      let stopWatching: (() => void) | undefined;
      let filler: IndexFiller | undefined;
      db.use({
        stack: 'dbcore',
        name: 'sendmux-sqlite',
        // Below Dexie's own middlewares (the lowest is -1): this is the storage.
        level: -10,
        create(down: DBCore): DBCore {
          if (!file) {
            file = SqliteFile.acquire(path, options);
            stopWatching = file.onExternalChange(() => announceAll(db, down));
          }
          if (isReplica(db)) {
            filler ??= new IndexFiller({
              file,
              dbName: db.name,
              tables: ftsTables(tablePrefix(db.name)),
              // Searches that read around the index re-run through it.
              onFilled: () => announceAll(db, down),
            });
          }
          return createSqliteCore(down, { file, ...fullText(db, filler) });
        },
      });
      db.on('close', () => {
        filler?.stop();
        filler = undefined;
        stopWatching?.();
        file?.release();
        file = undefined;
        stopWatching = undefined;
      });
    },
  };
  const textSearch: TextSearch = {
    async candidates(dbName: string, query: SearchQuery, page: { limit: number; offset: number; folderIds?: (nameOrRole: string) => string[] }) {
      const compiled = toFtsQuery(query, page.folderIds);
      const file = SqliteFile.acquire(path, options);
      try {
        const trans = file.transaction('readonly', [`${dbName}/messages`]);
        const tables = ftsTables(tablePrefix(dbName));
        // Messages still queued for the filler would be missed: the caller scans instead.
        const found = trans.run((conn) => (hasPending(conn, tables) ? undefined : ftsCandidates(conn, tables, compiled, page).map((id) => ({ id }))));
        trans.commit();
        return await found;
      } finally {
        file.release();
      }
    },
  };
  async function whenIndexed(wait: { onProgress?: (waiting: number) => void; pollMs?: number; signal?: AbortSignal } = {}): Promise<void> {
    const file = SqliteFile.acquire(path, options);
    try {
      for (;;) {
        wait.signal?.throwIfAborted();
        const trans = file.transaction('readonly', []);
        const waiting = trans.run(pendingInFile);
        trans.commit();
        const n = await waiting;
        wait.onProgress?.(n);
        if (n === 0) return;
        await new Promise((resolve) => setTimeout(resolve, wait.pollMs ?? 100));
      }
    } finally {
      file.release();
    }
  }
  return { kind: 'sqlite', location: path, driver, textSearch, whenIndexed };
}

/**
 * The full-text index's part in a database: the replica indexes its messages, the
 * content cache its bodies' text (into the replica's index, in the same file).
 */
function fullText(db: Dexie, filler: IndexFiller | undefined): Pick<SqliteCoreOptions, 'hooks' | 'setup'> {
  if (isReplica(db)) {
    const tables = ftsTables(tablePrefix(db.name));
    return {
      hooks: {
        messages: [
          (conn, changes) => {
            const queued = indexMessages(
              conn,
              tables,
              changes.map((c) => ({ id: c.key as string, previous: c.previous as Message | undefined, next: c.next as Message | undefined })),
              { defer: filler !== undefined },
            );
            if (queued > 0) filler?.wake();
          },
        ],
      },
      setup(conn, rows) {
        // A replica written before the index (or this layout of it) existed: every
        // message it holds is queued for the filler.
        if (setupFts(conn, tables)) {
          const queue = conn.db.prepare(`INSERT INTO ${tables.pending} (id) VALUES (?)`);
          for (const [key] of rows('messages')) queue.run(key as string);
        }
        // Queued by this run or left by an earlier one (a crash, an exit mid-fill).
        if (hasPending(conn, tables)) filler?.wake();
      },
    };
  }
  if (db.tables.some((t) => t.name === 'bodies') && db.name.endsWith(CONTENT_DB_SUFFIX)) {
    const tables = ftsTables(tablePrefix(db.name.slice(0, -CONTENT_DB_SUFFIX.length)));
    return {
      hooks: {
        bodies: [
          (conn, changes) => {
            const bodies: Array<{ id: string; text: string | null }> = [];
            for (const { previous, next } of changes) {
              const row = (next ?? previous) as BodyRow | undefined;
              if (!row || row.kind !== 'content') continue;
              const body = row.data.body as { text?: string | null } | null | undefined;
              bodies.push({ id: row.message_id, text: next ? (body?.text ?? null) : null });
            }
            try {
              indexBodies(conn, tables, bodies, (id) => storedValue(conn, tables.messages, id) as Message | undefined);
            } catch (error) {
              // The replica's index is not there (a content cache opened on its own).
              if (!/no such table/.test((error as Error).message)) throw error;
            }
          },
        ],
      },
    };
  }
  return {};
}

/** Whether `db` is a mailbox replica (it has a full-text index), not a content cache. */
function isReplica(db: Dexie): boolean {
  const names = new Set(db.tables.map((t) => t.name));
  return names.has('messages') && names.has('folderIndex');
}

/** An IDBRequest that settles like another one made later (or fails first). */
class DeferredRequest {
  onsuccess: ((event: unknown) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  onblocked: ((event: unknown) => void) | null = null;
  onupgradeneeded: ((event: unknown) => void) | null = null;
  result: unknown = undefined;
  error: Error | null = null;
  readyState: 'pending' | 'done' = 'pending';

  follow(real: IDBOpenDBRequest): void {
    real.onsuccess = (event) => {
      this.result = real.result;
      this.readyState = 'done';
      this.onsuccess?.({ ...event, target: this });
    };
    real.onerror = (event) => {
      this.error = real.error as Error | null;
      this.readyState = 'done';
      this.onerror?.({ ...event, target: this, preventDefault() {}, stopPropagation() {} });
    };
    real.onblocked = (event) => this.onblocked?.(event);
  }

  fail(error: Error): void {
    this.error = error;
    this.readyState = 'done';
    this.onerror?.({ type: 'error', target: this, preventDefault() {}, stopPropagation() {} });
  }
}

/** Tells every live query of `db` that anything may have changed (another process wrote). */
function announceAll(db: Dexie, core: DBCore): void {
  const parts: Record<string, RangeSet> = {};
  for (const table of core.schema.tables) {
    for (const index of ['', ':dels', ...table.indexes.map((i) => i.name ?? '')]) {
      parts[`idb://${db.name}/${table.name}/${index}`] = new RangeSet(core.MIN_KEY, [[]]);
    }
  }
  Dexie.on.storagemutated.fire(parts);
}
