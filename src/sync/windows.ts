// Server query windows (issue 7): a server-ordered list of message ids for a filter
// the replica cannot answer itself (full text, body/header search, a partial
// replica), kept fresh with `messages/query-changes` and backed by records in the
// replica.
//
// Every window is a row of the `windows` table. Views in any tab read rows and
// records through the store's change feed and write only `size`/`used_at`; the leader alone talks to
// the server (DESIGN.md invariant 7): it loads new rows, grows rows whose `size`
// went up (loadMore), and refreshes recently used rows whenever the replica's
// message state moves (SSE, poll and local mutations all move it), coalesced per
// window.
import { live } from '../store/live.js';
import { Observable, distinctUntilChanged, takeUntil } from 'rxjs';
import { SendmuxApiError, type Message, type MethodInput } from '../api/index.js';
import type { WindowRow } from '../store/db.js';
import { putServerMessages, sameRecord } from '../store/overlay.js';
import type { SyncContext } from './context.js';
import { SyncError } from './errors.js';
import {
  DEFAULT_WINDOW_SORT,
  applyQueryChanges,
  localPredicate,
  normaliseFilter,
  windowKey,
  type WindowFilter,
  type WindowSort,
} from './queryWindow.js';
import { NoProgressError, PageGuard, SMALL_TYPE_COUNT, pageBudget } from './paging.js';
import { fetchChanged } from './records.js';
import { checkPage } from './recordChecks.js';

/** What a window emits. */
export interface WindowState {
  /** Ids shown, in server order (ids whose visible record left the filter are hidden). */
  ids: string[];
  /** The records of `ids`, same order. */
  records: Message[];
  /** Server total of the filter (null until known). */
  total: number | null;
  /** True when the server has more rows beyond the window (`loadMore()` fetches them). */
  has_more: boolean;
  /** The query state the window corresponds to (null while loading). */
  state: string | null;
  /** 'loading' until the first server answer has been stored. */
  status: 'loading' | 'ready';
}

/** Options of `window$`. */
export interface WindowOptions {
  /** Sort; default received_at desc. */
  sort?: Partial<WindowSort>;
  /** Rows to hold initially (default 50; grows with loadMore). */
  size?: number;
}

/** A window: an Observable of its state plus the commands that act on it. */
export type MessageWindow = Observable<WindowState> & {
  /** The persistent key of this window. */
  readonly key: string;
  /** Grows the window by `count` rows (default: its initial size); resolves when they are held. */
  loadMore(count?: number): Promise<void>;
};

export interface WindowManagerOptions {
  /** Windows used within this long are refreshed when the replica's message state moves. Default 10 minutes. */
  activeForMs?: number;
  /** Completes every window observable when it emits (engine stop). */
  until: Observable<unknown>;
}

export interface WindowManager {
  window$(filter: WindowFilter, options?: WindowOptions): MessageWindow;
  /** Leader: refreshes every recently used window now (coalesced per window); resolves when done. */
  refreshAll(): Promise<void>;
}

const DEFAULT_SIZE = 50;
const QUERY_CHANGES_LIMIT = 500;
const USER = { priority: 'user' as const };

type Row = WindowRow;
type ListParams = Omit<MethodInput<'listMessages'>, 'cursor' | 'limit'>;

function paramsOf(row: Row): ListParams {
  return { ...row.filter, sort_by: row.sort.by, sort_direction: row.sort.direction } as ListParams;
}

function isExpiredQueryState(error: unknown): boolean {
  // docs/sync.md + RFC 8620 §5.6: an unknown or expired query state answers 400
  // (cannotCalculateChanges); the client must re-run the query.
  return error instanceof SendmuxApiError && error.status === 400;
}

/**
 * Creates the query windows of one engine. The manager follows `ctx.leader$`: while
 * this engine leads it loads and refreshes windows; otherwise its views only read.
 */
