// One SQLite file shared by every replica and content database a process opens on
// it: a connection that writes and one that reads, and the order transactions run in.
//
// better-sqlite3 is synchronous and a connection holds one transaction at a time,
// while Dexie, like IndexedDB, keeps transactions open across awaits and opens several
// at once. So here, as in IndexedDB:
// - read-write transactions run one at a time, in order, on the writer connection;
// - read-only ones run together on the reader connection (WAL: they see the last
//   commit and never wait for a writer), except that one whose tables overlap a
//   writer created before it waits for that writer, so it sees its writes;
// - a transaction commits when it has no request in flight and control returned to
//   the event loop.
// Transactions wait in these queues, never in SQLite's busy handler, which would block
// the only thread the lock holder could commit from. Other processes on the file are
// other connections: SQLite serialises writers across them (`BEGIN IMMEDIATE` plus a
// busy timeout), and `PRAGMA data_version`, polled while the file is open, tells this
// process when one of them committed, so its views re-run as another tab's would.
import Database from 'better-sqlite3';
import { Dexie } from 'dexie';
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { startCheckpointer, type Checkpointer } from './checkpoint.js';
import { SqliteStorageError, domError, type SqliteFileOptions } from './errors.js';

/** Dexie's zone API (present on Dexie.Promise, not in its type declarations). */
interface Zones {
  readonly PSD: unknown;
  usePSD<A, R>(zone: unknown, fn: (arg: A) => R, arg: A): R;
}
const zones = Dexie.Promise as unknown as Zones;

/**
 * Calls `fn(arg)` in the Dexie zone that was current when `zone` was captured, as
 * Dexie's IndexedDB core does for request callbacks: a result delivered after another
 * transaction's turn must resume its caller's transaction and live query, not
 * whatever zone the event loop is in.
 */
export function inZone<A, R>(zone: unknown, fn: (arg: A) => R, arg: A): R {
  return zones.usePSD(zone, fn, arg);
}

/** The current Dexie zone. */
export function currentZone(): unknown {
  return zones.PSD;
}

/** One better-sqlite3 connection and its prepared statements. */
export class Connection {
  private readonly statements = new Map<string, Database.Statement>();

  constructor(readonly db: Database.Database) {}

  /** A cached prepared statement. */
  statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  /** Forgets cached statements (after tables were dropped or created). */
  reset(): void {
    this.statements.clear();
  }
}

interface Listener {
  type: string;
  fn: (event: unknown) => void;
}

type State = 'queued' | 'active' | 'done';

/**
 * A transaction with the surface Dexie uses on an IDBTransaction (`mode`, `error`,
 * `on*` handlers, `addEventListener`, `abort()`, `commit()`).
 */
export class SqliteTransaction {
  onerror: ((event: unknown) => void) | null = null;
  onabort: ((event: unknown) => void) | null = null;
  oncomplete: ((event: unknown) => void) | null = null;
  error: Error | null = null;
  /** Set by Dexie's observability middleware: what this transaction changed. */
  declare mutatedParts?: unknown;
  state: State = 'queued';
  /** The connection this transaction runs on (set when it starts). */
  conn: Connection | undefined;
  private readonly waiting: (() => void)[] = [];
  private inFlight = 0;
  private ticket = 0;
  private commitAsked = false;
  private listeners: Listener[] = [];

  constructor(
    private readonly file: SqliteFile,
    readonly mode: 'readonly' | 'readwrite',
    /** `<database>/<table>` of every table it may touch (`<database>/*`: all of them). */
    readonly scope: readonly string[],
  ) {}

  /** Whether this transaction runs on the writer connection. */
  get writes(): boolean {
    return this.mode === 'readwrite';
  }

  /** Whether it touches a table `other` touches. */
  overlaps(other: SqliteTransaction): boolean {
    return this.scope.some((a) =>
      other.scope.some((b) => a === b || (a.endsWith('/*') && b.startsWith(a.slice(0, -1))) || (b.endsWith('/*') && a.startsWith(b.slice(0, -1)))),
    );
  }

