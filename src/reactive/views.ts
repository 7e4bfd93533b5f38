// RxJS views over the replica (issue 5 "Views"). Each view is a Dexie `liveQuery`
// wrapped as a cold Observable: subscribing runs the query, and it re-runs only when
// a write (from this engine, another engine instance or another tab) touches what
// it read. Results that did not change are not emitted again; every view completes
// when the engine stops.
import { liveQuery } from 'dexie';
import { Observable, distinctUntilChanged, takeUntil } from 'rxjs';
import type { Folder, Message, Thread } from '../api/index.js';
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

/**
 * A cold Observable of a live query. The database is awaited per subscription, so
 * views can be created before the engine has opened it.
 */
export function liveView<T>(db: Promise<MailboxDb>, read: (db: MailboxDb) => Promise<T>, until: Observable<unknown>): Observable<T> {
  return new Observable<T>((subscriber) => {
    let inner: { unsubscribe(): void } | undefined;
    let closed = false;
    db.then(
      (d) => {
        if (closed) return;
        inner = liveQuery(() => read(d)).subscribe({
          next: (value) => subscriber.next(value),
          error: (error: unknown) => subscriber.error(error),
        });
      },
      (error: unknown) => subscriber.error(error),
    );
    return () => {
      closed = true;
      inner?.unsubscribe();
    };
  }).pipe(distinctUntilChanged<T>(sameRecord), takeUntil(until));
}

/** Creates the views of one engine; they complete when `until` emits. */
export function createViews(db: Promise<MailboxDb>, until: Observable<unknown>): MailboxViews {
  const view = <T>(read: (d: MailboxDb) => Promise<T>) => liveView(db, read, until);
  // Reads spanning several tables run in one read transaction, so a view never
  // mixes two commits.
  return {
    folders$: () => view((d) => listFolders(d)),
    messages$: (query = {}) => view((d) => d.transaction('r', [d.memberships, d.messages], () => queryMessages(d, query))),
    message$: (id) => view((d) => d.messages.get(id)),
    threads$: (query = {}) => view((d) => queryThreads(d, query)),
    thread$: (id) => view((d) => d.transaction('r', [d.threads, d.messages], () => getThreadWithMessages(d, id))),
    count$: (query = {}) => view((d) => d.transaction('r', [d.memberships, d.messages], () => countMessages(d, query))),
    messageIds$: (query = {}) => view((d) => d.transaction('r', [d.memberships, d.messages], () => queryMessageIds(d, query))),
    messagesById$: (ids) => {
      const wanted = [...ids];
      return view((d) => getMessagesById(d, wanted));
    },
  };
}
