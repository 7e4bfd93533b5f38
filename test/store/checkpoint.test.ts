// The SQLite file's checkpoints on a worker thread (src/store/sqlite/checkpoint.ts):
// the log is copied back into the database file while the process writes, closing
// leaves no log behind, and a worker that cannot start leaves SQLite's own
// checkpoints in place.
import Database from 'better-sqlite3';
import { Dexie } from 'dexie';
import { IDBKeyRange } from 'fake-indexeddb';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteFile } from '../../src/store/sqlite/file.js';
import { sqliteStorage, type SqliteStorageOptions } from '../../src/store/sqlite/index.js';
import { scratchDir } from '../helpers/storage.js';

let files = 0;
const newPath = () => join(scratchDir(), `checkpoint-test-${(files += 1)}.sqlite`);

/** A Dexie database of one table on a SQLite file. */
function open(options: SqliteStorageOptions) {
  const storage = sqliteStorage(options);
  const db = new Dexie('checkpoints', { indexedDB: storage.driver.indexedDB, IDBKeyRange });
  db.version(1).stores({ rows: 'id' });
  storage.driver.attach?.(db);
  return db;
}

/** `n` write transactions of one 8 KiB row each (over two pages of log per commit). */
async function write(db: Dexie, n: number): Promise<void> {
  const blob = 'x'.repeat(8 * 1024);
  for (let i = 0; i < n; i++) await db.table('rows').put({ id: `r${i}`, blob });
}

/** The log's length in pages, read by another connection (a PASSIVE checkpoint of nothing new). */
function logPages(path: string): number {
  const raw = new Database(path);
  try {
    const [row] = raw.pragma('wal_checkpoint(PASSIVE)') as { log: number }[];
    return row!.log;
  } finally {
    raw.close();
  }
}

/** Where the open file's checkpoints run. */
function checkpointsOf(path: string): 'inline' | 'worker' {
  const file = SqliteFile.acquire(path);
  file.release();
  return file.checkpoints;
}

const COMMITS = 150;

describe('SQLite checkpoints on a worker thread', () => {
  it('copies the log back into the database file while the process writes', async () => {
    const path = newPath();
    const db = open({ path });
    await write(db, COMMITS);
    expect(checkpointsOf(path)).toBe('worker');
    // The rows reached the database file itself (SQLite's own checkpoints would not
    // run before 16,384 pages of log).
    await expect.poll(() => statSync(path).size, { timeout: 5_000 }).toBeGreaterThan(COMMITS * 8 * 1024);
    // The log itself is SQLite's to start over (at 16,384 pages): it still holds every commit.
    expect(logPages(path)).toBeGreaterThanOrEqual(2 * COMMITS);
    expect(await db.table('rows').count()).toBe(COMMITS);
    db.close();
  });

  it('without the worker (checkpointWorker: false) the same writes stay in the log', async () => {
    const path = newPath();
    const db = open({ path, checkpointWorker: false });
    await write(db, COMMITS);
    expect(checkpointsOf(path)).toBe('inline');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(statSync(path).size).toBeLessThan(COMMITS * 8 * 1024);
    expect(logPages(path)).toBeGreaterThanOrEqual(2 * COMMITS);
    db.close();
  });

  it('closing leaves no log: the worker closes its connection before the last one of the process', async () => {
    const path = newPath();
    const db = open({ path });
    await write(db, COMMITS);
    expect(checkpointsOf(path)).toBe('worker');
    db.close();
    await expect.poll(() => existsSync(`${path}-wal`)).toBe(false);
    const raw = new Database(path, { readonly: true });
    const table = raw.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%/rows'`).pluck().get() as string;
    expect(raw.prepare(`SELECT count(*) FROM "${table}"`).pluck().get()).toBe(COMMITS);
    raw.close();
  });

  it('a worker that fails to be created leaves the checkpoints to SQLite, and the commit that tried stands', async () => {
    const path = newPath();
    // Not cloneable into a worker: `new Worker` throws in the 32nd commit.
    const db = open({ path, checkpointDriver: (() => 'x') as unknown as string });
    await write(db, 40);
    expect(checkpointsOf(path)).toBe('inline');
    expect(await db.table('rows').count()).toBe(40);
    db.close();
  });

  it('a worker that cannot start leaves the checkpoints to SQLite, and writes go on', async () => {
    const path = newPath();
    const db = open({ path, checkpointDriver: join(scratchDir(), 'no-such-driver.js') });
    await write(db, 40);
    await expect.poll(() => checkpointsOf(path)).toBe('inline');
    await write(db, 10);
    expect(await db.table('rows').count()).toBe(40);
    db.close();
  });
});