  get db(): never {
    throw new SqliteStorageError('unsupported_schema', 'the SQLite backend has no IDBDatabase behind its transactions');
  }

  objectStore(): never {
    throw new SqliteStorageError('unsupported_schema', 'Transaction.waitFor() is not supported by the SQLite backend');
  }

  addEventListener(type: string, fn: (event: unknown) => void, options?: { signal?: AbortSignal }): void {
    const listener = { type, fn };
    this.listeners.push(listener);
    options?.signal?.addEventListener('abort', () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    });
  }

  removeEventListener(type: string, fn: (event: unknown) => void): void {
    this.listeners = this.listeners.filter((l) => l.type !== type || l.fn !== fn);
  }

  /**
   * Runs `work` inside the transaction (at once when it is the running one, else when
   * its turn comes) and delivers its result asynchronously, as an IDBRequest would.
   */
  run<T>(work: (conn: Connection) => T): Promise<T> {
    if (this.state === 'done') {
      return Promise.reject(domError('TransactionInactiveError', 'the transaction has finished'));
    }
    const zone = currentZone();
    return new Promise<T>((resolve, reject) => {
      // A request run at once settles in its caller's zone as it is; one run when the
      // transaction's turn comes (always from a task of its own, see SqliteFile.kick)
      // settles back in the zone it was made in, as Dexie's IndexedDB core does.
      let deferred = false;
      const settle = <A>(fn: (arg: A) => void, arg: A) => (deferred ? inZone(zone, fn, arg) : fn(arg));
      const step = () => {
        if (this.state === 'done') {
          settle(reject, domError('TransactionInactiveError', 'the transaction has finished'));
          return;
        }
        this.ticket += 1;
        let result: T;
        try {
          result = work(this.conn!);
        } catch (error) {
          this.inFlight -= 1;
          settle(reject, error);
          this.fail(error as Error);
          return;
        }
        this.inFlight -= 1;
        settle(resolve, result);
        this.idleCheck();
      };
      this.inFlight += 1;
      if (this.state === 'active') step();
      else {
        deferred = true;
        this.waiting.push(step);
      }
    });
  }

  /** Called by the file when this transaction's turn comes (the SQL transaction is open). */
  start(conn: Connection): void {
    this.conn = conn;
    this.state = 'active';
    // Each waiting request settles in a task of its own, as IndexedDB delivers each
    // request's event: Dexie re-enters the request's zone around it, and two zones
    // entered in one task interleave their microtasks (a live query's zone then leaks
    // into unrelated code that runs next).
    for (const step of this.waiting.splice(0)) setImmediate(step);
    this.idleCheck();
  }

  /**
   * Runs `callback` in a task of its own, in `zone`, as part of this transaction
   * (it stays open until the callback ran): a cursor's next step, as IndexedDB fires
   * a cursor's success event. A callback that throws aborts the transaction.
   */
  task(zone: unknown, callback: (conn: Connection) => void, onError: (error: unknown) => void): void {
    if (this.state !== 'active') {
      onError(domError('TransactionInactiveError', 'the transaction has finished'));
      return;
    }
    this.inFlight += 1;
    setImmediate(() => {
      this.inFlight -= 1;
      if (this.state !== 'active') {
        onError(domError('TransactionInactiveError', 'the transaction has finished'));
        return;
      }
      this.ticket += 1;
      try {
        inZone(zone, callback, this.conn!);
      } catch (error) {
        onError(error);
        this.fail(error as Error);
        return;
      }
      this.idleCheck();
    });
  }

  /** Called by the file when the SQL transaction could not be opened for it. */
  refuse(error: Error): void {
    this.fail(error);
  }

  /** Commit once nothing is in flight (Dexie calls this after a single-request transaction). */
  commit(): void {
    this.commitAsked = true;
    if (this.state === 'active' && this.inFlight === 0) this.finish();
  }

  abort(): void {
    if (this.state === 'done') return;
    this.end(domError('AbortError', 'the transaction was aborted'), false);
  }

  private idleCheck(): void {
    const ticket = this.ticket;
    setImmediate(() => {
      if (this.state === 'active' && this.inFlight === 0 && (this.ticket === ticket || this.commitAsked)) this.finish();
    });
  }

  private finish(): void {
    if (this.state !== 'active') return;
    try {
      this.file.leave(this, 'commit');
    } catch (error) {
      this.fail(error as Error);
      return;
    }
    this.state = 'done';
    this.fire('complete', this.oncomplete);
  }

  private fail(error: Error): void {
    if (this.state === 'done') return;
    this.end(error, true);
  }

  private end(error: Error, asError: boolean): void {
    this.state = 'done';
    this.error = asError ? error : null;
    for (const step of this.waiting.splice(0)) step();
    this.file.leave(this, 'rollback');
    queueMicrotask(() => {
      if (asError) this.fire('error', this.onerror);
      this.fire('abort', this.onabort);
    });
  }

  private fire(type: string, handler: ((event: unknown) => void) | null): void {
    const event = { type, target: this, preventDefault() {}, stopPropagation() {} };
    handler?.(event);
    for (const listener of this.listeners.filter((l) => l.type === type)) listener.fn(event);
  }
}

