// The server's folder-list order, kept with `folders/query-changes` (issue 7).
//
// The replica's folder records say nothing about how the server orders the folder
// list (its rules for ties, case, roles are its own), so the leader keeps the ordered
// ids beside the query state in `syncState`, and `folders$()` follows them. The same
// RFC 8620 §5.6 delta as message windows applies.
import { live } from '../store/live.js';
import { SendmuxApiError } from '../api/index.js';
import { getSyncValue, setSyncValue } from '../store/apply.js';
import { FOLDER_ORDER_KEY } from '../store/queries.js';
import type { SyncContext } from './context.js';
import { SyncError } from './errors.js';
import { NoProgressError, PageGuard, SMALL_TYPE_COUNT, pageBudget } from './paging.js';
import { applyQueryChanges } from './queryWindow.js';

/** The server's folder-list order and the query state it corresponds to. */
export interface FolderOrder {
  state: string;
  ids: string[];
}

async function load(ctx: SyncContext): Promise<FolderOrder> {
  // Get state, then read (invariant 2): a change racing the listing is re-applied harmlessly.
  const qs = await ctx.api.queryFolderChanges({}, { priority: 'background', signal: ctx.stopped });
  const ids: string[] = [];
  for await (const page of ctx.api.pages('listFolders', { limit: ctx.limits().listLimit }, { priority: 'background', signal: ctx.stopped })) {
    ids.push(...page.data.map((f) => f.id));
  }
  return { state: qs.data.new_query_state, ids };
}

async function refresh(ctx: SyncContext, current: FolderOrder): Promise<FolderOrder> {
  let { state, ids } = current;
  const guard = new PageGuard('/mailbox/folders/query-changes', pageBudget(Math.max(ids.length, SMALL_TYPE_COUNT), ctx.limits().listLimit), state);
  for (;;) {
    let answer;
    try {
      answer = await ctx.api.queryFolderChanges({ since_query_state: state }, { priority: 'background', signal: ctx.stopped });
    } catch (error) {
      // An unknown or expired query state: list again.
      if (error instanceof SendmuxApiError && error.status === 400) return load(ctx);
      throw error;
    }
    ids = applyQueryChanges(ids, answer.data);
    state = answer.data.new_query_state;
    if (!answer.data.has_more) return { state, ids };
    try {
      guard.more(state);
    } catch (error) {
      // Endless has_more (issue 19): report it and list the folders afresh.
      if (!(error instanceof NoProgressError)) throw error;
      ctx.reportError(error);
      return load(ctx);
    }
  }
}

/**
 * Keeps the folder order fresh while this engine leads: once at start and whenever
 * the replica's folder state moves. Returns a stop function.
 */
export function startFolderOrder(ctx: SyncContext): () => void {
  let running: Promise<void> | undefined;
  let again = false;

  const run = (): void => {
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        if (!ctx.isLeader() || ctx.stopped.aborted) return;
        const current = await getSyncValue<FolderOrder>(ctx.db, FOLDER_ORDER_KEY);
        const next = current ? await refresh(ctx, current) : await load(ctx);
        if (current && next.state === current.state && next.ids.join('\u0000') === current.ids.join('\u0000')) continue;
        await ctx.db.transaction('rw', ctx.db.syncState, () => setSyncValue(ctx.db, FOLDER_ORDER_KEY, next));
      } while (again);
    })()
      .catch((error: unknown) => {
        if (!ctx.stopped.aborted) ctx.reportError(new SyncError('changes_failed', `Keeping the folder order failed: ${(error as Error).message}`, { cause: error }));
      })
      .finally(() => {
        running = undefined;
      });
  };

  let token: { unsubscribe(): void } | undefined;
  const leadership = ctx.leader$.subscribe((leading) => {
    token?.unsubscribe();
    token = undefined;
    if (!leading) return;
    token = live(() => ctx.db.syncState.get('state:folders')).subscribe({
      next: () => run(),
      error: (e: unknown) => ctx.reportError(new SyncError('storage_failed', 'Watching the folder state failed', { cause: e })),
    });
  });
  return () => {
    leadership.unsubscribe();
    token?.unsubscribe();
  };
}
