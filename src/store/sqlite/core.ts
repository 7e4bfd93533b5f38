// Dexie's storage layer (DBCore) on SQLite: the bottom of a Dexie database's middleware
// stack, so everything above it (the replica's store functions, liveQuery, the
// engine) runs unchanged on a SQLite file.
//
// Layout, per Dexie database (prefix `p` from its name): a table `p/T` per object
// store (primary key bytes, the value as values.ts stores it: JSON text or V8 bytes) and a table
// `p/T/I` per index (index key bytes, primary key bytes), so a range of keys in
// IndexedDB order is a range of a B-tree (keys.ts). Index tables, and stores with a
// compound primary key (small rows, keys in the order they are written), are
// clustered on their key (WITHOUT ROWID). Every other store is a rowid table with a
// unique index on its key: its values (whole records, often a kilobyte) are appended
// in write order instead of rewriting a random page of a key-ordered B-tree for each
// record, which SQLite advises against for rows above a twentieth of a page. `p/meta`
// records the layout each table was created with; an index that appears in a later
// schema version is filled from the rows already there, one that disappears is
// dropped, and a store of an earlier layout is copied into its current one.
import type {
  DBCore,
  DBCoreCountRequest,
  DBCoreCursor,
  DBCoreGetManyRequest,
  DBCoreGetRequest,
  DBCoreIndex,
  DBCoreKeyRange,
  DBCoreMutateRequest,
  DBCoreMutateResponse,
  DBCoreOpenCursorRequest,
  DBCoreQueryRequest,
  DBCoreQueryResponse,
  DBCoreTable,
  DBCoreTableSchema,
  DBCoreTransaction,
} from 'dexie';
import { decodeKey, encodeKey, isValidKey } from './keys.js';
import { SqliteStorageError, domError } from './errors.js';
import { decodeValue, encodeValue } from './values.js';
import { Dexie } from 'dexie';
import type { Message } from '../../api/types.js';
import type { Connection, SqliteFile, SqliteTransaction } from './file.js';
import { drainPending, ftsTables } from './fts.js';
import { currentZone, inZone } from './zones.js';

/** Range types of DBCoreKeyRange (a const enum in Dexie's types). */
const RANGE_EQUAL = 1;
const RANGE_ANY = 3;
const RANGE_NEVER = 4;

const emptySchema: DBCoreTableSchema = {
  name: '',
  primaryKey: { name: null, keyPath: null, extractKey: null, isPrimaryKey: true },
  indexes: [],
  getIndexByKeyPath: () => undefined,
};

/** Rows a cursor reads from SQLite at a time. */
const CURSOR_CHUNK = 200;

/** Something that wants to see every row write of a table (full-text indexing). */
/** One row a write request changed (`next` undefined: deleted). */
export interface RowChange {
  key: unknown;
  previous: unknown;
  next: unknown;
}

export interface TableWriteHook {
  /** Called inside the writing transaction, once per write request, with the rows it changed. */
  (conn: Connection, changes: readonly RowChange[]): void;
}

function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The SQL name prefix of a Dexie database: its name, made safe and short. */
export function tablePrefix(dbName: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < dbName.length; i += 1) hash = Math.imul(hash ^ dbName.charCodeAt(i), 0x01000193) >>> 0;
  const readable = dbName.replace(/[^A-Za-z0-9]+/g, '_').slice(0, 24);
  return `${readable}_${hash.toString(36)}`;
}

/** The stored bytes of `{}` (a side row whose every field is part of its key). */
const EMPTY_VALUE = encodeValue({});

/**
 * The fields of a compound primary key made of plain property names (not
 * auto-incremented), or undefined. Such a store's values are kept without them: the
 * key holds them already (a `folderIndex` row is its key and an unread/flagged bit).
 */
function keyFieldsOf(schema: DBCoreTableSchema): readonly string[] | undefined {
  const { keyPath, autoIncrement } = schema.primaryKey;
  if (!Array.isArray(keyPath) || autoIncrement || keyPath.some((part) => part.includes('.'))) return undefined;
  return keyPath;
}

/** Keys of one index for one value: none when the value has no valid key there. */
function indexKeys(index: DBCoreIndex, value: unknown): unknown[] {
  const key = index.extractKey?.(value);
  if (index.multiEntry && Array.isArray(key)) {
    const seen = new Set<string>();
    const keys: unknown[] = [];
    for (const item of key) {
      if (!isValidKey(item)) continue;
      const id = encodeKey(item).toString('latin1');
      if (seen.has(id)) continue;
      seen.add(id);
      keys.push(item);
    }
    return keys;
  }
  return isValidKey(key) ? [key] : [];
}

function setKeyPath(value: Record<string, unknown>, keyPath: string, key: unknown): void {
  const parts = keyPath.split('.');
  let target = value;
  for (const part of parts.slice(0, -1)) {
    if (typeof target[part] !== 'object' || target[part] === null) target[part] = {};
    target = target[part] as Record<string, unknown>;
  }
  target[parts.at(-1)!] = key;
}

/** SQL condition and parameters of a key range over `column`. */
function rangeSql(column: string, range: DBCoreKeyRange): { where: string; params: Buffer[] } | 'never' {
  if (range.type === RANGE_NEVER) return 'never';
  if (range.type === RANGE_ANY) return { where: '1', params: [] };
  if (range.type === RANGE_EQUAL) return { where: `${column} = ?`, params: [encodeKey(range.lower)] };
  const parts: string[] = [];
  const params: Buffer[] = [];
  if (range.lower !== undefined) {
    parts.push(`${column} ${range.lowerOpen ? '>' : '>='} ?`);
    params.push(encodeKey(range.lower));
  }
  if (range.upper !== undefined) {
    parts.push(`${column} ${range.upperOpen ? '<' : '<='} ?`);
    params.push(encodeKey(range.upper));
  }
  return { where: parts.length > 0 ? parts.join(' AND ') : '1', params };
}

