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
import { currentZone, type Connection, type SqliteFile, type SqliteTransaction } from './file.js';

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

interface Row {
  /** Index key bytes (the primary key for primary-key queries). */
  ik: Buffer;
  k: Buffer;
  v?: Buffer;
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

  get(conn: Connection, key: unknown): unknown {
    const k = encodeKey(key);
    const row = conn.statement(this.sql.get).get(k) as { v: Buffer } | undefined;
    return row ? this.decode(row.v, k, key) : undefined;
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

  write(conn: Connection, key: unknown, value: unknown, bytes: Buffer, mode: 'add' | 'put', changes?: RowChange[]): void {
    const k = encodeKey(key);
    let previous: unknown;
    if (this.indexes.length === 0 && !changes && mode === 'put') {
      // Nothing derives from the old value: replace it unseen.
      conn.statement(this.sql.put).run(k, bytes);
    } else if (conn.statement(this.sql.insert).run(k, bytes).changes === 0) {
      // The key was taken (a new row costs no read: a bootstrap writes only those).
      if (mode === 'add') throw domError('ConstraintError', `a record with this key already exists in ${this.schema.name}`);
      const old = conn.statement(this.sql.get).get(k) as { v: Buffer };
      previous = this.decode(old.v, k, key);
      this.unindex(conn, k, previous);
      conn.statement(this.sql.update).run(bytes, k);
    }
    for (const { index, insert } of this.indexes) {
      const statement = conn.statement(insert);
      for (const ik of indexKeys(index, value)) statement.run(encodeKey(ik), k);
    }
    changes?.push({ key, previous, next: value });
  }

  delete(conn: Connection, key: unknown, changes?: RowChange[]): void {
    this.deleteEncoded(conn, encodeKey(key), key, changes);
  }

  private deleteEncoded(conn: Connection, k: Buffer, key: unknown, changes?: RowChange[]): void {
    const old = conn.statement(this.sql.get).get(k) as { v: Buffer } | undefined;
    if (!old) return;
    const previous = this.decode(old.v, k, key);
    this.unindex(conn, k, previous);
    conn.statement(this.sql.delete).run(k);
    changes?.push({ key, previous, next: undefined });
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
  private source(index: DBCoreIndex): { table: string; column: string; primary: boolean } {
    if (index.isPrimaryKey) return { table: this.name, column: 'k', primary: true };
    const found = this.indexes.find((entry) => entry.index.name === index.name);
    if (!found) throw new SqliteStorageError('unsupported_schema', `no index ${String(index.name)} on ${this.schema.name}`);
    return { table: found.table, column: 'ik', primary: false };
  }

  /**
   * Rows of a range in index order (`reverse`: descending), from `after` (exclusive,
   * or inclusive with `inclusive`), at most `limit`.
   */
  rows(
    conn: Connection,
    index: DBCoreIndex,
    range: DBCoreKeyRange,
    options: { reverse: boolean; values: boolean; limit: number; unique?: boolean; after?: { ik: Buffer; k?: Buffer; inclusive?: boolean } },
  ): Row[] {
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

  count(conn: Connection, index: DBCoreIndex, range: DBCoreKeyRange): number {
    const sql = rangeSql(index.isPrimaryKey ? 'k' : 'ik', range);
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

  private fetch(after: { ik: Buffer; k?: Buffer; inclusive?: boolean }): Row[] {
    return this.table.rows(this.sqlTrans.conn!, this.req.query.index, this.req.query.range, {
      reverse: !!this.req.reverse,
      values: !!this.req.values,
      limit: CURSOR_CHUNK,
      ...(this.req.unique ? { unique: true } : {}),
      after,
    });
  }

  /** Moves to the next row chosen by `pick`, then calls back (or ends the iteration). */
  private step(pick: () => Row | undefined): void {
    this.sqlTrans.task(
      this.zone,
      () => {
        const row = pick();
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
      },
      (error: unknown) => this.rejectIteration?.(error),
    );
  }

  private nextBuffered(): Row | undefined {
    if (this.buffer.length === 0 && !this.exhausted) {
      const after = this.req.unique ? { ik: this.current.ik } : { ik: this.current.ik, k: this.current.k };
      this.buffer = this.fetch(after);
      this.exhausted = this.buffer.length < CURSOR_CHUNK;
    }
    return this.buffer.shift();
  }

  readonly continue = (key?: unknown): void => {
    if (key === undefined) {
      this.step(() => this.nextBuffered());
      return;
    }
    this.step(() => {
      this.buffer = this.fetch({ ik: encodeKey(key), inclusive: true });
      this.exhausted = this.buffer.length < CURSOR_CHUNK;
      return this.buffer.shift();
    });
  }

  readonly continuePrimaryKey = (key: unknown, primaryKey: unknown): void => {
    this.step(() => {
      this.buffer = this.fetch({ ik: encodeKey(key), k: encodeKey(primaryKey), inclusive: true });
      this.exhausted = this.buffer.length < CURSOR_CHUNK;
      return this.buffer.shift();
    });
  }

  readonly advance = (count: number): void => {
    this.step(() => {
      let row: Row | undefined;
      for (let i = 0; i < count; i += 1) {
        row = this.nextBuffered();
        if (!row) return undefined;
        this.current = row;
      }
      return row;
    });
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

/** What a SQLite-backed Dexie database needs from its storage. */
export interface SqliteCoreOptions {
  file: SqliteFile;
  /** Row-write hooks per object store name (the replica's full-text index). */
  hooks?: Readonly<Record<string, readonly TableWriteHook[]>>;
  /**
   * Extra set-up in the database's set-up transaction, after its tables exist (the
   * full-text index); `rows(table)` reads every stored value of a table.
   */
  setup?: (conn: Connection, rows: (table: string) => Iterable<[key: unknown, value: unknown]>) => void;
}

/**
 * The DBCore of one Dexie database on `file`: replaces the IndexedDB core below it
 * (only its schema is kept), after creating or migrating the SQL tables.
 */
export function createSqliteCore(down: DBCore, options: SqliteCoreOptions): DBCore {
  const { file } = options;
  const dbName = down.schema.name;
  const prefix = tablePrefix(dbName);
  const meta = quote(`${prefix}/meta`);
  const tables = new Map<string, StoreTable>();
  for (const schema of down.schema.tables) {
    if (schema.indexes.some((index) => index.unique)) {
      throw new SqliteStorageError('unsupported_schema', `unique indexes are not supported (table ${schema.name})`);
    }
    tables.set(schema.name, new StoreTable(prefix, schema, options.hooks?.[schema.name] ?? []));
  }
  // The tables are set up by this database's first transaction, in line behind any
  // transaction another database of the file has open (a write lock, taken at BEGIN).
  let migrated = false;
  let migrating = false;
  const migrate = (conn: Connection) => {
    conn.db.exec(`CREATE TABLE IF NOT EXISTS ${meta} (name TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID`);
    const recorded = conn.db.prepare(`SELECT value FROM ${meta} WHERE name = 'tables'`).get() as { value: string } | undefined;
    const before: string[] = recorded ? (JSON.parse(recorded.value) as string[]) : [];
    for (const name of before) {
      if (!tables.has(name)) new StoreTable(prefix, { ...emptySchema, name }, []).dropAll(conn);
    }
    for (const table of tables.values()) table.migrate(conn, meta);
    conn.db.prepare(`INSERT OR REPLACE INTO ${meta} (name, value) VALUES ('tables', ?)`).run(JSON.stringify([...tables.keys()]));
    options.setup?.(conn, (name) => tableOf(name).all(conn));
    conn.db.prepare(`INSERT OR REPLACE INTO ${meta} (name, value) VALUES ('db_name', ?)`).run(down.schema.name);
    file.resetStatements();
  };

  const tableOf = (name: string): StoreTable => {
    const table = tables.get(name);
    if (!table) throw new SqliteStorageError('unsupported_schema', `no table ${name}`);
    return table;
  };
  const sqlTrans = (trans: DBCoreTransaction) => trans as unknown as SqliteTransaction;

  function coreTable(name: string): DBCoreTable {
    const table = tableOf(name);
    const schema = table.schema;
    const primary = schema.primaryKey;
    return {
      name,
      schema,
      mutate(req: DBCoreMutateRequest): Promise<DBCoreMutateResponse> {
        if (req.type === 'deleteRange') {
          return sqlTrans(req.trans).run((conn) => {
            const changes: RowChange[] | undefined = table.watched ? [] : undefined;
            table.deleteRange(conn, req.range, changes);
            table.afterWrite(conn, changes);
            return { numFailures: 0, failures: {}, results: [], lastResult: undefined };
          });
        }
        if (req.type === 'delete') {
          const keys = req.keys;
          return sqlTrans(req.trans).run((conn) => {
            const changes: RowChange[] | undefined = table.watched ? [] : undefined;
            for (const key of keys) table.delete(conn, key, changes);
            table.afterWrite(conn, changes);
            return { numFailures: 0, failures: {}, results: keys, lastResult: undefined };
          });
        }
        // Values are cloned when the request is made, as IndexedDB does.
        const values = req.values;
        const prepared = values.map((value, i) => {
          const explicit = req.keys?.[i] ?? (primary.extractKey ? primary.extractKey(value) : undefined);
          return { value, explicit, bytes: primary.autoIncrement && explicit === undefined ? undefined : table.encode(value) };
        });
        const mode = req.type;
        return sqlTrans(req.trans).run((conn) => {
          const failures: Record<number, Error> = {};
          const results: unknown[] = [];
          const changes: RowChange[] | undefined = table.watched ? [] : undefined;
          let numFailures = 0;
          prepared.forEach((item, i) => {
            try {
              let key = item.explicit;
              let { value, bytes } = item;
              if (primary.autoIncrement) {
                key = table.nextKey(conn, meta, typeof key === 'number' ? key : undefined);
                if (item.explicit === undefined && typeof primary.keyPath === 'string') {
                  value = { ...(value as Record<string, unknown>) };
                  setKeyPath(value as Record<string, unknown>, primary.keyPath, key);
                  bytes = encodeValue(value);
                }
              }
              if (!isValidKey(key)) throw domError('DataError', `${String(key)} is not a valid key of ${name}`);
              table.write(conn, key, value, bytes ?? table.encode(value), mode, changes);
              results[i] = key;
            } catch (error) {
              if ((error as Error).name !== 'ConstraintError' && (error as Error).name !== 'DataError') throw error;
              failures[i] = error as Error;
              numFailures += 1;
            }
          });
          table.afterWrite(conn, changes);
          return { numFailures, failures, results, lastResult: results.at(-1) };
        });
      },
      get(req: DBCoreGetRequest): Promise<unknown> {
        return sqlTrans(req.trans).run((conn) => table.get(conn, req.key));
      },
      getMany(req: DBCoreGetManyRequest): Promise<unknown[]> {
        return sqlTrans(req.trans).run((conn) => req.keys.map((key) => table.get(conn, key)));
      },
      query(req: DBCoreQueryRequest): Promise<DBCoreQueryResponse> {
        const direction = req.direction ?? 'next';
        return sqlTrans(req.trans).run((conn) => {
          const rows = table.rows(conn, req.query.index, req.query.range, {
            reverse: direction === 'prev' || direction === 'prevunique',
            values: !!req.values,
            limit: req.limit ?? Infinity,
            unique: direction === 'nextunique' || direction === 'prevunique',
          });
          return { result: rows.map((row) => (req.values ? table.decode(row.v!, row.k) : decodeKey(row.k))) };
        });
      },
      openCursor(req: DBCoreOpenCursorRequest): Promise<DBCoreCursor | null> {
        return sqlTrans(req.trans).run((conn) => {
          const first = table.rows(conn, req.query.index, req.query.range, {
            reverse: !!req.reverse,
            values: !!req.values,
            limit: CURSOR_CHUNK,
            ...(req.unique ? { unique: true } : {}),
          });
          return first.length === 0 ? null : new ChunkCursor(req.trans, table, req, first);
        });
      },
      count(req: DBCoreCountRequest): Promise<number> {
        return sqlTrans(req.trans).run((conn) => table.count(conn, req.query.index, req.query.range));
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
        void setup.run((conn) => migrate(conn)).catch(() => undefined);
        setup.commit();
      }
      return file.transaction(mode, stores.map((store) => `${dbName}/${store}`)) as unknown as DBCoreTransaction;
    },
    table: coreTable,
  };
  return core;
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
  const prefix = tablePrefix(dbName);
  const trans = file.transaction('readwrite', [`${dbName}/*`]);
  const done = trans.run((conn) => {
    const names = conn.db
      .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND substr(name, 1, ?) = ?`)
      .pluck()
      .all(prefix.length + 1, `${prefix}/`) as string[];
    for (const name of names) conn.db.exec(`DROP TABLE IF EXISTS ${quote(name)}`);
    file.resetStatements();
  });
  trans.commit();
  await done;
}
