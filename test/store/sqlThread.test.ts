// The SQL thread (src/store/sqlite/sqlThread.ts): the file's writes on a worker
// thread. The same answers as on the calling thread and as IndexedDB, views that
// re-run on this process's writes and on another process's, a clean close, and a
// thread that fails handing the writes back.
import Database from 'better-sqlite3';
import { Dexie, liveQuery } from 'dexie';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import fc from 'fast-check';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteFile } from '../../src/store/sqlite/file.js';
import { sqliteStorage } from '../../src/store/sqlite/index.js';
import type { SqliteFileOptions } from '../../src/store/sqlite/errors.js';
import { scratchDir } from '../helpers/storage.js';

let files = 0;
const newPath = () => join(scratchDir(), `sql-thread-${(files += 1)}.sqlite`);

interface Row {
  id: string;
  folder: string;
  n: number;
  tags: string[];
}

type Db = Dexie & { rows: Dexie.Table<Row, string>; log: Dexie.Table<{ seq?: number; kind: string }, number> };

function open(name: string, options: { indexedDB: IDBFactory } | { path: string; file?: SqliteFileOptions }): Db {
  const storage = 'path' in options ? sqliteStorage({ path: options.path, ...options.file }) : undefined;
  const db = new Dexie(name, storage ? { indexedDB: storage.driver.indexedDB, IDBKeyRange } : { indexedDB: (options as { indexedDB: IDBFactory }).indexedDB, IDBKeyRange });
  db.version(1).stores({ rows: 'id, [folder+n], *tags', log: '++seq, kind' });
  storage?.driver.attach?.(db);
  return db as Db;
}

/** A file whose writes run on the SQL thread from the start. */
async function threadedFile(path: string, options: SqliteFileOptions = {}): Promise<SqliteFile> {
  const file = SqliteFile.acquire(path, { sqlThreadAfterCommits: 0, ...options });
  await file.threadSettled();
  expect(file.writesRun).toBe('thread');
  return file;
}

const row = fc.record({
  id: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
  folder: fc.constantFrom('x', 'y'),
  n: fc.integer({ min: 0, max: 3 }),
  tags: fc.uniqueArray(fc.constantFrom('t1', 't2'), { maxLength: 2 }),
});
const op = fc.oneof(
  fc.record({ t: fc.constant('put' as const), rows: fc.array(row, { minLength: 1, maxLength: 4 }) }),
  fc.record({ t: fc.constant('add' as const), row }),
  fc.record({ t: fc.constant('delete' as const), ids: fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'e'), { maxLength: 3 }) }),
  fc.record({ t: fc.constant('modify' as const), folder: fc.constantFrom('x', 'y') }),
  fc.record({ t: fc.constant('log' as const), kind: fc.constantFrom('u', 'v') }),
  fc.record({ t: fc.constant('abort' as const), row }),
);
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

async function apply(db: Db, o: Op): Promise<unknown> {
  try {
    switch (o.t) {
      case 'put':
        return await db.rows.bulkPut(o.rows);
      case 'add':
        return await db.rows.add(o.row);
      case 'delete':
        return await db.rows.bulkDelete(o.ids);
      case 'modify':
        // A cursor inside a write transaction (its chunks come from the SQL thread).
        return await db.transaction('rw', db.rows, async () => {
          const seen = await db.rows.where('[folder+n]').between([o.folder, 0], [o.folder, 9]).filter((r) => r.n % 2 === 0).toArray();
          await db.rows.where('[folder+n]').between([o.folder, 0], [o.folder, 9]).modify((r) => void (r.n += 1));
          return seen.map((r) => r.id);
        });
      case 'log':
        return await db.log.add({ kind: o.kind });
      case 'abort':
        return await db.transaction('rw', db.rows, async () => {
          await db.rows.put(o.row);
          throw new Error('rolled back');
        });
    }
  } catch (error) {
    return `error: ${(error as Error).name} ${(error as Error).message.includes('rolled back') ? 'rolled back' : ''}`;
  }
}

async function observe(db: Db): Promise<unknown> {
  return {
    rows: await db.rows.toArray(),
    byFolder: await db.rows.where('[folder+n]').between(['x', 0], ['y', 9]).primaryKeys(),
    byTag: await db.rows.where('tags').equals('t1').primaryKeys(),
    reversed: await db.rows.reverse().limit(3).primaryKeys(),
    log: await db.log.toArray(),
  };
}