export interface Row {
  /** Index key bytes (the primary key for primary-key queries). */
  ik: Buffer;
  k: Buffer;
  v?: Buffer;
}

/** A row of a write request, encoded where the request was made (StoreTable.prepare). */
export interface WriteRow {
  /** The key's bytes; null: auto-incremented, made by the write. */
  k: Buffer | null;
  /** The stored bytes; null with an auto-incremented key. */
  bytes: Buffer | null;
  /** Per index of the table, the encoded keys of the value there; null with an auto-incremented key. */
  iks: Buffer[][] | null;
  /** The value itself: on the thread that made the request, and with an auto-incremented key. */
  value?: unknown;
  /** The key given with a value of an auto-incremented store (a number is taken as it is). */
  explicit?: unknown;
}

/** Which rows of a range {@link StoreTable.rows} reads. */
export interface RowsOptions {
  reverse: boolean;
  values: boolean;
  limit: number;
  unique?: boolean;
  /** Exclusive (or inclusive with `inclusive`) start, in index order. */
  after?: { ik: Buffer; k?: Buffer; inclusive?: boolean };
}

/** The SQL side of one object store of one database. */
class StoreTable {
  readonly name: string;
  private readonly indexes: { index: DBCoreIndex; table: string; insert: string; remove: string }[];

  /** Fields stored in the key alone (see {@link keyFieldsOf}). */
  private readonly keyFields: readonly string[] | undefined;

  constructor(
    prefix: string,
    readonly schema: DBCoreTableSchema,
    private readonly hooks: readonly TableWriteHook[],
  ) {
    this.name = quote(`${prefix}/${schema.name}`);
    this.keyFields = keyFieldsOf(schema);
    this.layout = Array.isArray(schema.primaryKey.keyPath) ? 'clustered' : 'heap';
    this.indexes = schema.indexes.map((index) => {
      const table = quote(`${prefix}/${schema.name}/${index.name ?? ''}`);
      return { index, table, insert: `INSERT OR IGNORE INTO ${table} (ik, k) VALUES (?, ?)`, remove: `DELETE FROM ${table} WHERE ik = ? AND k = ?` };
    });
    this.sql = {
      get: `SELECT v FROM ${this.name} WHERE k = ?`,
      put: `INSERT OR REPLACE INTO ${this.name} (k, v) VALUES (?, ?)`,
      insert: `INSERT INTO ${this.name} (k, v) VALUES (?, ?) ON CONFLICT (k) DO NOTHING`,
      update: `UPDATE ${this.name} SET v = ? WHERE k = ?`,
      delete: `DELETE FROM ${this.name} WHERE k = ?`,
    };
  }

  /** The stored bytes of a value (without the fields its key holds). */
  encode(value: unknown): Buffer {
    const fields = this.keyFields;
    if (!fields || typeof value !== 'object' || value === null) return encodeValue(value);
    const rest: Record<string, unknown> = {};
    let empty = true;
    for (const field in value) {
      if (!Object.hasOwn(value, field) || fields.includes(field)) continue;
      rest[field] = (value as Record<string, unknown>)[field];
      empty = false;
    }
    return empty ? EMPTY_VALUE : encodeValue(rest);
  }

  /** The value of stored `bytes` under the key `k` (its encoded bytes) or `key` (decoded). */
  decode(bytes: Buffer, k: Buffer, key?: unknown): unknown {
    const value = decodeValue(bytes);
    const fields = this.keyFields;
    if (!fields || typeof value !== 'object' || value === null) return value;
    const parts = (key ?? decodeKey(k)) as unknown[];
    const whole: Record<string, unknown> = {};
    fields.forEach((field, i) => (whole[field] = parts[i]));
    return Object.assign(whole, value);
  }

  /** The row statements' SQL, built once. */
  private readonly sql: { get: string; put: string; insert: string; update: string; delete: string };

  /** How the store's rows are kept (see the top of this file). */
  readonly layout: 'clustered' | 'heap';

  private createSql(name: string): string {
    return this.layout === 'clustered'
      ? `CREATE TABLE IF NOT EXISTS ${name} (k BLOB PRIMARY KEY NOT NULL, v BLOB NOT NULL) WITHOUT ROWID`
      : `CREATE TABLE IF NOT EXISTS ${name} (k BLOB NOT NULL UNIQUE, v BLOB NOT NULL)`;
  }

  /** Creates the store's table, or copies one of an earlier layout into its current one. */
  private migrateRows(conn: Connection, meta: string): void {
    const db = conn.db;
    const key = `layout:${this.schema.name}`;
    const exists = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(this.name.slice(1, -1)) !== undefined;
    const recorded = db.prepare(`SELECT value FROM ${meta} WHERE name = ?`).pluck().get(key) as string | undefined;
    // Files written before layouts were recorded have clustered stores only.
    if (exists && (recorded ?? 'clustered') !== this.layout) {
      const next = quote(`${this.name.slice(1, -1)}#${this.layout}`);
      db.exec(`DROP TABLE IF EXISTS ${next}`);
      db.exec(this.createSql(next));
      db.exec(`INSERT INTO ${next} (k, v) SELECT k, v FROM ${this.name} ORDER BY k`);
      db.exec(`DROP TABLE ${this.name}`);
      db.exec(`ALTER TABLE ${next} RENAME TO ${this.name}`);
    } else db.exec(this.createSql(this.name));
    db.prepare(`INSERT OR REPLACE INTO ${meta} (name, value) VALUES (?, ?)`).run(key, this.layout);
  }