/** What a file tells the databases on it when another process committed. */
export type ExternalChangeListener = () => void;

const files = new Map<string, SqliteFile>();

/** The writer's own checkpoint limit, in log pages (64 MiB of 4 KiB pages). */
const INLINE_CHECKPOINT_FRAMES = 16_384;
/**
 * Write commits after which the worker starts: a file that takes only a few writes
 * (most tests, a CLI command) never pays for a thread.
 */
const WORKER_AFTER_COMMITS = 32;

/** One open SQLite file (shared by the databases of one process that use the same path). */
export class SqliteFile {
  /** The connection read-write transactions (and schema set-up) run on. */
  readonly writer: Connection;
  /** The connection read-only transactions run on. */
  readonly reader: Connection;
  private writeQueue: SqliteTransaction[] = [];
  private currentWriter: SqliteTransaction | undefined;
  /** Readers that wait for an overlapping writer created before them. */
  private blockedReaders: SqliteTransaction[] = [];
  /** Readers inside the reader connection's open SQL transaction. */
  private readonly readGroup = new Set<SqliteTransaction>();
  /** `commits` when the read group began: later readers must not share its snapshot. */
  private readGroupEpoch = -1;
  /** Readers waiting for the read group to end (they need a newer snapshot). */
  private nextReaders: SqliteTransaction[] = [];
  /** Whether a `kick` is scheduled. */
  private kicked = false;
  /** Commits seen (ours, or another process's): a read group's snapshot is of one. */
  private commits = 0;
  private users = 0;
  private lastCommit = 0;
  private dataVersion: number;
  /** Another process committed and the databases on the file were not told yet. */
  private unannounced = false;
  private readonly poll: ReturnType<typeof setInterval>;
  /** Write commits of this process on the file (the worker starts at {@link WORKER_AFTER_COMMITS}). */
  private writes = 0;
  private checkpointer: Checkpointer | undefined;
  private readonly options: SqliteFileOptions;
  private readonly external = new Set<ExternalChangeListener>();