export function createWindowManager(ctx: SyncContext, options: WindowManagerOptions): WindowManager {
  const { db, clock } = ctx;
  const activeForMs = options.activeForMs ?? 10 * 60_000;
  const running = new Map<string, Promise<void>>();
  const dirty = new Set<string>();
  const handledUse = new Map<string, number>();
  let leaderSubs: Array<{ unsubscribe(): void }> = [];

  // ---- the leader's work ---------------------------------------------------------

  /** Writes fetched records the replica lacks, and the row, in one transaction. */
  async function commit(row: Row, records: readonly Message[]): Promise<void> {
    await db.transaction('rw', [...db.overlayTables, db.windows], async () => {
      const current = await db.windows.get(row.key);
      if (records.length > 0) {
        // The replica keeps the versions the changes loop gives it; a window only
        // adds the ones it lacks (harmless to re-apply later: invariant 2).
        const have = await db.messages.bulkGet(records.map((r) => r.id));
        const missing = records.filter((_, i) => have[i] === undefined);
        if (missing.length > 0) await putServerMessages(db, missing);
      }
      // size and used_at belong to the views: keep theirs.
      await db.windows.put({ ...row, size: current?.size ?? row.size, used_at: current?.used_at ?? row.used_at });
    });
  }

  /** Lists the first `size` rows afresh: query state first, then the listing (invariant 2). */
  async function load(row: Row): Promise<void> {
    const params = paramsOf(row);
    const qs = await ctx.api.queryMessageChanges({ ...params, calculate_total: true }, { ...USER, signal: ctx.stopped });
    const ids: string[] = [];
    const records: Message[] = [];
    let cursor: string | undefined;
    let hasMore: boolean;
    // Issue 19: a cursor that repeats (or pages that never fill the window) stops.
    const guard = new PageGuard('GET /mailbox/messages (window)', pageBudget(row.size, ctx.limits().listLimit));
    do {
      const limit = Math.min(ctx.limits().listLimit, row.size - ids.length);
      const page = await ctx.api.listMessages({ ...params, limit, ...(cursor ? { cursor } : {}) }, { ...USER, signal: ctx.stopped });
      for (const m of checkPage('messages', page.data, 'GET /mailbox/messages')) {
        if (ids.length < row.size && !ids.includes(m.id)) {
          ids.push(m.id);
          records.push(m);
        }
      }
      hasMore = page.pagination?.has_more ?? false;
      cursor = page.pagination?.next_cursor;
      if (hasMore && cursor && ids.length < row.size) guard.more(cursor);
    } while (hasMore && cursor && ids.length < row.size);
    await commit(
      { ...row, ids, query_state: qs.data.new_query_state, total: qs.data.total ?? null, has_more: hasMore, updated_at: clock.now() },
      records,
    );
  }

  /** Applies query-changes since the row's state; re-lists when the state expired or the window must refill. */
  async function refresh(row: Row): Promise<void> {
    const params = paramsOf(row);
    let ids = row.ids;
    let state = row.query_state as string;
    let total = row.total;
    const guard = new PageGuard(
      '/mailbox/messages/query-changes',
      pageBudget(Math.max(total ?? 0, ids.length, SMALL_TYPE_COUNT), QUERY_CHANGES_LIMIT),
      state,
    );
    for (;;) {
      let answer;
      try {
        // RFC 8620 §5.6 upToId: a partial window only cares about changes up to its
        // last id. A window holding the whole result must hear of rows added at the end.
        const upTo = row.has_more ? ids.at(-1) : undefined;
        answer = await ctx.api.queryMessageChanges(
          { ...params, since_query_state: state, calculate_total: true, limit: QUERY_CHANGES_LIMIT, ...(upTo ? { up_to_id: upTo } : {}) },
          { ...USER, signal: ctx.stopped },
        );
      } catch (error) {
        if (isExpiredQueryState(error)) return load(row);
        throw error;
      }
      ids = applyQueryChanges(ids, answer.data);
      state = answer.data.new_query_state;
      total = answer.data.total ?? total;
      if (!answer.data.has_more) break;
      try {
        guard.more(state);
      } catch (error) {
        // Endless has_more (issue 19): report it and list the window afresh.
        if (!(error instanceof NoProgressError)) throw error;
        ctx.reportError(error);
        return load(row);
      }
    }
    let hasMore = total !== null ? total > ids.length : row.has_more;
    if (ids.length > row.size) {
      ids = ids.slice(0, row.size);
      hasMore = true;
    } else if (ids.length < row.size && hasMore) {
      // Rows left the window and the server has more behind it: the API has no
      // "list after id", so refill by listing the window again.
      return load(row);
    }
    const have = await db.messages.bulkGet(ids);
    const lacking = ids.filter((_, i) => have[i] === undefined);
    const fetched = lacking.length > 0 ? await fetchChanged(ctx, 'messages', lacking, 0) : { records: [] as Message[], missing: [] };
    await commit({ ...row, ids, query_state: state, total, has_more: hasMore, updated_at: clock.now() }, fetched.records);
  }

  async function work(key: string): Promise<void> {
    const row = await db.windows.get(key);
    if (!row) return;
    if (row.query_state === null || (row.ids.length < row.size && row.has_more)) return load(row);
    return refresh(row);
  }

  /** Runs `work(key)` now, or once more after the run in flight (coalescing). */
  function schedule(key: string): Promise<void> {
    const inFlight = running.get(key);
    if (inFlight) {
      dirty.add(key);
      return inFlight;
    }
    const run = (async () => {
      try {
        do {
          dirty.delete(key);
          if (!ctx.isLeader() || ctx.stopped.aborted) return;
          await work(key);
        } while (dirty.has(key));
      } catch (error) {
        if (ctx.stopped.aborted) return;
        ctx.reportError(
          error instanceof SyncError ? error : new SyncError('window_failed', `Refreshing a query window failed: ${(error as Error).message}`, { cause: error }),
        );
      } finally {
        running.delete(key);
      }
    })();
    running.set(key, run);
    return run;
  }

  async function refreshAll(): Promise<void> {
    const since = clock.now() - activeForMs;
    const keys = (await db.windows.where('used_at').aboveOrEqual(since).primaryKeys()) as string[];
    await Promise.all(keys.map((k) => schedule(k)));
  }

  function startLeader(): void {
    if (leaderSubs.length > 0) return;
    // New rows, grown rows and freshly used rows: the views' requests, from any tab.
    const rows = live(() => db.windows.toArray()).subscribe({
      next: (all) => {
        for (const row of all) {
          const wantsLoad = row.query_state === null || (row.ids.length < row.size && row.has_more);
          const newlyUsed = (handledUse.get(row.key) ?? -1) < row.used_at;
          if (wantsLoad || newlyUsed) {
            handledUse.set(row.key, row.used_at);
            void schedule(row.key);
          }
        }
      },
      error: (error: unknown) => ctx.reportError(new SyncError('window_failed', 'Watching query windows failed', { cause: error })),
    });
    // The replica's message state moved (changes pull, SSE confirmation, a local
    // mutation's fast-forward): refresh the windows in use.
    let lastToken: unknown;
    const token = live(() => db.syncState.get('state:messages')).subscribe({
      next: (row) => {
        const value = row?.value;
        if (lastToken !== undefined && value !== lastToken) void refreshAll();
        lastToken = value ?? null;
      },
      error: (error: unknown) => ctx.reportError(new SyncError('window_failed', 'Watching the message state failed', { cause: error })),
    });
    leaderSubs = [rows, token];
  }

  function stopLeader(): void {
    for (const s of leaderSubs) s.unsubscribe();
    leaderSubs = [];
  }

  // ---- the views (any tab) -------------------------------------------------------

  function window$(filter: WindowFilter, opts: WindowOptions = {}): MessageWindow {
    const sort: WindowSort = { ...DEFAULT_WINDOW_SORT, ...opts.sort };
    const key = windowKey(filter, sort);
    const initialSize = Math.max(1, Math.floor(opts.size ?? DEFAULT_SIZE));
    const matches = localPredicate(filter);

    const touch = () =>
      db.transaction('rw', db.windows, async () => {
        const row = await db.windows.get(key);
        const now = clock.now();
        if (row) {
          await db.windows.update(key, { used_at: now, size: Math.max(row.size, initialSize) });
        } else {
          await db.windows.put({
            key, filter: normaliseFilter(filter), sort, ids: [], size: initialSize, query_state: null,
            total: null, has_more: false, used_at: now, updated_at: now,
          });
        }
      });

    const read = async (): Promise<WindowState> => {
      return db.transaction('r', [db.windows, db.messages], async () => {
        const row = await db.windows.get(key);
        if (!row) return { ids: [], records: [], total: null, has_more: false, state: null, status: 'loading' as const };
        const found = await db.messages.bulkGet(row.ids);
        const records = found.filter((m): m is Message => m !== undefined && matches(m));
        return {
          ids: records.map((m) => m.id),
          records,
          total: row.total,
          has_more: row.has_more,
          state: row.query_state,
          status: row.query_state === null ? ('loading' as const) : ('ready' as const),
        };
      });
    };

    const observable = new Observable<WindowState>((subscriber) => {
      let inner: { unsubscribe(): void } | undefined;
      let keepAlive: unknown;
      let closed = false;
      const keepUsed = () => {
        keepAlive = clock.setTimeout(() => {
          if (closed) return;
          touch().catch(() => undefined);
          keepUsed();
        }, activeForMs / 2);
      };
      touch().then(
        () => {
          if (closed) return;
          inner = live(read).subscribe({
            next: (v) => subscriber.next(v),
            error: (e: unknown) => subscriber.error(e),
          });
          keepUsed();
        },
        (error: unknown) => subscriber.error(error),
      );
      return () => {
        closed = true;
        clock.clearTimeout(keepAlive);
        inner?.unsubscribe();
      };
    }).pipe(distinctUntilChanged<WindowState>(sameRecord), takeUntil(options.until));

    const loadMore = async (count = initialSize): Promise<void> => {
      await touch();
      const target = await db.transaction('rw', db.windows, async () => {
        const row = await db.windows.get(key);
        const size = (row?.size ?? initialSize) + count;
        await db.windows.update(key, { size, used_at: clock.now() });
        return size;
      });
      // Resolve when the leader has grown the row (or the server has no more rows).
      await new Promise<void>((resolve, reject) => {
        const sub = live(() => db.windows.get(key)).subscribe({
          next: (row) => {
            if (!row || row.ids.length >= target || (!row.has_more && row.size >= target && row.query_state !== null && !running.has(key))) {
              sub.unsubscribe();
              resolve();
            }
          },
          error: (e: unknown) => reject(e),
        });
        ctx.stopped.addEventListener('abort', () => {
          sub.unsubscribe();
          resolve();
        }, { once: true });
      });
    };

    return Object.assign(observable, { key, loadMore });
  }

  // The leader's loop runs exactly while this engine leads, and ends with the engine.
  const leadership = ctx.leader$.subscribe((leading) => (leading ? startLeader() : stopLeader()));
  const ended = options.until.subscribe(() => {
    leadership.unsubscribe();
    stopLeader();
    ended.unsubscribe();
  });

  return { window$, refreshAll };
}
