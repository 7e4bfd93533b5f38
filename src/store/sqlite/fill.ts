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

/** Quiet time (no write committed by this process) before the filler starts. */
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
}

export class IndexFiller {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  private stopped = false;
  /** Between the chunks of one fill. */
  private filling = false;
  /** The file's commit count right after this filler's last chunk. */
  private afterChunk = -1;

  constructor(private readonly options: FillerOptions) {}

  /**
   * Messages are queued (by a write, or left by an earlier run): fill once writes have
   * been quiet for a while. A write that queues commits after this call, so its
   * commit time is what the quiet time counts from.
   */
  wake(): void {
    this.schedule(FILL_IDLE_MS);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
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
    const quietFor = Date.now() - file.lastCommitAt;
    // The first chunk waits for quiet, and so does the next one when another write
    // committed since the last (a bootstrap that paused for a slow page goes on
    // without a fill between its pages).
    if ((!this.filling || file.commitCount !== this.afterChunk) && quietFor < FILL_IDLE_MS) {
      this.filling = false;
      this.schedule(FILL_IDLE_MS - quietFor);
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
      this.afterChunk = file.commitCount;
      this.running = false;
      this.filling = more;
      if (more) this.schedule(0);
      else this.options.onFilled();
    });
    // A chunk that fails (a full disk, the file closing) ends this process's filling:
    // the queue stays, search$ keeps scanning, and the next open resumes it.
    trans.addEventListener('abort', () => {
      this.running = false;
      this.filling = false;
      this.stop();
    });
    void trans
      .run((conn) => {
        more = drainPending(conn, tables, FILL_CHUNK, (id) => storedValue(conn, tables.messages, id) as Message | undefined);
      })
      .catch(() => undefined);
    trans.commit();
  }
}
