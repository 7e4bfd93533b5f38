// The SQL thread of a file: its write connection on a worker thread.
//
// better-sqlite3 runs each statement to its end on the thread that calls it. With the
// write connection on the process's own thread, a bootstrap paid for listing and
// writing one after the other: while a page's rows and commit were written, the next
// page's answer waited unread (1,330 of 1,331 commits of a 100k bootstrap wrote a
// single page). On the SQL thread, the process's thread hands each request of a
// read-write transaction over (keys and values already encoded) and is free until the
// answer comes: it reads and checks the next page meanwhile. Read-only transactions
// stay on the process's thread, on the read connection (WAL: they never wait for the
// writer), so views read as fast as before.
//
// The file starts its SQL thread once it has taken a number of write commits
// (file.ts): a file that takes a few writes (a test, a CLI command) never pays for a
// thread. A thread that cannot start leaves the writes on the process's thread.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { DatabaseSpec, SqlOp } from './core.js';
import { SqliteStorageError, domError } from './errors.js';

/** What the worker starts with. */
export interface ThreadSetup {
  path: string;
  busyTimeoutMs: number;
  pollMs: number;
  /** Databases open on the file when the thread starts. */
  databases: DatabaseSpec[];
  /** Set to 1 by the worker once its connection is closed. */
  state: SharedArrayBuffer;
}

/** A request to the worker. */
export type ThreadRequest =
  | { type: 'begin'; id: number }
  | { type: 'op'; id: number; db: string; op: SqlOp }
  | { type: 'commit'; id: number }
  | { type: 'rollback'; id: number }
  | { type: 'register'; id: number; spec: DatabaseSpec }
  | { type: 'close'; id: number };

/** A request before it is numbered. */
type Unsent = ThreadRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

/** The worker's answer to a request. */
export type ThreadReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: { name: string; message: string; code?: string } };

/** What the worker tells without being asked. */
export type ThreadEvent = { event: 'ready' } | { event: 'external' } | { event: 'wake'; db: string };

/** The worker's old-generation heap limit, in MB. */
const SQL_THREAD_HEAP_MB = 64;

/** How long closing waits for the worker to close its connection, in ms. */
const CLOSE_WAIT_MS = 5_000;

/** The error a failed request of the worker is, on this thread. */
function errorOf(error: { name: string; message: string; code?: string }): Error {
  switch (error.name) {
    case 'ConstraintError':
    case 'DataError':
    case 'TransactionInactiveError':
    case 'AbortError':
      return domError(error.name, error.message);
    case 'SqliteStorageError':
      return new SqliteStorageError(((error.code as SqliteStorageError['code'] | undefined) ?? 'closed'), error.message);
    default: {
      const out = new Error(error.message) as Error & { code?: string };
      out.name = error.name;
      if (error.code !== undefined) out.code = error.code;
      return out;
    }
  }
}

/** The worker's module: the compiled one next to this file, or (running from TypeScript) the source through tsx. */
function workerEntry(): URL {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new URL('./sqlThreadWorker.js', here);
  // A worker does not inherit the loader that runs this file: register tsx in it first.
  const tsx = pathToFileURL(createRequire(here).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const source = new URL('./sqlThreadWorker.ts', here).href;
  const code = `const { register } = await import(${JSON.stringify(tsx)}); register(); await import(${JSON.stringify(source)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}

export interface SqlThreadHandlers {
  /** The worker is ready for requests. */
  onReady(): void;
  /** Another process committed to the file. */
  onExternal(): void;
  /** A database's writes queued messages for the filler. */
  onWake(db: string): void;
  /** The worker failed or exited: every request in flight was refused. */
  onFailure(error: Error): void;
}

/** The process's side of the SQL thread. */
export class SqlThread {
  private readonly worker: Worker;
  private readonly flag: Int32Array;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private nextId = 1;
  private failed = false;
  private closed = false;

  constructor(setup: Omit<ThreadSetup, 'state'>, private readonly handlers: SqlThreadHandlers) {
    const state = new SharedArrayBuffer(4);
    this.flag = new Int32Array(state);
    this.worker = new Worker(workerEntry(), {
      workerData: { ...setup, state } satisfies ThreadSetup,
      // It keeps statements and schemas only: a small heap holds the process's memory down.
      resourceLimits: { maxOldGenerationSizeMb: SQL_THREAD_HEAP_MB, maxYoungGenerationSizeMb: 4 },
    });
    // Only a request in flight keeps the process alive (see request).
    this.worker.unref();
    this.worker.on('message', (message: ThreadReply | ThreadEvent) => this.receive(message));
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) => {
      if (!this.closed) this.fail(new SqliteStorageError('closed', `the SQLite write thread exited (code ${code})`));
    });
  }

  private receive(message: ThreadReply | ThreadEvent): void {
    if ('event' in message) {
      if (message.event === 'ready') this.handlers.onReady();
      else if (message.event === 'external') this.handlers.onExternal();
      else this.handlers.onWake(message.db);
      return;
    }
    const waiting = this.pending.get(message.id);
    if (!waiting) return;
    this.pending.delete(message.id);
    if (this.pending.size === 0) this.worker.unref();
    if (message.ok) waiting.resolve(message.result);
    else waiting.reject(errorOf(message.error));
  }

  private fail(error: Error): void {
    if (this.failed) return;
    this.failed = true;
    for (const { reject } of this.pending.values()) reject(error);
    this.pending.clear();
    this.handlers.onFailure(error);
  }

  /** Sends a request; its answer settles the promise. A request is answered after every one sent before it. */
  request(request: Unsent): Promise<unknown> {
    if (this.failed || this.closed) return Promise.reject(new SqliteStorageError('closed', 'the SQLite write thread is not running'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      try {
        this.worker.postMessage({ ...request, id });
      } catch (error) {
        // A value that cannot be cloned (IndexedDB's DataCloneError).
        this.pending.delete(id);
        if (this.pending.size === 0) this.worker.unref();
        reject(error as Error);
      }
    });
  }

  /** Closes the worker's connection, waiting (bounded): the file's other connections close right after. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (!this.failed) {
      this.worker.postMessage({ type: 'close', id: 0 });
      const deadline = Date.now() + CLOSE_WAIT_MS;
      for (let now = Date.now(); Atomics.load(this.flag, 0) !== 1 && now < deadline; now = Date.now()) Atomics.wait(this.flag, 0, 0, deadline - now);
    }
    void this.worker.terminate();
  }
}