  /** Creates missing tables, fills new indexes, drops removed ones (inside a transaction). */
  migrate(conn: Connection, meta: string): void {
    const db = conn.db;
    this.migrateRows(conn, meta);
    const recorded = db.prepare(`SELECT value FROM ${meta} WHERE name = ?`).get(`indexes:${this.schema.name}`) as
      | { value: string }
      | undefined;
    const before = new Map<string, string>(recorded ? (JSON.parse(recorded.value) as [string, string][]) : []);
    const now = new Map(this.indexes.map(({ index }) => [index.name ?? '', JSON.stringify([index.keyPath, !!index.multiEntry])]));
    for (const [name, shape] of before) {
      if (now.get(name) !== shape) db.exec(`DROP TABLE IF EXISTS ${quote(`${this.name.slice(1, -1)}/${name}`)}`);
    }
    for (const { index, table } of this.indexes) {
      if (before.get(index.name ?? '') === now.get(index.name ?? '')) continue;
      db.exec(`CREATE TABLE IF NOT EXISTS ${table} (ik BLOB NOT NULL, k BLOB NOT NULL, PRIMARY KEY (ik, k)) WITHOUT ROWID`);
      const insert = db.prepare(`INSERT OR IGNORE INTO ${table} (ik, k) VALUES (?, ?)`);
      const page = db.prepare(`SELECT k, v FROM ${this.name} WHERE k > ? ORDER BY k LIMIT 1000`);
      // Page by page: an open iterator would keep the connection from inserting.
      for (let after: Buffer = Buffer.alloc(0); ; ) {
        const rows = page.all(after) as { k: Buffer; v: Buffer }[];
        for (const row of rows) {
          for (const key of indexKeys(index, this.decode(row.v, row.k))) insert.run(encodeKey(key), row.k);
        }
        if (rows.length < 1000) break;
        after = rows.at(-1)!.k;
      }
    }
    db.prepare(`INSERT OR REPLACE INTO ${meta} (name, value) VALUES (?, ?)`).run(`indexes:${this.schema.name}`, JSON.stringify([...now]));
  }