describe('the SQL thread', () => {
  it('gives the same answers as IndexedDB, inside write transactions too (a seeded run)', async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 10 }), async (ops) => {
        runs += 1;
        const path = newPath();
        const file = await threadedFile(path);
        const reference = open(`diff-${runs}`, { indexedDB: new IDBFactory() });
        const subject = open(`diff-${runs}`, { path });
        try {
          for (const o of ops) {
            expect(await apply(subject, o)).toEqual(await apply(reference, o));
            expect(await observe(subject)).toEqual(await observe(reference));
          }
          expect(file.writesRun).toBe('thread');
        } finally {
          reference.close();
          subject.close();
          file.release();
        }
      }),
      { numRuns: 25, seed: Number(process.env.FC_SEED ?? 20261203) },
    );
  }, 120_000);

  it("re-runs live queries on this process's writes and on another process's", async () => {
    const path = newPath();
    const file = await threadedFile(path, { pollMs: 20 });
    const db = open('live', { path });
    try {
      const seen: number[] = [];
      const sub = liveQuery(() => db.rows.count()).subscribe((n) => seen.push(n));
      await expect.poll(() => seen.at(-1)).toBe(0);
      await db.rows.bulkPut([{ id: 'a', folder: 'x', n: 1, tags: [] }, { id: 'b', folder: 'x', n: 2, tags: [] }]);
      await expect.poll(() => seen.at(-1)).toBe(2);
      // Straight into the file from a connection of its own: only the SQL thread's poll can tell.
      const other = new Database(path);
      const table = other.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%/rows'`).pluck().get() as string;
      other.prepare(`DELETE FROM "${table}" WHERE rowid = (SELECT min(rowid) FROM "${table}")`).run();
      other.close();
      await expect.poll(() => seen.at(-1), { timeout: 5_000 }).toBe(1);
      sub.unsubscribe();
      expect(file.writesRun).toBe('thread');
    } finally {
      db.close();
      file.release();
    }
  });

  it('starts after the first writes of a busy file, and the rows written before and after read as one', async () => {
    const path = newPath();
    const file = SqliteFile.acquire(path, { sqlThreadAfterCommits: 5 });
    const db = open('switch', { path });
    try {
      for (let i = 0; i < 40; i++) await db.rows.put({ id: `r${i}`, folder: 'x', n: i % 4, tags: ['t1'] });
      await file.threadSettled();
      expect(file.writesRun).toBe('thread');
      for (let i = 40; i < 60; i++) await db.rows.put({ id: `r${i}`, folder: 'x', n: i % 4, tags: ['t1'] });
      expect(await db.rows.count()).toBe(60);
      expect(await db.rows.where('tags').equals('t1').count()).toBe(60);
    } finally {
      db.close();
      file.release();
    }
  });

  it('closes with the file: the log is gone, and the file opens again with every row', async () => {
    const path = newPath();
    const file = await threadedFile(path);
    const db = open('close', { path });
    await db.rows.bulkPut(Array.from({ length: 300 }, (_, i) => ({ id: `r${i}`, folder: 'y', n: i, tags: [] })));
    db.close();
    file.release();
    expect(existsSync(`${path}-wal`)).toBe(false);
    const again = open('close', { path });
    expect(await again.rows.count()).toBe(300);
    again.close();
  });

  it('a thread that dies fails the transaction it held, and the writes come back to the calling thread', async () => {
    const path = newPath();
    const file = await threadedFile(path);
    const db = open('failing', { path });
    try {
      await db.rows.put({ id: 'a', folder: 'x', n: 1, tags: [] });
      // The worker goes away (a crash of the thread, not of the process).
      const thread = (file as unknown as { thread: { worker: { terminate(): Promise<number> } } }).thread;
      const stuck = db.transaction('rw', db.rows, async () => {
        await db.rows.put({ id: 'b', folder: 'x', n: 2, tags: [] });
        // Not awaited: a foreign promise would end the transaction's zone.
        void thread.worker.terminate();
        await db.rows.put({ id: 'c', folder: 'x', n: 3, tags: [] });
      });
      await expect(stuck).rejects.toThrow();
      await expect.poll(() => file.writesRun).toBe('here');
      await db.rows.put({ id: 'd', folder: 'x', n: 4, tags: [] });
      expect((await db.rows.toArray()).map((r) => r.id)).toEqual(['a', 'd']);
    } finally {
      db.close();
      file.release();
    }
  });

  it('run() on a transaction of the SQL thread fails with an error that says so', async () => {
    const path = newPath();
    const file = await threadedFile(path);
    try {
      const trans = file.transaction('readwrite', ['x/y']);
      await expect(trans.run(() => 1)).rejects.toThrow(/SQL thread/);
      trans.abort();
    } finally {
      file.release();
    }
  });
});
