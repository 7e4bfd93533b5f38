// Where a replica lives: the storage backends of the replica port.
//
// The store's functions are written once against Dexie's API; a backend decides what
// is beneath it. IndexedDB (browsers, Electron renderers, fake-indexeddb in tests) is
// Dexie's own; SQLite (`sendmux-sync/sqlite`) replaces Dexie's storage layer with one
// on a better-sqlite3 file. Both run the same transactions, the same change feed
// (`live`) and the same test suites.
import type { Dexie } from 'dexie';
import type { SearchQuery, SearchSnippet } from './searchSyntax.js';

/** How a backend prepares one Dexie database (replica or content cache) it stores. */
export interface StorageDriver {
  /** The IndexedDB factory and key range Dexie opens the database with. */
  readonly indexedDB: IDBFactory;
  readonly IDBKeyRange: typeof IDBKeyRange;
  /** Installs the backend on a database before it opens (called by its constructor). */
  attach?(db: Dexie): void;
}

/**
 * A storage backend for the replica: `indexedDBStorage(...)` or `sqliteStorage(...)`
 * from `sendmux-sync/sqlite`. Pass it as `createMailboxSync({ storage })`.
 */
export interface ReplicaStorage {
  /** Which backend this is. */
  readonly kind: 'indexeddb' | 'sqlite';
  /** Where the data lives, for status and errors (a file path for SQLite). */
  readonly location: string;
  /** How databases are opened on it. */
  readonly driver: StorageDriver;
  /** A full-text index of the replica's messages, when the backend keeps one. */
  readonly textSearch?: TextSearch;
}

/** A backend's full-text index (SQLite: FTS5). */
export interface TextSearch {
  /**
   * Candidate hits of `query` in the replica `dbName`, newest first: every true hit is
   * among them (the caller checks each against the whole query). `folderIds` resolves
   * `in:` names as the caller does. Undefined when the index cannot answer this query.
   */
  candidates(
    dbName: string,
    query: SearchQuery,
    page: { limit: number; offset: number; folderIds?: (nameOrRole: string) => string[] },
  ): Promise<Array<{ id: string; snippet?: SearchSnippet }> | undefined>;
}

/** IndexedDB as a {@link ReplicaStorage}: the browser's own, or any factory (fake-indexeddb in tests). */
export function indexedDBStorage(options: { indexedDB: IDBFactory; IDBKeyRange: typeof IDBKeyRange }): ReplicaStorage {
  return { kind: 'indexeddb', location: 'indexeddb', driver: { indexedDB: options.indexedDB, IDBKeyRange: options.IDBKeyRange } };
}

/** The storage of engine options that name a factory (`indexedDB`, `IDBKeyRange`) or a storage. */
export function storageOf(options: {
  storage?: ReplicaStorage;
  indexedDB?: IDBFactory;
  IDBKeyRange?: typeof IDBKeyRange;
}): ReplicaStorage | undefined {
  if (options.storage) return options.storage;
  if (options.indexedDB && options.IDBKeyRange) return indexedDBStorage({ indexedDB: options.indexedDB, IDBKeyRange: options.IDBKeyRange });
  return undefined;
}
