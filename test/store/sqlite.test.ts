// The SQLite backend against IndexedDB's own semantics: key order, a seeded
// differential run of Dexie operations on fake-indexeddb and on SQLite side by side,
// schema migrations of an existing file, persistence, file mode, and another
// connection's commits reaching live queries.
import Database from 'better-sqlite3';
import { Dexie, liveQuery } from 'dexie';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import fc from 'fast-check';
import { statSync } from 'node:fs';
import { serialize } from 'node:v8';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMailboxSync } from '../../src/index.js';
import { decodeKey, encodeKey } from '../../src/store/sqlite/keys.js';
import { decodeValue, encodeValue } from '../../src/store/sqlite/values.js';
import { sqliteStorage } from '../../src/store/sqlite/index.js';
import { scratchDir } from '../helpers/storage.js';

let files = 0;
const newPath = () => join(scratchDir(), `sqlite-test-${(files += 1)}.sqlite`);

const leafKey = fc.oneof(
  fc.double({ noNaN: true }),
  fc.integer({ min: -5, max: 5 }),
  fc.constantFrom(Infinity, -Infinity, 0, -0),
  fc.string({ maxLength: 6 }),
  fc.string({ unit: 'binary', maxLength: 4 }),
  fc.date({ noInvalidDate: true }),
);
const key: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  key: fc.oneof({ depthSize: 'small' }, leafKey, fc.array(tie('key'), { maxLength: 3 })),
})).key;

describe('SQLite keys', () => {
  it('byte order is IndexedDB key order, and keys decode to themselves', () => {
    const idb = new IDBFactory();
    fc.assert(
      fc.property(key, key, (a, b) => {
        const expected = idb.cmp(a, b);
        const actual = Math.sign(Buffer.compare(encodeKey(a), encodeKey(b)));
        expect(actual).toBe(expected);
        expect(idb.cmp(decodeKey(encodeKey(a)), a)).toBe(0);
      }),
      { numRuns: 3000, seed: Number(process.env.FC_SEED ?? 20261202) },
    );
  });
});

describe('SQLite values', () => {
  const anything = fc.anything({
    withBigInt: true,
    withBoxedValues: true,
    withDate: true,
    withMap: true,
    withSet: true,
    withNullPrototype: true,
    withObjectString: true,
    withSparseArray: true,
    withTypedArray: true,
    withUnicodeString: true,
    // Doubles include NaN, ±Infinity and -0, which JSON would not carry.
    values: [fc.boolean(), fc.integer(), fc.double(), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }), fc.constant(null), fc.constant(undefined)],
  });

  it('give back a structured clone of every value, as IndexedDB stores it', () => {
    fc.assert(
      fc.property(anything, (value) => {
        expect(decodeValue(encodeValue(value))).toStrictEqual(structuredClone(value));
      }),
      { numRuns: 3000, seed: Number(process.env.FC_SEED ?? 20261203) },
    );
    expect(Object.is(decodeValue(encodeValue(-0)), -0)).toBe(true);
    expect(Object.is((decodeValue(encodeValue({ n: -0 })) as { n: number }).n, -0)).toBe(true);
  });

  it('keep plain records as JSON text and everything else in V8 form; both, and files written before, read back', () => {
    const record = { id: 'm1', subject: 'Hi \u{1F600} \ud800', to: [{ name: 'A', email: 'a@x' }], flags: { seen: false }, size: 12.5, thread_id: null };
    const stored = encodeValue(record);
    expect(stored.toString('utf8')).toBe(JSON.stringify(record));
    expect(decodeValue(stored)).toStrictEqual(record);
    const shared = { a: 1 };
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    for (const value of [{ at: new Date(0) }, { gone: undefined }, Object.assign(new Array<number>(3), { 0: 1, 2: 3 }), { n: Number.NaN }, { x: shared, y: shared }, cyclic, Object.assign([1], { extra: true })]) {
      expect(encodeValue(value)[0]).toBe(0xff);
    }
    const again = decodeValue(encodeValue({ x: shared, y: shared })) as { x: object; y: object };
    expect(again.x).toBe(again.y);
    const loop = decodeValue(encodeValue(cyclic)) as { self: unknown };
    expect(loop.self).toBe(loop);
    // Every value of a file written before JSON text was used.
    expect(decodeValue(serialize(record))).toStrictEqual(record);
    expect(() => encodeValue({ f: () => 1 })).toThrow();
  });
});

