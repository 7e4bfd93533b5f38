// `sqliteStorage({ path })`: the replica (and its content cache) in one SQLite file,
// for Node, Electron's main process, the CLI and agents.
import { resolve } from 'node:path';
import { Dexie, RangeSet, type DBCore } from 'dexie';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import type { ReplicaStorage, StorageDriver } from '../storage.js';
import { createSqliteCore, dropSqliteDatabase, type TableWriteHook } from './core.js';
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
  const hooks: Record<string, Record<string, TableWriteHook[]>> = {};
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
          return createSqliteCore(down, { file, hooks: hooks[db.name] ?? {} });
        },
      });
      db.on('close', () => {
        stopWatching?.();
        file?.release();
        file = undefined;
        stopWatching = undefined;
      });
    },
  };
  return { kind: 'sqlite', location: path, driver };
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
