// RxJS views over the replica (issue 5 "Views"). Each view is a read on the store's change feed (`live`)
// wrapped as a cold Observable: subscribing runs the query, and it re-runs only when
// a write (from this engine, another engine instance or another tab) touches what
// it read. Results that did not change are not emitted again; every view completes
// when the engine stops.
import { live } from '../store/live.js';
import { Observable, combineLatest, distinctUntilChanged, from, isObservable, of, switchMap, takeUntil, tap, map } from 'rxjs';
import type { Folder, Identity, Message, Thread } from '../api/index.js';
import type { MailboxDb } from '../store/db.js';
import { PendingEffects } from '../store/effects.js';
import { sameRecord } from '../store/overlay.js';
import { overlayFolder, overlayThread } from '../store/pending.js';
import {
  countMessages,
  getMessagesById,
  getThreadWithMessages,
  listFolders,
  messageMatches,
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

/** Effects of an engine without mutations (none is ever added). */
const NO_EFFECTS = new PendingEffects();

/** A view's read result, stamped with the effects' version when the read started. */
interface Stamped<T> {
  value: T;
  at: number;
}

/** A result read together with the records of the messages that had effects then. */
interface WithBases<T> {
  value: T;
  /** id → the record as read in the same transaction (undefined: absent). */
  bases: Map<string, Message | undefined>;
}

/** Records read at `at` with the effects that apply to them; the same array when no record changes. */
function applyAll(effects: PendingEffects, records: readonly Message[], at: number): readonly Message[];
function applyAll(effects: PendingEffects, records: readonly (Message | undefined)[], at: number): readonly (Message | undefined)[];
function applyAll(effects: PendingEffects, records: readonly (Message | undefined)[], at: number): readonly (Message | undefined)[] {
  if (effects.emptyFor(at)) return records;
  let changed = false;
  const out = records.map((m) => {
    const applied = effects.apply(m, at);
    if (applied !== m) changed = true;
    return applied;
  });
  return changed ? out : records;
}

/**
 * Creates the views of one engine; they complete when `until` emits. With `effects`,
 * every view shows this engine's pending update() calls on what it last read, in the
 * same task as the call (src/store/effects.ts): records, lists (a record that no
 * longer matches leaves; one that comes to match joins at the commit's re-read),
 * counts, folder and thread counters. `threads$` and remove() show at the commit.
 */
export function createViews(db: Promise<MailboxDb>, until: Observable<unknown>, effects?: PendingEffects): MailboxViews {
  const fx = effects ?? NO_EFFECTS;
  /** A live read, stamped with the effects' version when it started. */
  const view = <T>(read: (d: MailboxDb) => Promise<T>, options?: LiveViewOptions) =>
    liveView(
      db,
      // No native await here: the read's own (Dexie) promise carries the live query's zone.
      (d): Promise<Stamped<T>> => {
        const at = fx.version;
        return read(d).then((value) => ({ value, at }));
      },
      until,
      options,
    );
  /** Notes the records of each result a view read (PendingEffects.remember). */
  const remembered = <R>(source: Observable<Stamped<R>>, records: (value: R) => Iterable<Message | undefined>): Observable<Stamped<R>> =>
    effects ? source.pipe(tap((read) => fx.remember(records(read.value)))) : source;
  /** A view whose read result is shown through the effects (`show` re-runs on every change of them). */
  const shown = <R, T>(source: Observable<Stamped<R>>, show: (value: R, at: number) => T | Observable<T>): Observable<T> =>
    combineLatest([source, fx.changes$]).pipe(
      switchMap(([read]) => {
        const out = show(read.value, read.at);
        return isObservable(out) ? out : of(out);
      }),
      distinctUntilChanged<T>(sameRecord),
      takeUntil(until),
    );
  /** A view without effects to show. */
  const plain = <T>(source: Observable<Stamped<T>>): Observable<T> =>
    source.pipe(
      map((read) => read.value),
      distinctUntilChanged<T>(sameRecord),
    );
  /** Reads `read` and, in the same transaction, the records of the ids with effects. */
  const withBases =
    <T>(tables: readonly string[], read: (d: MailboxDb) => Promise<T>) =>
    (d: MailboxDb): Promise<WithBases<T>> =>
      d.transaction('r', [...tables], async () => {
        const ids = [...fx.ids(fx.version)];
        const value = await read(d);
        const records = ids.length > 0 ? await d.messages.bulkGet(ids) : [];
        return { value, bases: new Map(ids.map((id, i) => [id, records[i]])) };
      });
  /**
   * `show` over a result and the records of every id with an effect: those read with
   * it; for an effect added since, the record another view showed, else one read now
   * (which may be newer than the result until its own re-read).
   */
  const withRecords = <R, T>(read: WithBases<R>, at: number, show: (value: R, bases: ReadonlyMap<string, Message | undefined>) => T): T | Observable<T> => {
    const missing = [...fx.ids(at)].filter((id) => !read.bases.has(id));
    if (missing.length === 0) return show(read.value, read.bases);
    const bases = new Map(read.bases);
    for (const id of missing) {
      const known = fx.remembered(id);
      if (known) bases.set(id, known);
    }
    const unknown = missing.filter((id) => !bases.has(id));
    if (unknown.length === 0) return show(read.value, bases);
    return from(
      db.then(async (d) => {
        const records = await d.messages.bulkGet(unknown);
        unknown.forEach((id, i) => bases.set(id, records[i]));
        return show(read.value, bases);
      }),
    );
  };
  // Reads spanning several tables run in one read transaction, so a view never
  // mixes two commits.
  return {
    folders$: () =>
      shown(view(withBases(['folders', 'syncState', 'messages'], (d) => listFolders(d))), (read, at) =>
        withRecords(read, at, (folders, bases) => {
          const delta = fx.delta(bases.values(), at);
          return delta.folders.size === 0 ? folders : folders.map((f) => overlayFolder(f, delta));
        }),
      ),
    identities$: () => plain(view((d) => d.identities.orderBy('id').toArray())),
    messages$: (query = {}) =>
      shown(
        remembered(
          view((d) => d.transaction('r', [d.folderIndex, d.messages], () => queryMessages(d, query))),
          (r) => r,
        ),
        (records, at) => {
          const applied = applyAll(fx, records, at);
          return applied === records ? records : applied.filter((m) => messageMatches(query, m));
        },
      ),
    message$: (id) =>
      shown(
        remembered(view((d) => d.messages.get(id)), (m) => [m]),
        (m, at) => fx.apply(m, at),
      ),
    threads$: (query = {}) => plain(view((d) => queryThreads(d, query))),
    thread$: (id) =>
      shown(
        remembered(
          view((d) => d.transaction('r', [d.threads, d.messages], () => getThreadWithMessages(d, id))),
          (r) => r?.messages ?? [],
        ),
        (read, at) => {
          if (!read) return read;
          const messages = applyAll(fx, read.messages, at);
          if (messages === read.messages) return read;
          const visible = new Map(messages.map((m) => [m.id, m]));
          return { thread: overlayThread(read.thread, fx.delta(read.messages, at), visible), messages: [...messages] };
        },
      ),
    count$: (query = {}) =>
      shown(view(withBases(['folderIndex', 'messages'], (d) => countMessages(d, query)), SCAN_VIEW_PACING), (read, at) =>
        withRecords(read, at, (count, bases) => {
          let n = count;
          for (const m of bases.values()) {
            if (m) n += Number(messageMatches(query, fx.apply(m, at))) - Number(messageMatches(query, m));
          }
          return n;
        }),
      ),
    messageIds$: (query = {}) =>
      shown(view(withBases(['folderIndex', 'messages'], (d) => queryMessageIds(d, query)), SCAN_VIEW_PACING), (read, at) =>
        withRecords(read, at, (ids, bases) => {
          // An id whose record stops matching leaves; one that starts to match joins at the re-read.
          const leaving = new Set([...bases].filter(([, m]) => m && messageMatches(query, m) && !messageMatches(query, fx.apply(m, at))).map(([id]) => id));
          return leaving.size === 0 ? ids : ids.filter((id) => !leaving.has(id));
        }),
      ),
    messagesById$: (ids) => {
      const wanted = [...ids];
      return shown(
        remembered(view((d) => getMessagesById(d, wanted)), (r) => r),
        (records, at) => [...applyAll(fx, records, at)],
      );
    },
  };
}