interface Row {
  id: string;
  folder: string;
  n: number;
  tags: string[];
  nested?: { at: number };
}

function open(name: string, options: { indexedDB: IDBFactory; IDBKeyRange: typeof IDBKeyRange } | { storage: ReturnType<typeof sqliteStorage> }) {
  const driver = 'storage' in options ? options.storage.driver : options;
  const db = new Dexie(name, { indexedDB: driver.indexedDB, IDBKeyRange: driver.IDBKeyRange });
  db.version(1).stores({ rows: 'id, [folder+n], *tags, nested.at', log: '++seq, kind' });
  if ('storage' in options) options.storage.driver.attach?.(db);
  return db as Dexie & { rows: Dexie.Table<Row, string>; log: Dexie.Table<{ seq?: number; kind: string }, number> };
}

const row = fc.record({
  id: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'),
  folder: fc.constantFrom('', 'x', 'y'),
  n: fc.integer({ min: -3, max: 3 }),
  tags: fc.uniqueArray(fc.constantFrom('t1', 't2', 't3'), { maxLength: 3 }),
  nested: fc.option(fc.record({ at: fc.integer({ min: 0, max: 4 }) }), { nil: undefined }),
});

type Op =
  | { kind: 'put'; rows: Row[] }
  | { kind: 'add'; row: Row }
  | { kind: 'delete'; ids: string[] }
  | { kind: 'modify'; folder: string; n: number }
  | { kind: 'deleteWhere'; folder: string }
  | { kind: 'log'; kinds: string[] }
  | { kind: 'abort'; row: Row };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('put' as const), rows: fc.array(row, { maxLength: 60 }) }),
  fc.record({ kind: fc.constant('add' as const), row }),
  fc.record({ kind: fc.constant('delete' as const), ids: fc.array(fc.constantFrom('a', 'b', 'c', 'z'), { maxLength: 3 }) }),
  fc.record({ kind: fc.constant('modify' as const), folder: fc.constantFrom('', 'x', 'y'), n: fc.integer({ min: -3, max: 3 }) }),
  fc.record({ kind: fc.constant('deleteWhere' as const), folder: fc.constantFrom('', 'x', 'y') }),
  fc.record({ kind: fc.constant('log' as const), kinds: fc.array(fc.constantFrom('u', 'r', 's'), { minLength: 1, maxLength: 3 }) }),
  fc.record({ kind: fc.constant('abort' as const), row }),
);

async function apply(db: ReturnType<typeof open>, o: Op): Promise<unknown> {
  try {
    switch (o.kind) {
      case 'put':
        return await db.rows.bulkPut(o.rows);
      case 'add':
        return await db.rows.add(o.row);
      case 'delete':
        return await db.rows.bulkDelete(o.ids);
      case 'modify':
        return await db.rows.where('[folder+n]').between([o.folder, -Infinity], [o.folder, Infinity]).modify({ n: o.n });
      case 'deleteWhere':
        return await db.rows.where('[folder+n]').between([o.folder, Dexie.minKey], [o.folder, Dexie.maxKey]).delete();
      case 'log':
        return await db.transaction('rw', db.log, async () => {
          for (const kind of o.kinds) await db.log.add({ kind });
          await db.log.where('kind').equals('r').delete();
        });
      case 'abort':
        return await db.transaction('rw', db.rows, async () => {
          await db.rows.put(o.row);
          throw new Error('rolled back');
        });
    }
  } catch (error) {
    return `error: ${(error as Error).name}`;
  }
}

