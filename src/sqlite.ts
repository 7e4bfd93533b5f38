/**
 * `sendmux-sync/sqlite`: the replica on a SQLite file, for Node and Electron's main
 * process (`createMailboxSync({ apiKey, storage: sqliteStorage({ path }) })`).
 *
 * Needs the optional peer dependency `better-sqlite3` (12.x); browser bundles never
 * import this entry.
 *
 * @module
 */
export { sqliteStorage, SqliteStorageError, type SqliteFileOptions, type SqliteStorage, type SqliteStorageOptions } from './store/sqlite/index.js';