  /** Drops the table and every index table it had. */
  dropAll(conn: Connection): void {
    const bare = this.name.slice(1, -1);
    const names = conn.db
      .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND (name = ? OR substr(name, 1, ?) = ?)`)
      .pluck()
      .all(bare, bare.length + 1, `${bare}/`) as string[];
    for (const name of names) conn.db.exec(`DROP TABLE IF EXISTS ${quote(name)}`);
  }

  /** Every stored row, key order, read a page at a time. */
  *all(conn: Connection): Iterable<[unknown, unknown]> {
    const page = conn.db.prepare(`SELECT k, v FROM ${this.name} WHERE k > ? ORDER BY k LIMIT 1000`);
    for (let after: Buffer = Buffer.alloc(0); ; ) {
      const rows = page.all(after) as { k: Buffer; v: Buffer }[];
      for (const row of rows) {
        const key = decodeKey(row.k);
        yield [key, this.decode(row.v, row.k, key)];
      }
      if (rows.length < 1000) return;
      after = rows.at(-1)!.k;
    }
  }

  /** Removes the index rows of a stored value. */
  private unindex(conn: Connection, k: Buffer, value: unknown): void {
    for (const { index, remove } of this.indexes) {
      const statement = conn.statement(remove);
      for (const key of indexKeys(index, value)) statement.run(encodeKey(key), k);
    }
  }

  /** Runs the write hooks on what one request changed. */
  afterWrite(conn: Connection, changes: readonly RowChange[] | undefined): void {
    if (changes && changes.length > 0) for (const hook of this.hooks) hook(conn, changes);
  }

  /** Whether writes must report their changes (a hook watches this table). */
  get watched(): boolean {
    return this.hooks.length > 0;
  }

  /**
   * A row to write, made on the thread the request came from: its key, value bytes
   * and index keys, encoded (an auto-incremented key, and what depends on it, is left
   * to {@link write}).
   */
  prepare(key: unknown, value: unknown, autoKey: boolean): WriteRow {
    if (autoKey) return { k: null, bytes: null, iks: null, value, explicit: key };
    if (!isValidKey(key)) throw domError('DataError', `${String(key)} is not a valid key of ${this.schema.name}`);
    const iks = this.indexes.map(({ index }) => indexKeys(index, value).map((ik) => encodeKey(ik)));
    return { k: encodeKey(key), bytes: this.encode(value), iks, value };
  }

  /**
   * Writes one prepared row: a new key costs no read (a bootstrap writes only those);
   * a taken one has its old index rows removed first. Returns the key written.
   */
  write(conn: Connection, meta: string, row: WriteRow, mode: 'add' | 'put', changes?: RowChange[]): unknown {
    let { k, bytes, iks } = row;
    let key: unknown;
    let value = row.value;
    if (k === null) {
      // Auto-incremented (IndexedDB's key generator), the key set into the value.
      key = this.nextKey(conn, meta, typeof row.explicit === 'number' ? row.explicit : undefined);
      const keyPath = this.schema.primaryKey.keyPath;
      if (row.explicit === undefined && typeof keyPath === 'string') {
        value = { ...(value as Record<string, unknown>) };
        setKeyPath(value as Record<string, unknown>, keyPath, key);
      }
      k = encodeKey(key);
      bytes = this.encode(value);
      iks = this.indexes.map(({ index }) => indexKeys(index, value).map((ik) => encodeKey(ik)));
    }
    const stored = bytes!;
    let previous: unknown;
    if (this.indexes.length === 0 && !changes && mode === 'put') {
      // Nothing derives from the old value: replace it unseen.
      conn.statement(this.sql.put).run(k, stored);
    } else if (conn.statement(this.sql.insert).run(k, stored).changes === 0) {
      if (mode === 'add') throw domError('ConstraintError', `a record with this key already exists in ${this.schema.name}`);
      const old = conn.statement(this.sql.get).get(k) as { v: Buffer };
      previous = this.decode(old.v, k);
      this.unindex(conn, k, previous);
      conn.statement(this.sql.update).run(stored, k);
    }
    this.indexes.forEach(({ insert }, i) => {
      const keys = iks![i]!;
      if (keys.length === 0) return;
      const statement = conn.statement(insert);
      for (const ik of keys) statement.run(ik, k);
    });
    if (changes) {
      key ??= decodeKey(k);
      // A row from another thread comes without its value: the bytes hold it.
      changes.push({ key, previous, next: 'value' in row ? value : this.decode(stored, k, key) });
    }
    return key;
  }

  /** Deletes the row under the key bytes `k` (`key`: the key itself, when known). */
  deleteEncoded(conn: Connection, k: Buffer, key: unknown, changes?: RowChange[]): void {
    const old = conn.statement(this.sql.get).get(k) as { v: Buffer } | undefined;
    if (!old) return;
    const decoded = key ?? decodeKey(k);
    const previous = this.decode(old.v, k, decoded);
    this.unindex(conn, k, previous);
    conn.statement(this.sql.delete).run(k);
    changes?.push({ key: decoded, previous, next: undefined });
  }

  /** The stored bytes under the key bytes `k`. */
  getEncoded(conn: Connection, k: Buffer): Buffer | undefined {
    return (conn.statement(this.sql.get).get(k) as { v: Buffer } | undefined)?.v;
  }

  deleteRange(conn: Connection, range: DBCoreKeyRange, changes?: RowChange[]): void {
    const sql = rangeSql('k', range);
    if (sql === 'never') return;
    if (range.type === RANGE_ANY && this.hooks.length === 0) {
      conn.db.exec(`DELETE FROM ${this.name}`);
      for (const { table } of this.indexes) conn.db.exec(`DELETE FROM ${table}`);
      return;
    }
    const keys = conn.db.prepare(`SELECT k FROM ${this.name} WHERE ${sql.where}`).pluck().all(...sql.params) as Buffer[];
    for (const k of keys) this.deleteEncoded(conn, k, decodeKey(k), changes);
  }

  /** The table an index (or the primary key) lives in, and its key column. */
  private source(index: string | null): { table: string; column: string; primary: boolean } {
    if (index === null) return { table: this.name, column: 'k', primary: true };
    const found = this.indexes.find((entry) => (entry.index.name ?? '') === index);
    if (!found) throw new SqliteStorageError('unsupported_schema', `no index ${index} on ${this.schema.name}`);
    return { table: found.table, column: 'ik', primary: false };
  }

  /**
   * Rows of a range in index order (`reverse`: descending), from `after` (exclusive,
   * or inclusive with `inclusive`), at most `limit`.
   */
  rows(conn: Connection, index: string | null, range: DBCoreKeyRange, options: RowsOptions): Row[] {
    const sql = rangeSql('x.ik', range);
    if (sql === 'never' || options.limit <= 0) return [];
    const { table, primary } = this.source(index);
    const from = primary ? `(SELECT k AS ik, k, v FROM ${this.name}) x` : `${table} x`;
    const conditions = [sql.where];
    const params: (Buffer | number)[] = [...sql.params];
    const after = options.after;
    if (after) {
      const op = options.reverse ? (after.inclusive ? '<=' : '<') : after.inclusive ? '>=' : '>';
      if (after.k && !primary) {
        conditions.push(`(x.ik, x.k) ${op} (?, ?)`);
        params.push(after.ik, after.k);
      } else {
        conditions.push(`x.ik ${op} ?`);
        params.push(after.ik);
      }
    }
    const order = options.reverse ? 'DESC' : 'ASC';
    const limit = Number.isFinite(options.limit) ? options.limit : -1;
    let query: string;
    if (primary) {
      query = `SELECT x.ik, x.k${options.values ? ', x.v' : ''} FROM ${from} WHERE ${conditions.join(' AND ')} ORDER BY x.ik ${order} LIMIT ?`;
    } else if (options.unique) {
      query =
        `SELECT g.ik, g.k${options.values ? ', t.v' : ''} FROM (SELECT x.ik, min(x.k) AS k FROM ${from} WHERE ${conditions.join(' AND ')} ` +
        `GROUP BY x.ik ORDER BY x.ik ${order} LIMIT ?) g${options.values ? ` JOIN ${this.name} t ON t.k = g.k` : ''} ORDER BY g.ik ${order}`;
    } else {
      query =
        `SELECT x.ik, x.k${options.values ? ', t.v' : ''} FROM ${from}${options.values ? ` JOIN ${this.name} t ON t.k = x.k` : ''} ` +
        `WHERE ${conditions.join(' AND ')} ORDER BY x.ik ${order}, x.k ${order} LIMIT ?`;
    }
    params.push(limit);
    return conn.statement(query).all(...params) as Row[];
  }

  count(conn: Connection, index: string | null, range: DBCoreKeyRange): number {
    const sql = rangeSql(index === null ? 'k' : 'ik', range);
    if (sql === 'never') return 0;
    const { table } = this.source(index);
    return (conn.statement(`SELECT count(*) AS n FROM ${table} WHERE ${sql.where}`).get(...sql.params) as { n: number }).n;
  }

  /** The next key of an auto-incremented store (IndexedDB's key generator). */
  nextKey(conn: Connection, meta: string, explicit?: number): number {
    const name = `generator:${this.schema.name}`;
    const row = conn.statement(`SELECT value FROM ${meta} WHERE name = ?`).get(name) as { value: string } | undefined;
    const current = row ? Number(row.value) : 1;
    const key = explicit ?? current;
    const next = Math.max(current, Math.floor(key) + 1);
    if (next !== current) conn.statement(`INSERT OR REPLACE INTO ${meta} (name, value) VALUES (?, ?)`).run(name, String(next));
    return key;
  }
}

/**
 * A cursor over rows read a chunk at a time (IDBCursor's surface, as Dexie uses it).
 * Its methods are bound to it: Dexie's middlewares wrap a cursor with
 * `Object.create(cursor, …)` and call them on the wrapper, where a write to `this`
 * would land on the wrapper and never be seen by the getters reading this cursor.
 */
class ChunkCursor implements DBCoreCursor {
  key: unknown;
  primaryKey: unknown;
  value?: unknown;
  done = false;
  private buffer: Row[];
  private current: Row;
  private exhausted: boolean;
  private onNext: (() => void) | undefined;
  private zone: unknown;
  private resolveIteration: ((value: unknown) => void) | undefined;
  private rejectIteration: ((error: unknown) => void) | undefined;

  constructor(
    readonly trans: DBCoreTransaction,
    private readonly table: StoreTable,
    private readonly req: DBCoreOpenCursorRequest,
    first: Row[],
    /** Reads a chunk of the cursor's range (see {@link fetch}). */
    private readonly read: (options: RowsOptions) => Row[] | Promise<Row[]>,
  ) {
    this.current = first[0]!;
    this.buffer = first.slice(1);
    this.exhausted = first.length < CURSOR_CHUNK;
    this.show();
  }

  private get sqlTrans(): SqliteTransaction {
    return this.trans as unknown as SqliteTransaction;
  }

  private show(): void {
    const primary = this.req.query.index.isPrimaryKey;
    this.primaryKey = decodeKey(this.current.k);
    this.key = primary ? this.primaryKey : decodeKey(this.current.ik);
    if (this.req.values) this.value = this.table.decode(this.current.v!, this.current.k, this.primaryKey);
  }

  /** The next chunk of rows after `after`: read at once on this thread's connection, or answered by the SQL thread. */
  private fetch(after: { ik: Buffer; k?: Buffer; inclusive?: boolean }): Row[] | Promise<Row[]> {
    return this.read({
      reverse: !!this.req.reverse,
      values: !!this.req.values,
      limit: CURSOR_CHUNK,
      ...(this.req.unique ? { unique: true } : {}),
      after,
    });
  }

  /** Moves to the next row chosen by `pick`, then calls back (or ends the iteration). */
  private step(pick: () => Row | undefined | Promise<Row | undefined>): void {
    this.sqlTrans.task(
      this.zone,
      () => {
        const picked = pick();
        if (picked instanceof Promise) {
          // The transaction stays open while the chunk is on its way (a request in flight).
          picked.then(
            (row) => inZone(this.zone, (r: Row | undefined) => this.land(r), row),
            (error: unknown) => this.fail(error as Error),
          );
        } else this.land(picked);
      },
      (error: unknown) => this.rejectIteration?.(error),
    );
  }

  private land(row: Row | undefined): void {
    if (!row) {
      this.done = true;
      this.resolveIteration?.(undefined);
      return;
    }
    this.current = row;
    this.show();
    try {
      this.onNext?.();
    } catch (error) {
      this.fail(error as Error);
    }
  }

  /** Takes a fetched chunk as the buffer and returns its first row. */
  private refill(rows: Row[]): Row | undefined {
    this.buffer = rows;
    this.exhausted = rows.length < CURSOR_CHUNK;
    return this.buffer.shift();
  }

  private refillFrom(after: { ik: Buffer; k?: Buffer; inclusive?: boolean }): Row | undefined | Promise<Row | undefined> {
    const rows = this.fetch(after);
    return rows instanceof Promise ? rows.then((r) => this.refill(r)) : this.refill(rows);
  }

  private nextBuffered(): Row | undefined | Promise<Row | undefined> {
    if (this.buffer.length === 0 && !this.exhausted) {
      return this.refillFrom(this.req.unique ? { ik: this.current.ik } : { ik: this.current.ik, k: this.current.k });
    }
    return this.buffer.shift();
  }

  readonly continue = (key?: unknown): void => {
    if (key === undefined) this.step(() => this.nextBuffered());
    else this.step(() => this.refillFrom({ ik: encodeKey(key), inclusive: true }));
  }

  readonly continuePrimaryKey = (key: unknown, primaryKey: unknown): void => {
    this.step(() => this.refillFrom({ ik: encodeKey(key), k: encodeKey(primaryKey), inclusive: true }));
  }

  readonly advance = (count: number): void => {
    const skip = (left: number): Row | undefined | Promise<Row | undefined> => {
      for (let i = left; i > 0; i -= 1) {
        const row = this.nextBuffered();
        if (row instanceof Promise) return row.then((r) => (r && i > 1 ? ((this.current = r), skip(i - 1)) : r));
        if (!row) return undefined;
        this.current = row;
        if (i === 1) return row;
      }
      return undefined;
    };
    this.step(() => skip(count));
  }

  readonly start = (onNext: () => void): Promise<unknown> => {
    this.onNext = onNext;
    this.zone = currentZone();
    const iteration = new Promise<unknown>((resolve, reject) => {
      this.resolveIteration = resolve;
      this.rejectIteration = reject;
    });
    if (this.done) this.resolveIteration?.(undefined);
    else {
      try {
        onNext();
      } catch (error) {
        this.fail(error as Error);
      }
    }
    return iteration;
  }

  readonly stop = (value?: unknown): void => {
    this.done = true;
    this.resolveIteration?.(value);
  }

  readonly next = (): Promise<DBCoreCursor> => {
    // As Dexie's IndexedDB core: the first callback moves on by one, the second stops.
    let gotOne = 1;
    return this.start(() => (gotOne-- > 0 ? this.continue() : this.stop())).then(() => this);
  }

  readonly fail = (error: Error): void => {
    this.done = true;
    this.rejectIteration?.(error);
  }
}

/** What a database's writes feed besides its tables: the replica's full-text index, or a content cache's bodies in it. */
export type FullTextRole = 'replica' | 'content' | 'none';

/** The full-text index's part in a database (textIndex.ts builds it from the role). */
export interface FullTextParts {
  /** Row-write hooks per object store name. */
  hooks?: Readonly<Record<string, readonly TableWriteHook[]>>;
  /**
   * Extra set-up in the database's set-up transaction, after its tables exist;
   * `rows(table)` reads every stored value of a table.
   */
  setup?: (conn: Connection, rows: (table: string) => Iterable<[key: unknown, value: unknown]>) => void;
}

/** An object store's schema as data: what the SQL thread rebuilds a {@link StoreTable} from. */
export interface TableSpec {
  name: string;
  primaryKey: { keyPath: string | string[] | null; autoIncrement: boolean };
  indexes: { name: string; keyPath: string | string[] | null; multiEntry: boolean }[];
}

/** A Dexie database on the file, as data. */
export interface DatabaseSpec {
  name: string;
  tables: TableSpec[];
  fullText: FullTextRole;
}

/** The data of a table schema. */
export function tableSpec(schema: DBCoreTableSchema): TableSpec {
  const keyPath = (k: string | string[] | null | undefined) => (k === undefined ? null : k);
  return {
    name: schema.name,
    primaryKey: { keyPath: keyPath(schema.primaryKey.keyPath), autoIncrement: !!schema.primaryKey.autoIncrement },
    indexes: schema.indexes.map((index) => ({ name: index.name ?? '', keyPath: keyPath(index.keyPath), multiEntry: !!index.multiEntry })),
  };
}

/** A key extractor as Dexie's IndexedDB core makes one (a single-name path reads the property itself). */
function extractorOf(keyPath: string | string[] | null): ((value: unknown) => unknown) | null {
  if (keyPath === null) return null;
  if (typeof keyPath === 'string' && !keyPath.includes('.')) return (value) => (value as Record<string, unknown>)[keyPath];
  return (value) => Dexie.getByKeyPath(value as object, keyPath);
}

/** The table schema of `spec`, with key extractors (on the SQL thread). */
export function tableSchema(spec: TableSpec): DBCoreTableSchema {
  const primaryKey: DBCoreIndex = {
    name: null,
    isPrimaryKey: true,
    keyPath: spec.primaryKey.keyPath,
    autoIncrement: spec.primaryKey.autoIncrement,
    extractKey: extractorOf(spec.primaryKey.keyPath),
  } as DBCoreIndex;
  const indexes = spec.indexes.map(
    (index) =>
      ({
        name: index.name,
        keyPath: index.keyPath,
        multiEntry: index.multiEntry,
        compound: Array.isArray(index.keyPath),
        extractKey: extractorOf(index.keyPath),
      }) as DBCoreIndex,
  );
  return { name: spec.name, primaryKey, indexes, getIndexByKeyPath: () => undefined };
}

/**
 * A request of a transaction as data, so that it runs the same on this thread's
 * connection and on the SQL thread's (sqlThread.ts). Keys and values are encoded
 * where the request was made; answers carry stored bytes, decoded there.
 */
export type SqlOp =
  | { kind: 'setup' }
  | { kind: 'write'; table: string; mode: 'add' | 'put'; rows: WriteRow[] }
  | { kind: 'delete'; table: string; keys: Buffer[] }
  | { kind: 'deleteRange'; table: string; range: DBCoreKeyRange }
  | { kind: 'get'; table: string; keys: Buffer[] }
  | { kind: 'rows'; table: string; index: string | null; range: DBCoreKeyRange; options: RowsOptions }
  | { kind: 'count'; table: string; index: string | null; range: DBCoreKeyRange }
  /** One chunk of the full-text filler (fill.ts); answers whether more is queued. */
  | { kind: 'fill'; chunk: number }
  /** Drops every table of the database (Dexie's `db.delete()`). */
  | { kind: 'drop' };

/** What a `write` op answers: per failed row, its error; the keys an auto-increment made. */
export interface WriteAnswer {
  failures: [index: number, name: string, message: string][];
  generated: [index: number, key: number][];
}

/** The SQL side of one Dexie database: its tables, meta table and full-text parts. */
export class SqlDatabase {
  readonly prefix: string;
  readonly meta: string;
  readonly tables = new Map<string, StoreTable>();

  constructor(
    readonly spec: DatabaseSpec,
    schemas: readonly DBCoreTableSchema[],
    private readonly parts: FullTextParts,
  ) {
    this.prefix = tablePrefix(spec.name);
    this.meta = quote(`${this.prefix}/meta`);
    for (const schema of schemas) {
      if (schema.indexes.some((index) => index.unique)) {
        throw new SqliteStorageError('unsupported_schema', `unique indexes are not supported (table ${schema.name})`);
      }
      this.tables.set(schema.name, new StoreTable(this.prefix, schema, parts.hooks?.[schema.name] ?? []));
    }
  }

  table(name: string): StoreTable {
    const table = this.tables.get(name);
    if (!table) throw new SqliteStorageError('unsupported_schema', `no table ${name}`);
    return table;
  }

  /** Creates, migrates and drops tables to this schema (inside a write transaction). */
  migrate(conn: Connection): void {
    const meta = this.meta;
    conn.db.exec(`CREATE TABLE IF NOT EXISTS ${meta} (name TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID`);
    const recorded = conn.db.prepare(`SELECT value FROM ${meta} WHERE name = 'tables'`).get() as { value: string } | undefined;
    const before: string[] = recorded ? (JSON.parse(recorded.value) as string[]) : [];
    for (const name of before) {
      if (!this.tables.has(name)) new StoreTable(this.prefix, { ...emptySchema, name }, []).dropAll(conn);
    }
    for (const table of this.tables.values()) table.migrate(conn, meta);
    conn.db.prepare(`INSERT OR REPLACE INTO ${meta} (name, value) VALUES ('tables', ?)`).run(JSON.stringify([...this.tables.keys()]));
    this.parts.setup?.(conn, (name) => this.table(name).all(conn));
    conn.db.prepare(`INSERT OR REPLACE INTO ${meta} (name, value) VALUES ('db_name', ?)`).run(this.spec.name);
    conn.reset();
  }

  /** Runs one request on `conn` (inside its transaction). */
  execute(conn: Connection, op: SqlOp): unknown {
    switch (op.kind) {
      case 'setup':
        return this.migrate(conn);
      case 'write': {
        const table = this.table(op.table);
        const changes: RowChange[] | undefined = table.watched ? [] : undefined;
        const answer: WriteAnswer = { failures: [], generated: [] };
        op.rows.forEach((row, i) => {
          try {
            const key = table.write(conn, this.meta, row, op.mode, changes);
            if (row.k === null) answer.generated.push([i, key as number]);
          } catch (error) {
            const name = (error as Error).name;
            if (name !== 'ConstraintError' && name !== 'DataError') throw error;
            answer.failures.push([i, name, (error as Error).message]);
          }
        });
        table.afterWrite(conn, changes);
        return answer;
      }
      case 'delete': {
        const table = this.table(op.table);
        const changes: RowChange[] | undefined = table.watched ? [] : undefined;
        for (const k of op.keys) table.deleteEncoded(conn, k, undefined, changes);
        table.afterWrite(conn, changes);
        return undefined;
      }
      case 'deleteRange': {
        const table = this.table(op.table);
        const changes: RowChange[] | undefined = table.watched ? [] : undefined;
        table.deleteRange(conn, op.range, changes);
        table.afterWrite(conn, changes);
        return undefined;
      }
      case 'get': {
        const table = this.table(op.table);
        return op.keys.map((k) => table.getEncoded(conn, k) ?? null);
      }
      case 'rows':
        return this.table(op.table).rows(conn, op.index, op.range, op.options);
      case 'count':
        return this.table(op.table).count(conn, op.index, op.range);
      case 'fill':
      case 'drop':
        return executeFileOp(conn, this.spec.name, op);
    }
  }
}

/** Runs `op` for the database `dbName` on `conn`, with its SQL side when it is open in this thread. */
export function executeOp(databases: ReadonlyMap<string, SqlDatabase>, conn: Connection, dbName: string, op: SqlOp): unknown {
  const db = databases.get(dbName);
  if (db) return db.execute(conn, op);
  if (op.kind === 'fill' || op.kind === 'drop') return executeFileOp(conn, dbName, op);
  throw new SqliteStorageError('unsupported_schema', `the database ${dbName} is not open on this file`);
}

/** The requests that need only the database's name: they work on a database not open here. */
function executeFileOp(conn: Connection, dbName: string, op: { kind: 'fill'; chunk: number } | { kind: 'drop' }): unknown {
  const prefix = tablePrefix(dbName);
  if (op.kind === 'fill') {
    const tables = ftsTables(prefix);
    return drainPending(conn, tables, op.chunk, (id) => storedValue(conn, tables.messages, id) as Message | undefined);
  }
  const names = conn.db
    .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND substr(name, 1, ?) = ?`)
    .pluck()
    .all(prefix.length + 1, `${prefix}/`) as string[];
  for (const name of names) conn.db.exec(`DROP TABLE IF EXISTS ${quote(name)}`);
  conn.reset();
  return undefined;
}

/** What a SQLite-backed Dexie database needs from its storage. */
export interface SqliteCoreOptions extends FullTextParts {
  file: SqliteFile;
  /** The full-text role the parts were built for (the SQL thread builds them again from it). */
  fullText?: FullTextRole;
  /** Called when the SQL thread's hooks queued messages for the filler (they run there, not here). */
  wake?: () => void;
}

/** An error the SQL thread reported, as the thread that made the request sees it. */
const asFailure = (name: string, message: string) => domError(name as 'ConstraintError' | 'DataError', message);

/**
 * The DBCore of one Dexie database on `file`: replaces the IndexedDB core below it
 * (only its schema is kept), after creating or migrating the SQL tables. Each request
 * is an {@link SqlOp}: it runs on this thread's connection, or on the SQL thread's
 * when the file has one for its writes (file.ts).
 */
export function createSqliteCore(down: DBCore, options: SqliteCoreOptions): DBCore {
  const { file } = options;
  const dbName = down.schema.name;
  const spec: DatabaseSpec = { name: dbName, tables: down.schema.tables.map(tableSpec), fullText: options.fullText ?? 'none' };
  const sqlDb = new SqlDatabase(spec, down.schema.tables, options);
  file.register(sqlDb, options.wake);
  // The tables are set up by this database's first transaction, in line behind any
  // transaction another database of the file has open (a write lock, taken at BEGIN).
  let migrated = false;
  let migrating = false;
  const sqlTrans = (trans: DBCoreTransaction) => trans as unknown as SqliteTransaction;

  function coreTable(name: string): DBCoreTable {
    const table = sqlDb.table(name);
    const schema = table.schema;
    const primary = schema.primaryKey;
    const indexName = (index: DBCoreIndex) => (index.isPrimaryKey ? null : (index.name ?? ''));
    return {
      name,
      schema,
      mutate(req: DBCoreMutateRequest): Promise<DBCoreMutateResponse> {
        const trans = sqlTrans(req.trans);
        if (req.type === 'deleteRange') {
          return trans.call(dbName, { kind: 'deleteRange', table: name, range: req.range }, () => ({ numFailures: 0, failures: {}, results: [], lastResult: undefined }));
        }
        if (req.type === 'delete') {
          const keys = req.keys;
          return trans.call(dbName, { kind: 'delete', table: name, keys: keys.map((key) => encodeKey(key)) }, () => ({
            numFailures: 0,
            failures: {},
            results: keys,
            lastResult: undefined,
          }));
        }
        // Values are encoded (cloned) when the request is made, as IndexedDB does.
        const failures: Record<number, Error> = {};
        const results: unknown[] = [];
        const rows: WriteRow[] = [];
        const positions: number[] = [];
        req.values.forEach((value, i) => {
          const explicit = req.keys?.[i] ?? (primary.extractKey ? primary.extractKey(value) : undefined);
          try {
            rows.push(table.prepare(explicit, value, !!primary.autoIncrement));
            positions.push(i);
            results[i] = explicit;
          } catch (error) {
            if ((error as Error).name !== 'DataError') throw error;
            failures[i] = error as Error;
          }
        });
        const respond = (answer: WriteAnswer | undefined): DBCoreMutateResponse => {
          for (const [at, key] of answer?.generated ?? []) results[positions[at]!] = key;
          for (const [at, failure, message] of answer?.failures ?? []) {
            failures[positions[at]!] = asFailure(failure, message);
            delete results[positions[at]!];
          }
          return { numFailures: Object.keys(failures).length, failures, results, lastResult: results.at(-1) };
        };
        if (rows.length === 0) return trans.call(dbName, { kind: 'write', table: name, mode: req.type, rows }, () => respond(undefined));
        return trans.call(dbName, { kind: 'write', table: name, mode: req.type, rows }, (answer) => respond(answer as WriteAnswer));
      },
      get(req: DBCoreGetRequest): Promise<unknown> {
        const k = encodeKey(req.key);
        return sqlTrans(req.trans).call(dbName, { kind: 'get', table: name, keys: [k] }, (found) => {
          const bytes = (found as (Uint8Array | null)[])[0];
          return bytes ? table.decode(toBuffer(bytes), k, req.key) : undefined;
        });
      },
      getMany(req: DBCoreGetManyRequest): Promise<unknown[]> {
        const keys = req.keys.map((key) => encodeKey(key));
        return sqlTrans(req.trans).call(dbName, { kind: 'get', table: name, keys }, (found) =>
          (found as (Uint8Array | null)[]).map((bytes, i) => (bytes ? table.decode(toBuffer(bytes), keys[i]!, req.keys[i]) : undefined)),
        );
      },
      query(req: DBCoreQueryRequest): Promise<DBCoreQueryResponse> {
        const direction = req.direction ?? 'next';
        const options: RowsOptions = {
          reverse: direction === 'prev' || direction === 'prevunique',
          values: !!req.values,
          limit: req.limit ?? Infinity,
          unique: direction === 'nextunique' || direction === 'prevunique',
        };
        const op: SqlOp = { kind: 'rows', table: name, index: indexName(req.query.index), range: req.query.range, options };
        return sqlTrans(req.trans).call(dbName, op, (rows) => ({
          result: (rows as Row[]).map((row) => (req.values ? table.decode(toBuffer(row.v!), toBuffer(row.k)) : decodeKey(row.k))),
        }));
      },
      openCursor(req: DBCoreOpenCursorRequest): Promise<DBCoreCursor | null> {
        const trans = sqlTrans(req.trans);
        const index = indexName(req.query.index);
        const op = (options: RowsOptions): SqlOp => ({ kind: 'rows', table: name, index, range: req.query.range, options });
        const read = (options: RowsOptions): Row[] | Promise<Row[]> => {
          // On this thread's connection, a cursor's next chunk is read at once.
          if (trans.conn) return sqlDb.execute(trans.conn, op(options)) as Row[];
          return trans.call(dbName, op(options), (rows) => (rows as Row[]).map(rowBuffers));
        };
        const first = op({ reverse: !!req.reverse, values: !!req.values, limit: CURSOR_CHUNK, ...(req.unique ? { unique: true } : {}) });
        return trans.call(dbName, first, (found) => {
          const rows = (found as Row[]).map(rowBuffers);
          return rows.length === 0 ? null : new ChunkCursor(req.trans, table, req, rows, read);
        });
      },
      count(req: DBCoreCountRequest): Promise<number> {
        const op: SqlOp = { kind: 'count', table: name, index: indexName(req.query.index), range: req.query.range };
        return sqlTrans(req.trans).call(dbName, op, (n) => n as number);
      },
    };
  }

  const core: DBCore = {
    ...down,
    transaction(stores, mode) {
      if (!migrated && !migrating) {
        // Set-up is a transaction of its own, ahead of this one (which, if it reads,
        // waits for it): it must commit even when the first real transaction aborts.
        const setup = file.transaction('readwrite', [`${dbName}/*`]);
        migrating = true;
        setup.addEventListener('complete', () => (migrated = true));
        setup.addEventListener('abort', () => (migrating = false));
        void setup.call(dbName, { kind: 'setup' }, () => file.resetStatements()).catch(() => undefined);
        setup.commit();
      }
      return file.transaction(mode, stores.map((store) => `${dbName}/${store}`)) as unknown as DBCoreTransaction;
    },
    table: coreTable,
  };
  return core;
}

/** Bytes from the SQL thread arrive as plain Uint8Arrays: the same memory as a Buffer. */
function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function rowBuffers(row: Row): Row {
  return { ik: toBuffer(row.ik), k: toBuffer(row.k), ...(row.v ? { v: toBuffer(row.v) } : {}) };
}

/**
 * The value stored under `key` in a store table (its quoted SQL name), read on `conn`
 * outside Dexie (the full-text index reads the replica's messages this way).
 */
export function storedValue(conn: Connection, table: string, key: unknown): unknown {
  const row = conn.statement(`SELECT v FROM ${table} WHERE k = ?`).get(encodeKey(key)) as { v: Buffer } | undefined;
  return row ? decodeValue(row.v) : undefined;
}

/** Names of the Dexie databases stored in the open file. */
export function sqliteDatabaseNames(db: { prepare(sql: string): { pluck(): { all(): unknown[]; get(): unknown } } }): string[] {
  const metas = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%/meta'`).pluck().all() as string[];
  return metas.flatMap((meta) => {
    const name = db.prepare(`SELECT value FROM ${quote(meta)} WHERE name = 'db_name'`).pluck().get() as string | undefined;
    return name === undefined ? [] : [name];
  });
}

/** Drops every table of a Dexie database from `file` (Dexie's `db.delete()`), in line with its transactions. */
export async function dropSqliteDatabase(file: SqliteFile, dbName: string): Promise<void> {
  const trans = file.transaction('readwrite', [`${dbName}/*`]);
  const done = trans.call(dbName, { kind: 'drop' }, () => file.resetStatements());
  trans.commit();
  await done;
}