async function observe(db: ReturnType<typeof open>): Promise<unknown> {
  return {
    all: await db.rows.toArray(),
    byFolder: await db.rows.where('[folder+n]').between(['x', -Infinity], ['x', Infinity]).reverse().toArray(),
    firstTwo: await db.rows.where('[folder+n]').between(['', -Infinity], ['y', Infinity]).offset(1).limit(2).primaryKeys(),
    tag: await db.rows.where('tags').equals('t2').primaryKeys(),
    anyOf: await db.rows.where('tags').anyOf(['t1', 't3']).toArray(),
    unique: await db.rows.orderBy('tags').uniqueKeys(),
    nested: await db.rows.where('nested.at').above(1).keys(),
    count: await db.rows.where('[folder+n]').between(['y', 0], ['y', Infinity]).count(),
    filtered: await db.rows.filter((r) => r.n > 0).primaryKeys(),
    each: await (async () => {
      const seen: string[] = [];
      await db.rows.orderBy('[folder+n]').reverse().each((r) => seen.push(r.id));
      return seen;
    })(),
    log: await db.log.toArray(),
    logCount: await db.log.count(),
  };
}

describe('SQLite backend: the same answers as IndexedDB', () => {
  it('a seeded run of Dexie operations observes identical results on fake-indexeddb and SQLite', async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 12 }), async (ops) => {
        runs += 1;
        const reference = open(`diff-${runs}`, { indexedDB: new IDBFactory(), IDBKeyRange });
        const subject = open(`diff-${runs}`, { storage: sqliteStorage({ path: newPath() }) });
        try {
          for (const o of ops) {
            expect(await apply(subject, o)).toEqual(await apply(reference, o));
            expect(await observe(subject)).toEqual(await observe(reference));
          }
        } finally {
          reference.close();
          subject.close();
        }
      }),
      { numRuns: 60, seed: Number(process.env.FC_SEED ?? 1202) },
    );
  }, 120_000);
});

