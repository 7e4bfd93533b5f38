// Bootstrap: the first full listing of a mailbox (DESIGN.md "Sync loop").
//
// 1. Record the session's state tokens before listing anything (invariant 2).
// 2. Folders, then the first page of the inbox (the default view fills at once),
//    then every message newest first, then threads, identities, quotas,
//    submissions — page by page, each page committed in its own transaction together
//    with the saved cursor, so a reload resumes where it stopped and memory does not
//    grow with the mailbox (invariant 8).
// 4. Commit the captured tokens; the catch-up that follows replays every change made
//    since step 1 (re-applying what the listing already contained is harmless).
import { SendmuxApiError, type Session } from '../api/index.js';
import { getSyncValue, putServerRecords, setSyncValue, setTokens, type StateTokens, type SyncType } from '../store/apply.js';
import type { SyncContext } from './context.js';
import { NoProgressError, PageGuard, SMALL_TYPE_COUNT, UNKNOWN_COUNT_PAGES, pageBudget } from './paging.js';
import { LIST_PATH, listPage } from './records.js';

/** Key of the bootstrap progress row in `syncState`. */
export const BOOTSTRAP_KEY = 'bootstrap';

/** Listing steps in order; 'inbox' is the first page of the inbox only, so the default view fills before the full listing. */
export const BOOTSTRAP_STEPS = ['folders', 'inbox', 'messages', 'threads', 'identities', 'quotas', 'submissions'] as const;
/** One bootstrap step. */
export type BootstrapStep = (typeof BOOTSTRAP_STEPS)[number];

/** Persisted bootstrap progress: enough to resume after a reload. */
export interface BootstrapState {
  /** Session tokens captured before the first listing call. */
  tokens: StateTokens;
  step: BootstrapStep;
  /** Cursor of the next page of `step` (undefined: first page). */
  cursor?: string;
  /** Messages listed so far (progress). */
  done: number;
  /** Messages in the mailbox when the bootstrap started (null if unknown). */
  total: number | null;
}

/** Reads the persisted bootstrap progress (undefined when none is running). */
export function readBootstrapState(ctx: SyncContext): Promise<BootstrapState | undefined> {
  return getSyncValue<BootstrapState>(ctx.db, BOOTSTRAP_KEY);
}

async function messageTotal(ctx: SyncContext): Promise<number | null> {
  try {
    return (await ctx.api.countMessages({}, { priority: 'background', signal: ctx.stopped })).data.total;
  } catch (error) {
    if (error instanceof SendmuxApiError && !error.retryable) return null;
    throw error;
  }
}

/**
 * The page guard of one step: messages and threads (a thread holds at least one
 * message) are bounded by the message total, the small types by at least
 * {@link SMALL_TYPE_COUNT}; an unknown total allows {@link UNKNOWN_COUNT_PAGES}.
 */
function stepGuard(ctx: SyncContext, type: SyncType, total: number | null, cursor: string | undefined): PageGuard {
  const limit = ctx.limits().listLimit;
  const count = type === 'messages' || type === 'threads' ? total : total === null ? null : Math.max(total, SMALL_TYPE_COUNT);
  return new PageGuard(`GET ${LIST_PATH[type]}`, count === null ? UNKNOWN_COUNT_PAGES : pageBudget(count, limit), cursor);
}

async function inboxId(ctx: SyncContext): Promise<string | undefined> {
  // Folders are listed by the step before this one.
  return (await ctx.db.folders.toArray()).find((f) => f.role === 'inbox')?.id;
}

/**
 * Runs (or resumes) a bootstrap. `onProgress` is called after each committed page of
 * messages. Resolves when the captured tokens are committed.
 */
export async function runBootstrap(
  ctx: SyncContext,
  session: Session,
  onProgress: (done: number, total: number | null) => void,
): Promise<void> {
  let state = await readBootstrapState(ctx);
  if (!state) {
    state = { tokens: { ...session.states }, step: BOOTSTRAP_STEPS[0], done: 0, total: await messageTotal(ctx) };
    await ctx.db.transaction('rw', ctx.db.syncState, () => setSyncValue(ctx.db, BOOTSTRAP_KEY, state));
  }
  onProgress(state.done, state.total);
  for (let s = BOOTSTRAP_STEPS.indexOf(state.step); s < BOOTSTRAP_STEPS.length; s++) {
    const step = BOOTSTRAP_STEPS[s] as BootstrapStep;
    const nextStep = BOOTSTRAP_STEPS[s + 1];
    let cursor = state.step === step ? state.cursor : undefined;
    const type: SyncType = step === 'inbox' ? 'messages' : step;
    // A partial replica lists no messages: its folder windows fill it (partialReplica.ts).
    if (type === 'messages' && ctx.messageScope) continue;
    const extra = step === 'inbox' ? await inboxId(ctx) : undefined;
    if (step === 'inbox' && !extra) continue;
    let guard = stepGuard(ctx, type, state.total, cursor);
    let restarted = false;
    const filter = extra ? { folder_id: extra } : {};
    // The next page is requested while this one is written (fetch n+1 overlaps write
    // n), so a bootstrap costs about the larger of listing and writing, not their sum.
    // At most one page is held ahead (invariant 8).
    let ahead: { cursor: string; page: ReturnType<typeof listPage> } | undefined;
    for (;;) {
      ctx.stopped.throwIfAborted();
      let page;
      try {
        const pending = ahead !== undefined && ahead.cursor === cursor ? ahead.page : listPage(ctx, type, cursor, filter);
        ahead = undefined;
        page = await pending;
      } catch (error) {
        // A saved cursor can expire across a reload; restart this step's listing
        // (pages already stored are simply written again).
        if (cursor && error instanceof SendmuxApiError && error.status === 400) {
          cursor = undefined;
          continue;
        }
        throw error;
      }
      if (page.next !== undefined && step !== 'inbox') {
        try {
          guard.more(page.next);
        } catch (error) {
          // Issue 19: a cursor that repeats (or never ends) would list forever. Report
          // it and list this step once more from its first page; a second loop fails
          // the bootstrap (nothing of the looping page is written).
          if (!(error instanceof NoProgressError) || restarted) throw error;
          ctx.reportError(error);
          restarted = true;
          cursor = undefined;
          guard = stepGuard(ctx, type, state.total, undefined);
          if (step === 'messages') state = { ...state, done: 0 };
          continue;
        }
      }
      const done = step === 'messages' ? state.done + page.records.length : state.done;
      const finished = page.next === undefined || step === 'inbox';
      const next: BootstrapState = finished
        ? { tokens: state.tokens, step: nextStep ?? step, done, total: state.total }
        : { tokens: state.tokens, step, cursor: page.next, done, total: state.total };
      const records = page.records;
      if (!finished && page.next !== undefined) {
        const nextPage = listPage(ctx, type, page.next, filter);
        nextPage.catch(() => undefined); // awaited (and its failure handled) by the next turn
        ahead = { cursor: page.next, page: nextPage };
      }
      await ctx.db.transaction('rw', ctx.db.serverTables, async () => {
        await putServerRecords(ctx.db, type, records);
        await setSyncValue(ctx.db, BOOTSTRAP_KEY, next);
      });
      state = next;
      if (step === 'messages') onProgress(state.done, state.total);
      if (finished) break;
      cursor = page.next;
    }
  }
  const tokens = state.tokens;
  await ctx.db.transaction('rw', ctx.db.serverTables, async () => {
    await setTokens(ctx.db, tokens);
    await setSyncValue(ctx.db, BOOTSTRAP_KEY, undefined);
  });
}
