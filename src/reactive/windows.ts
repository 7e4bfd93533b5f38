// Server query windows and search on a MailboxSync (issue 7), created once the
// engine's database is open and stopped with it.
import { defer, from, switchMap, takeUntil, type Observable } from 'rxjs';
import type { SyncCoreParts } from '../sync/engine.js';
import { DEFAULT_WINDOW_SORT, windowKey, type WindowFilter } from '../sync/queryWindow.js';
import { createWindowManager, type MessageWindow, type WindowManager, type WindowOptions } from '../sync/windows.js';
import type { TextSearch } from '../store/storage.js';
import { createSearchViews, type SearchOptions, type SearchState } from './search.js';

/** Window and search methods of a MailboxSync. */
export interface MailboxWindows {
  /**
   * A server-ordered window over any filter the API supports (the API's own query
   * parameters: `q`, `from`, `body`, `is_unread`, `folder_id`, …), kept fresh with
   * `messages/query-changes`, persisted and resumed after a reload. `loadMore()` grows it.
   */
  window$(filter: WindowFilter, options?: WindowOptions): MessageWindow;
  /** Local hits at once (subject, sender, preview, cached bodies), server hits merged as they arrive. */
  search$(text: string, options?: SearchOptions): Observable<SearchState>;
}

/** Options of the server windows (`window$`) of `createMailboxSync`. */
export interface WindowsOptions {
  /** Windows used within this long are refreshed when the mailbox changes (default 10 minutes). */
  windowActiveMs?: number;
}

export function attachWindows(
  engine: Pick<SyncCoreParts, 'context'>,
  options: WindowsOptions,
  stop$: Observable<unknown>,
  bodyText?: (ids: readonly string[]) => Promise<ReadonlyMap<string, string>>,
  textSearch?: TextSearch,
): { methods: MailboxWindows; manager: Promise<WindowManager> } {
  const manager = engine.context.then((ctx) =>
    createWindowManager(ctx, { until: stop$, ...(options.windowActiveMs !== undefined ? { activeForMs: options.windowActiveMs } : {}) }),
  );
  manager.catch(() => undefined);

  function window$(filter: WindowFilter, opts: WindowOptions = {}): MessageWindow {
    const key = windowKey(filter, { ...DEFAULT_WINDOW_SORT, ...opts.sort });
    const observable = defer(() => from(manager)).pipe(
      switchMap((m) => m.window$(filter, opts)),
      takeUntil(stop$),
    );
    return Object.assign(observable, {
      key,
      loadMore: async (count?: number) => (await manager).window$(filter, opts).loadMore(count),
    });
  }

  const db = engine.context.then((ctx) => ctx.db);
  db.catch(() => undefined); // a failed open is reported by start() and the views
  const search = createSearchViews({
    db,
    window$,
    until: stop$,
    ...(bodyText ? { bodyText } : {}),
    ...(textSearch ? { textSearch } : {}),
  });

  return { methods: { window$, search$: search.search$ }, manager };
}