describe('SQLite backend: the file', () => {
  it('keeps its rows across a new storage on the same path, in a 0600 file', async () => {
    const path = newPath();
    const first = open('persist', { storage: sqliteStorage({ path }) });
    await first.rows.bulkPut([{ id: 'a', folder: 'x', n: 1, tags: ['t1'] }]);
    await first.log.add({ kind: 'u' });
    first.close();
    const second = open('persist', { storage: sqliteStorage({ path }) });
    expect(await second.rows.where('tags').equals('t1').primaryKeys()).toEqual(['a']);
    // The key generator continues where it was.
    expect(await second.log.add({ kind: 'u' })).toBe(2);
    second.close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('migrates an existing file: a new index is filled from the rows already there, a dropped one goes', async () => {
    const path = newPath();
    const storage1 = sqliteStorage({ path });
    const old = new Dexie('migrate', { indexedDB: storage1.driver.indexedDB, IDBKeyRange });
    old.version(1).stores({ rows: 'id, folder' });
    storage1.driver.attach?.(old);
    await old.table('rows').bulkPut([{ id: 'a', folder: 'x', n: 2 }, { id: 'b', folder: 'y', n: 1 }]);
    old.close();

    const storage2 = sqliteStorage({ path });
    const next = new Dexie('migrate', { indexedDB: storage2.driver.indexedDB, IDBKeyRange });
    next.version(1).stores({ rows: 'id, folder' });
    next.version(2).stores({ rows: 'id, n' });
    storage2.driver.attach?.(next);
    expect(await next.table('rows').orderBy('n').primaryKeys()).toEqual(['b', 'a']);
    next.close();
    const raw = new Database(path, { readonly: true });
    const tables = raw.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).pluck().all() as string[];
    raw.close();
    expect(tables.some((t) => t.endsWith('/rows/n'))).toBe(true);
    expect(tables.some((t) => t.endsWith('/rows/folder'))).toBe(false);
  });

  it('copies a store of the earlier, clustered layout into a rowid table once; compound keys stay clustered', async () => {
    const path = newPath();
    const stores = { rows: 'id, folder', pairs: '[a+b]' };
    const storage1 = sqliteStorage({ path });
    const db1 = new Dexie('layout', { indexedDB: storage1.driver.indexedDB, IDBKeyRange });
    db1.version(1).stores(stores);
    storage1.driver.attach?.(db1);
    await db1.table('rows').bulkPut([{ id: 'a', folder: 'x' }, { id: 'b', folder: 'y' }, { id: 'c', folder: 'x' }]);
    await db1.table('pairs').bulkPut([{ a: 1, b: 'z' }, { a: 0, b: 'y' }]);
    db1.close();
    const sqlOf = (raw: Database.Database, suffix: string) =>
      (raw.prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'table'`).all() as { name: string; sql: string }[]).find((t) => t.name.endsWith(suffix))!;
    // Turn `rows` back into the layout files had before layouts were recorded.
    const raw = new Database(path);
    const rows = sqlOf(raw, '/rows');
    expect(rows.sql).toContain('UNIQUE');
    expect(sqlOf(raw, '/pairs').sql).toContain('WITHOUT ROWID');
    const meta = sqlOf(raw, '/meta').name;
    raw.exec(`CREATE TABLE "old" (k BLOB PRIMARY KEY NOT NULL, v BLOB NOT NULL) WITHOUT ROWID; INSERT INTO "old" SELECT k, v FROM "${rows.name}"`);
    raw.exec(`DROP TABLE "${rows.name}"; ALTER TABLE "old" RENAME TO "${rows.name}"`);
    raw.prepare(`DELETE FROM "${meta}" WHERE name LIKE 'layout:%'`).run();
    expect(sqlOf(raw, '/rows').sql).toContain('WITHOUT ROWID');
    raw.close();

    const storage2 = sqliteStorage({ path });
    const db2 = new Dexie('layout', { indexedDB: storage2.driver.indexedDB, IDBKeyRange });
    db2.version(1).stores(stores);
    storage2.driver.attach?.(db2);
    expect(await db2.table('rows').toArray()).toEqual([{ id: 'a', folder: 'x' }, { id: 'b', folder: 'y' }, { id: 'c', folder: 'x' }]);
    expect(await db2.table('rows').where('folder').equals('x').primaryKeys()).toEqual(['a', 'c']);
    expect(await db2.table('pairs').toArray()).toEqual([{ a: 0, b: 'y' }, { a: 1, b: 'z' }]);
    await db2.table('rows').put({ id: 'b', folder: 'x' });
    expect(await db2.table('rows').where('folder').equals('x').primaryKeys()).toEqual(['a', 'b', 'c']);
    db2.close();
    const after = new Database(path, { readonly: true });
    expect(sqlOf(after, '/rows').sql).toContain('UNIQUE');
    expect(sqlOf(after, '/rows').sql).not.toContain('WITHOUT ROWID');
    expect(sqlOf(after, '/pairs').sql).toContain('WITHOUT ROWID');
    after.close();
  });

  it("keeps a compound primary key's fields in the key alone and gives whole values back, as IndexedDB does", async () => {
    const path = newPath();
    const storage = sqliteStorage({ path });
    const stores = { pairs: '[folder+at+id], [folder+unread+at]' };
    const sqlite = new Dexie('compound', { indexedDB: storage.driver.indexedDB, IDBKeyRange });
    sqlite.version(1).stores(stores);
    storage.driver.attach?.(sqlite);
    const idb = new Dexie('compound', { indexedDB: new IDBFactory(), IDBKeyRange });
    idb.version(1).stores(stores);
    type Pair = { folder: string; at: number; id: string; unread?: 1; note?: string };
    const rows: Pair[] = [
      { folder: 'a', id: 'm1', at: 3 },
      { folder: 'a', id: 'm2', at: -Infinity, unread: 1 },
      { folder: 'b', id: 'm1', at: 3, note: 'n' },
      { folder: '', id: 'm3', at: 1, unread: 1, note: 'x' },
      { folder: 'c', id: 'm4', at: 2 },
    ];
    const answers = async (db: Dexie) => {
      const t = db.table<Pair>('pairs');
      const each: Pair[] = [];
      await t.where('[folder+at+id]').between(['a', -Infinity, ''], ['a', Infinity, '\uffff']).reverse().each((p) => void each.push(p));
      return {
        all: await t.toArray(),
        one: await t.get(['b', 3, 'm1']),
        unread: await t.where('[folder+unread+at]').between(['', 1, -Infinity], ['b', 1, Infinity]).toArray(),
        each,
        first: await t.orderBy('[folder+at+id]').reverse().limit(2).toArray(),
      };
    };
    for (const db of [sqlite, idb]) {
      await db.table('pairs').bulkPut(rows);
      await db.table('pairs').where('[folder+at+id]').equals(['a', 3, 'm1']).modify((p: Pair) => void (p.unread = 1));
      await db.table('pairs').delete(['', 1, 'm3']);
    }
    expect(await answers(sqlite)).toEqual(await answers(idb));
    expect((await answers(sqlite)).one).toEqual({ folder: 'b', id: 'm1', at: 3, note: 'n' });
    sqlite.close();

    // On disk: the value holds only what the key does not.
    const raw = new Database(path);
    const table = raw.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%/pairs'`).pluck().get() as string;
    const stored = (raw.prepare(`SELECT v FROM "${table}"`).pluck().all() as Buffer[]).map((v) => decodeValue(v) as Record<string, unknown>);
    expect(stored).toEqual(expect.arrayContaining([{ note: 'n' }, { unread: 1 }, {}]));
    expect(stored).toHaveLength(4);
    expect(stored.some((v) => 'folder' in v || 'id' in v || 'at' in v)).toBe(false);
    // A value written whole (files before this layout) reads the same.
    const updated = raw.prepare(`UPDATE "${table}" SET v = ? WHERE k = ?`).run(serialize({ folder: 'b', id: 'm1', at: 3, note: 'n' }), encodeKey(['b', 3, 'm1']));
    expect(updated.changes).toBe(1);
    raw.close();
    const storage2 = sqliteStorage({ path });
    const again = new Dexie('compound', { indexedDB: storage2.driver.indexedDB, IDBKeyRange });
    again.version(1).stores(stores);
    storage2.driver.attach?.(again);
    expect(await again.table('pairs').get(['b', 3, 'm1'])).toEqual({ folder: 'b', id: 'm1', at: 3, note: 'n' });
    again.close();
  });

  it("another connection's commit re-runs live queries (another process on the file)", async () => {
    const path = newPath();
    const db = open('external', { storage: sqliteStorage({ path, pollMs: 20 }) });
    await db.rows.put({ id: 'a', folder: 'x', n: 1, tags: [] });
    const seen: number[] = [];
    const sub = liveQuery(() => db.rows.count()).subscribe((n) => seen.push(n));
    await expect.poll(() => seen.length).toBe(1);
    // A write the process cannot have seen: straight into the file, from its own connection.
    const other = new Database(path);
    const table = (other.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%/rows'`).pluck().get() as string);
    other.prepare(`DELETE FROM "${table}"`).run();
    other.close();
    await expect.poll(() => seen.at(-1), { timeout: 5_000 }).toBe(0);
    sub.unsubscribe();
    db.close();
  });
});

describe('SQLite backend: change notifications', () => {
  it('a read-only transaction announces no change (an undefined set broke the other live queries)', async () => {
    const db = open('quiet-reads', { storage: sqliteStorage({ path: newPath() }) });
    await db.rows.put({ id: 'a', folder: 'x', n: 1, tags: [] });
    const announced: unknown[] = [];
    const listener = (parts: unknown) => announced.push(parts);
    Dexie.on('storagemutated', listener);
    try {
      await db.rows.toArray();
      await db.transaction('r', db.rows, () => db.rows.count());
      await new Promise((r) => setTimeout(r, 20));
      expect(announced).toEqual([]);
      await db.rows.put({ id: 'b', folder: 'x', n: 2, tags: [] });
      await new Promise((r) => setTimeout(r, 20));
      expect(announced.length).toBeGreaterThan(0);
      expect(announced.every((parts) => parts !== undefined && parts !== null)).toBe(true);
    } finally {
      Dexie.on('storagemutated').unsubscribe(listener);
      db.close();
    }
  });
});

describe('createMailboxSync in Node', () => {
  it('without storage and without indexedDB fails at once, naming both ways', () => {
    expect(() => createMailboxSync({ apiKey: 'smx_mbx_x', baseUrl: 'http://127.0.0.1:9' })).toThrow(/sqliteStorage.*indexedDB/s);
  });
});