  private constructor(
    readonly path: string,
    options: SqliteFileOptions,
  ) {
    this.options = options;
    const open = (cacheKiB: number) => {
      const db = new Database(path, { timeout: options.busyTimeoutMs ?? 5_000 });
      db.pragma('journal_mode = WAL');
      // WAL + NORMAL survives a crash of the process (kill -9) with every committed
      // transaction; only a power loss can drop the last ones.
      db.pragma('synchronous = NORMAL');
      db.pragma(`cache_size = -${cacheKiB}`);
      // Checkpoints (which sync the file) every 64 MB of log instead of SQLite's 4 MB
      // (a bootstrap spent a third of its commit time in them); a worker thread
      // copies most of the log back before (checkpoint.ts).
      db.pragma(`wal_autocheckpoint = ${INLINE_CHECKPOINT_FRAMES}`);
      // A log that started over is cut back to that size (it keeps its largest otherwise).
      db.pragma(`journal_size_limit = ${INLINE_CHECKPOINT_FRAMES * 4096}`);
      return db;
    };
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      // Created 0600 before SQLite opens it: the replica is private mail.
      closeSync(openSync(path, 'a', 0o600));
      chmodSync(path, 0o600);
      // Page caches of 16 and 8 MiB: a 100k-message bootstrap took as long as with
      // 32 and 16 (12.5 s), and the process stayed under 200 MB (190 instead of 214).
      this.writer = new Connection(open(16 * 1024));
      this.reader = new Connection(open(8 * 1024));
    } catch (error) {
      throw new SqliteStorageError('open_failed', `cannot open the SQLite replica at ${path}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    this.dataVersion = this.readDataVersion();
    this.poll = setInterval(() => this.checkExternal(), options.pollMs ?? 100);
    this.poll.unref();
  }

  /** The open file at `path`, opened on first use. */
  static acquire(path: string, options: SqliteFileOptions = {}): SqliteFile {
    let file = files.get(path);
    if (!file) {
      file = new SqliteFile(path, options);
      files.set(path, file);
    }
    file.users += 1;
    return file;
  }

  /**
   * Gives back one `acquire`. The connections close with the last one, once the
   * transactions still running or waiting are done; an `acquire` before that keeps
   * them (a second connection in this process would only wait for the first one's locks).
   */
  release(): void {
    this.users -= 1;
    if (this.users > 0) return;
    const close = () => {
      if (this.users > 0) return;
      if (!this.idle()) {
        setImmediate(close);
        return;
      }
      clearInterval(this.poll);
      if (files.get(this.path) === this) files.delete(this.path);
      this.checkpointer?.close();
      this.writer.db.close();
      this.reader.db.close();
    };
    close();
  }

  /** Starts the worker thread that copies this file's log back (checkpoint.ts). */
  private startCheckpointer(): void {
    if (this.options.checkpointWorker === false) return;
    try {
      this.checkpointer = startCheckpointer(this.path, {
        onFailure: () => (this.checkpointer = undefined),
        ...(this.options.checkpointDriver !== undefined ? { driver: this.options.checkpointDriver } : {}),
      });
    } catch {
      // No worker here (the driver cannot be found from this module, threads are
      // refused): SQLite's own checkpoints do all the copying, as they always could.
    }
  }

  /** Where this file's log is copied back now: in SQLite's commits alone, or on a worker thread too. */
  get checkpoints(): 'inline' | 'worker' {
    return this.checkpointer ? 'worker' : 'inline';
  }

  /** Commits seen on the file: this process's and, once noticed, other processes'. */
  get commitCount(): number {
    return this.commits;
  }

  /** Date.now() of this process's last commit of a read-write transaction (0: none yet). */
  get lastCommitAt(): number {
    return this.lastCommit;
  }

  /** Forgets both connections' prepared statements (tables were created or dropped). */
  resetStatements(): void {
    this.writer.reset();
    this.reader.reset();
  }

  /** A new transaction over `scope` (`<database>/<table>` names), started when its turn comes. */
  transaction(mode: 'readonly' | 'readwrite', scope: readonly string[]): SqliteTransaction {
    if (!this.writer.db.open) throw new SqliteStorageError('closed', 'the SQLite replica is closed');
    const trans = new SqliteTransaction(this, mode, scope);
    if (trans.writes) {
      this.writeQueue.push(trans);
      this.pumpWriters();
    } else if (this.writersAhead(trans)) this.blockedReaders.push(trans);
    else this.startReader(trans);
    return trans;
  }

  private writersAhead(reader: SqliteTransaction): boolean {
    return (this.currentWriter?.overlaps(reader) ?? false) || this.writeQueue.some((w) => w.overlaps(reader));
  }

  private pumpWriters(): void {
    while (!this.currentWriter && this.writeQueue.length > 0) {
      const next = this.writeQueue.shift()!;
      try {
        this.writer.db.exec('BEGIN IMMEDIATE');
      } catch (error) {
        next.refuse(error as Error);
        continue;
      }
      this.currentWriter = next;
      next.start(this.writer);
    }
  }

  private startReader(trans: SqliteTransaction): void {
    if (this.readGroup.size > 0) {
      // Another process may have committed since the group's snapshot: a transaction
      // must see every commit made before it began (as IndexedDB's do across tabs).
      this.syncVersion();
      if (this.readGroupEpoch === this.commits && this.nextReaders.length === 0) {
        this.readGroup.add(trans);
        trans.start(this.reader);
      } else this.nextReaders.push(trans);
      return;
    }
    try {
      this.reader.db.exec('BEGIN');
    } catch (error) {
      trans.refuse(error as Error);
      return;
    }
    this.readGroupEpoch = this.commits;
    this.readGroup.add(trans);
    trans.start(this.reader);
  }

  /**
   * Called by a transaction that ends. A writer's SQL transaction ends with it: COMMIT
   * (throws when SQLite refuses, e.g. a full disk) or ROLLBACK. A read transaction ends
   * with the last reader of its group. Then whoever waited starts.
   */
  leave(trans: SqliteTransaction, outcome: 'commit' | 'rollback'): void {
    if (trans === this.currentWriter) {
      if (this.writer.db.inTransaction) {
        if (outcome === 'commit') this.writer.db.exec('COMMIT');
        else {
          try {
            this.writer.db.exec('ROLLBACK');
          } catch {
            // SQLite already rolled back (some errors do); nothing left to undo.
          }
        }
      }
      if (outcome === 'commit') {
        this.commits += 1;
        this.lastCommit = Date.now();
        if (++this.writes === WORKER_AFTER_COMMITS) this.startCheckpointer();
      }
      this.currentWriter = undefined;
      this.kick();
      return;
    }
    if (this.readGroup.delete(trans)) {
      if (this.readGroup.size === 0) {
        if (this.reader.db.inTransaction) this.reader.db.exec('COMMIT');
        this.kick();
      }
      return;
    }
    this.writeQueue = this.writeQueue.filter((t) => t !== trans);
    this.blockedReaders = this.blockedReaders.filter((t) => t !== trans);
    this.nextReaders = this.nextReaders.filter((t) => t !== trans);
  }

  /**
   * Starts whoever waited, in a task of its own: a transaction ends inside its
   * caller's code (a commit Dexie asks for, an abort), and the requests waiting in the
   * next ones must not settle there, in the middle of another zone's microtasks.
   */
  private kick(): void {
    if (this.kicked) return;
    this.kicked = true;
    setImmediate(() => {
      this.kicked = false;
      if (!this.writer.db.open) return;
      this.pumpWriters();
      this.releaseReaders();
      if (this.readGroup.size === 0) for (const next of this.nextReaders.splice(0)) this.startReader(next);
    });
  }

  private releaseReaders(): void {
    const blocked = this.blockedReaders.splice(0);
    for (const reader of blocked) {
      if (this.writersAhead(reader)) this.blockedReaders.push(reader);
      else this.startReader(reader);
    }
  }

  onExternalChange(listener: ExternalChangeListener): () => void {
    this.external.add(listener);
    return () => this.external.delete(listener);
  }

  private idle(): boolean {
    return (
      !this.currentWriter &&
      this.writeQueue.length === 0 &&
      this.readGroup.size === 0 &&
      this.blockedReaders.length === 0 &&
      this.nextReaders.length === 0
    );
  }

  private readDataVersion(): number {
    return this.writer.db.pragma('data_version', { simple: true }) as number;
  }

  /** Counts another process's commit (readers from now on need a snapshot with it). */
  private syncVersion(): void {
    const version = this.readDataVersion();
    if (version === this.dataVersion) return;
    this.dataVersion = version;
    this.commits += 1;
    this.unannounced = true;
  }

  private checkExternal(): void {
    if (this.currentWriter || !this.writer.db.open) return;
    this.syncVersion();
    if (!this.unannounced) return;
    this.unannounced = false;
    for (const listener of this.external) listener();
  }
}
