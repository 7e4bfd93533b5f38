// The SQLite backend's error and options, apart from the driver so the public types
// never name better-sqlite3's.

/** Error of the SQLite backend (`code` says what failed). */
export class SqliteStorageError extends Error {
  override readonly name = 'SqliteStorageError';
  /** An error of kind `code`; `cause` is SQLite's own error, when there is one. */
  constructor(
    readonly code: 'open_failed' | 'transaction_inactive' | 'unsupported_schema' | 'constraint' | 'closed',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** An error with the DOMException name IndexedDB would use, which Dexie maps to its own errors. */
export function domError(name: 'ConstraintError' | 'TransactionInactiveError' | 'AbortError' | 'DataError', message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/** Options of a SQLite file. */
export interface SqliteFileOptions {
  /** How often another process's commits are looked for, in ms (default 100). */
  pollMs?: number;
  /** How long a write waits for another process's write transaction, in ms (default 5,000). */
  busyTimeoutMs?: number;
  /**
   * Whether a worker thread copies the write-ahead log back into the file once it
   * takes many writes (default true); false leaves that to SQLite, inside this
   * thread's commits.
   */
  checkpointWorker?: boolean;
  /** @internal The better-sqlite3 module the checkpoint worker loads (tests). */
  checkpointDriver?: string;
}

