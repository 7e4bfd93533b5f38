// `sendmux-sync/sqlite`: the replica on a SQLite file (Node, Electron's main process).
// Needs the optional peer dependency better-sqlite3 (12.x); browser bundles never
// import this entry.
export { sqliteStorage, SqliteStorageError, type SqliteFileOptions, type SqliteStorage, type SqliteStorageOptions } from './store/sqlite/index.js';
