// RxJS views over the replica (issue 5 "Views"). Each view is a read on the store's change feed (`live`)
// wrapped as a cold Observable: subscribing runs the query, and it re-runs only when
// a write (from this engine, another engine instance or another tab) touches what
// it read. Results that did not change are not emitted again; every view completes
// when the engine stops.
import { live } from '../store/live.js';
import { Observable, distinctUntilChanged, takeUntil } from 'rxjs';
import type { Folder, Identity, Message, Thread } from '../api/index.js';
import type { MailboxDb } from '../store/db.js';
import { sameRecord } from '../store/overlay.js';
import {
  countMessages,
  getMessagesById,
  getThreadWithMessages,
  listFolders,
  queryMessageIds,
  queryMessages,
  queryThreads,
  type MessageQuery,
  type ThreadQuery,
  type ThreadWithMessages,
} from '../store/queries.js';

/** The read views of a mailbox replica. */
export interface MailboxViews {
  /** Every folder, in folder-list order (sort_order, name). */
  folders$(): Observable<Folder[]>;
  /** The mailbox's sending identities (From addresses), sorted by id. */
  identities$(): Observable<Identity[]>;
  /** Messages matching a local query (default: all, newest first). */
  messages$(query?: MessageQuery): Observable<Message[]>;
  /** One message (undefined while absent). */
  message$(id: string): Observable<Message | undefined>;
  /** Threads matching a local query (default: most recent first). */
  threads$(query?: ThreadQuery): Observable<Thread[]>;
  /** One thread with its messages, oldest first (undefined while absent). */
  thread$(id: string): Observable<ThreadWithMessages | undefined>;
  /** Number of messages matching a query (limit/offset ignored). */
  count$(query?: MessageQuery): Observable<number>;
  /**
   * The ids of a query's messages, in order (limit/offset applied). Keys only on the
   * common lists, so a virtual list over 100k messages gets its length and order
   * from one index read, then renders rows with `messagesById$` on the visible slice.
   */
  messageIds$(query?: MessageQuery): Observable<string[]>;
  /** These messages, in this order (undefined where an id is absent); live. */
  messagesById$(ids: readonly string[]): Observable<(Message | undefined)[]>;
}

/** Re-run pacing of a view. */
export interface LiveViewOptions {
  /**
   * Burst pacing. When a result follows the previous one within the pause (a burst
   * of writes, such as a bootstrap committing a page every few ms), the view stops
   * watching and reads afresh once the pause has passed. The pause is this many ms,
   * or {@link LiveViewOptions.costFactor} times the view's last measured read time
   * when that is longer, so a view whose read grows with the folder (every key of a
   * 100k range) spends a bounded share of the time reading, however fast the writes
   * come. An isolated change still shows at once. Default 0: no pacing.
   */
  minIntervalMs?: number;
  /** Pause as a multiple of the last read's duration (default 4: reads ≤ 20% of the time in a burst). */
  costFactor?: number;
}

/**
 * A cold Observable of a live query. The database is awaited per subscription, so
 * views can be created before the engine has opened it.
 */
export function liveView<T>(db: Promise<MailboxDb>, read: (db: MailboxDb) => Promise<T>, until: Observable<unknown>, options: LiveViewOptions = {}): Observable<T> {
  const minInterval = options.minIntervalMs ?? 0;
  const costFactor = options.costFactor ?? 4;
  return new Observable<T>((subscriber) => {
    let inner: { unsubscribe(): void } | undefined;
    let resume: ReturnType<typeof setTimeout> | undefined;
    let closed = false;
    let lastAt = -Infinity;
    let readMs = 0;
    const watch = (d: MailboxDb) => {
      const startedAt = performance.now();
      let first = true;
      inner = live(() => read(d)).subscribe({
        next: (value) => {
          subscriber.next(value);
          const now = performance.now();
          // The first result of a subscription times one whole read.
          if (first) readMs = now - startedAt;
          first = false;
          const pause = Math.max(minInterval, readMs * costFactor);
          if (minInterval > 0 && now - lastAt < pause) {
            // A burst: pause. The fresh subscription re-reads everything, so no
            // change made during the pause is missed.
            inner?.unsubscribe();
            inner = undefined;
            resume = setTimeout(() => {
              resume = undefined;
              if (!closed) watch(d);
            }, pause);
          }
          lastAt = now;
        },
        error: (error: unknown) => subscriber.error(error),
      });
    };
    db.then(
      (d) => {
        if (!closed) watch(d);
      },
      (error: unknown) => subscriber.error(error),
    );
    return () => {
      closed = true;
      if (resume !== undefined) clearTimeout(resume);
      inner?.unsubscribe();
    };
  }).pipe(distinctUntilChanged<T>(sameRecord), takeUntil(until));
}

/**
 * Pacing of the views whose cost grows with the folder (every key of a range):
 * during a bootstrap they would otherwise re-read up to 100k keys per committed page.
 */
const SCAN_VIEW_PACING: LiveViewOptions = { minIntervalMs: 250 };

/** Creates the views of one engine; they complete when `until` emits. */
export function createViews(db: Promise<MailboxDb>, until: Observable<unknown>): MailboxViews {
  const view = <T>(read: (d: MailboxDb) => Promise<T>, options?: LiveViewOptions) => liveView(db, read, until, options);
  // Reads spanning several tables run in one read transaction, so a view never
  // mixes two commits.
  return {
    folders$: () => view((d) => listFolders(d)),
    identities$: () => view((d) => d.identities.orderBy('id').toArray()),
    messages$: (query = {}) => view((d) => d.transaction('r', [d.folderIndex, d.messages], () => queryMessages(d, query))),
    message$: (id) => view((d) => d.messages.get(id)),
    threads$: (query = {}) => view((d) => queryThreads(d, query)),
    thread$: (id) => view((d) => d.transaction('r', [d.threads, d.messages], () => getThreadWithMessages(d, id))),
    count$: (query = {}) => view((d) => d.transaction('r', [d.folderIndex, d.messages], () => countMessages(d, query)), SCAN_VIEW_PACING),
    messageIds$: (query = {}) => view((d) => d.transaction('r', [d.folderIndex, d.messages], () => queryMessageIds(d, query)), SCAN_VIEW_PACING),
    messagesById$: (ids) => {
      const wanted = [...ids];
      return view((d) => getMessagesById(d, wanted));
    },
  };
}
