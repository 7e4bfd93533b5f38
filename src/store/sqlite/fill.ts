// The full-text index's filler: indexes the messages a bulk write queued
// (src/store/sqlite/fts.ts, `pending`) once this process's writes have been quiet for
// a moment (a bootstrap's writes end first: the replica is live before it is fully
// indexed), then chunk after chunk, a chunk per write transaction so the replica's
// own writes never wait long behind it. It runs in every
// process that has the replica open; the queue is read inside each chunk's write
// transaction, so two processes share it without indexing a message twice, and a
// crash leaves the rest queued for the next open.
import type { Message } from '../../api/types.js';
import { storedValue } from './core.js';
import { drainPending, type FtsTables } from './fts.js';
import type { SqliteFile } from './file.js';

/** Quiet time (no write committed, none queued) before the filler starts. */
export const FILL_IDLE_MS = 150;
/** Messages indexed per write transaction. */
export const FILL_CHUNK = 500;

export interface FillerOptions {
  file: SqliteFile;
  /** The replica's Dexie database name (its tables' transaction scope). */
  dbName: string;
  tables: FtsTables;
  /** Called when the queue is empty after the filler indexed some of it. */
  onFilled: () => void;
  /** Called when a chunk failed (the filler stops; the queue stays for the next open). */
  onError?: (error: Error) => void;
  idleMs?: number;
  chunk?: number;
}

export class IndexFiller {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  private stopped = false;
  private lastQueued = 0;
  /** Between the chunks of one fill (the quiet check is made before the first). */
  private filling = false;

  constructor(private readonly options: FillerOptions) {}

  /** A write just queued messages: fill once writes have been quiet for a while. */
  queued(): void {
    this.lastQueued = Date.now();
    this.schedule(this.idleMs);
  }

  /** Messages are queued from before (an earlier run): fill when writes are quiet. */
  resume(): void {
    this.schedule(this.idleMs);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private get idleMs(): number {
    return this.options.idleMs ?? FILL_IDLE_MS;
  }

  private schedule(delayMs: number): void {
    if (this.stopped || this.running || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.step();
    }, delayMs);
    // A process with nothing else to do may exit: the queue waits for its next open.
    this.timer.unref?.();
  }

  private step(): void {
    if (this.stopped) return;
    const { file, dbName, tables } = this.options;
    const quietFor = Date.now() - Math.max(this.lastQueued, file.lastCommitAt);
    if (!this.filling && quietFor < this.idleMs) {
      this.schedule(this.idleMs - quietFor);
      return;
    }
    let trans;
    try {
      trans = file.transaction('readwrite', [`${dbName}/messages`]);
    } catch {
      // The file closed: whoever opens it next resumes.
      this.stop();
      return;
    }
    this.running = true;
    let more = false;
    trans.addEventListener('complete', () => {
      this.running = false;
      this.filling = more;
      if (more) this.schedule(0);
      else this.options.onFilled();
    });
    trans.addEventListener('abort', () => {
      this.running = false;
      this.filling = false;
      this.stop();
      if (trans.error) this.options.onError?.(trans.error);
    });
    void trans
      .run((conn) => {
        more = drainPending(conn, tables, this.options.chunk ?? FILL_CHUNK, (id) => storedValue(conn, tables.messages, id) as Message | undefined);
      })
      .catch(() => undefined);
    trans.commit();
  }
}
