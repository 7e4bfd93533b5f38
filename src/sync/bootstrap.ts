// Bootstrap: the first full listing of a mailbox (DESIGN.md "Sync loop").
//
// 1. Record the session's state tokens before listing anything (invariant 2).
// 2. Folders, then the first page of the inbox (the default view fills at once),
//    then every message newest first, then threads, identities, quotas,
//    submissions — page by page: pages are requested ahead of the writer (at most
//    PAGES_AHEAD answered ones wait), and each commit writes the pages that waited
//    (at most PAGES_PER_COMMIT) together with the cursor after them, so a reload
//    resumes where it stopped and memory does not grow with the mailbox (invariant 8).
// 4. Commit the captured tokens; the catch-up that follows replays every change made
//    since step 1 (re-applying what the listing already contained is harmless).
import { SendmuxApiError, type Session } from '../api/index.js';
import { getSyncValue, putServerRecords, setSyncValue, setTokens, type StateTokens, type SyncType } from '../store/apply.js';
import type { SyncContext } from './context.js';
import { NoProgressError, PageGuard, SMALL_TYPE_COUNT, UNKNOWN_COUNT_PAGES, pageBudget } from './paging.js';
import { LIST_PATH, listPage, type ListPage } from './records.js';

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

/** Answered pages a step's reader holds ahead of the writer (invariant 8: a bound, not the mailbox). */
export const PAGES_AHEAD = 4;

/** One answered listing request: its page, or why it failed. */
type Answer<T extends SyncType> = { cursor: string | undefined } & ({ page: ListPage<T> } | { error: unknown });

/**
 * Lists one step's pages ahead of the writer: each request goes out as soon as the
 * page before it has answered, while earlier pages are still being written, so a
 * bootstrap costs about the larger of listing and writing, not their sum. At most
 * {@link PAGES_AHEAD} answered pages wait; a failed request, or a next cursor that
 * was requested before, ends the reading.
 */
class PageReader<T extends SyncType> {
  private readonly answered: Answer<T>[] = [];
  /** Cursors requested: a server answering one again is looping (the writer's guard reports it). */
  private readonly requested = new Set<string | undefined>();
  private reading = false;
  private ended = false;
  private cancelled = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly list: (cursor: string | undefined) => Promise<ListPage<T>>,
    private cursor: string | undefined,
    /** Only the first page is wanted (the inbox step). */
    private readonly onePage: boolean,
  ) {
    this.read();
  }

  private read(): void {
    if (this.reading || this.ended || this.cancelled || this.answered.length >= PAGES_AHEAD) return;
    this.reading = true;
    const cursor = this.cursor;
    this.requested.add(cursor);
    const settle = (answer: Answer<T>, more: string | undefined) => {
      this.reading = false;
      if (this.cancelled) return;
      this.answered.push(answer);
      if (more === undefined || this.onePage || this.requested.has(more)) this.ended = true;
      else this.cursor = more;
      this.wake?.();
      this.read();
    };
    this.list(cursor).then(
      (page) => settle({ cursor, page }, page.next),
      (error: unknown) => settle({ cursor, error }, undefined),
    );
  }

  /** The next answered page, waiting for it; then any others already answered, up to `max` in all. */
  async take(max: number): Promise<Answer<T>[]> {
    while (this.answered.length === 0) await new Promise<void>((resolve) => (this.wake = resolve));
    this.wake = undefined;
    const taken = this.answered.splice(0, max);
    this.read();
    return taken;
  }

  /** Stops reading; an answer still on its way is dropped. */
  cancel(): void {
    this.cancelled = true;
    this.wake = undefined;
  }
}

/** Pages written together in one transaction when the reader is ahead of the writer. */
export const PAGES_PER_COMMIT = 4;

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
    const type: SyncType = step === 'inbox' ? 'messages' : step;
    // A partial replica lists no messages: its folder windows fill it (partialReplica.ts).
    if (type === 'messages' && ctx.messageScope) continue;
    const extra = step === 'inbox' ? await inboxId(ctx) : undefined;
    if (step === 'inbox' && !extra) continue;
    state = await listStep(ctx, state, step, type, extra ? { folder_id: extra } : {}, BOOTSTRAP_STEPS[s + 1], onProgress);
  }
  const tokens = state.tokens;
  await ctx.db.transaction('rw', ctx.db.serverTables, async () => {
    await setTokens(ctx.db, tokens);
    await setSyncValue(ctx.db, BOOTSTRAP_KEY, undefined);
  });
}

/**
 * Lists one step to its end, each batch of answered pages committed in one
 * transaction together with the cursor to resume from. Returns the state after it.
 */
async function listStep(
  ctx: SyncContext,
  start: BootstrapState,
  step: BootstrapStep,
  type: SyncType,
  filter: { folder_id?: string },
  nextStep: BootstrapStep | undefined,
  onProgress: (done: number, total: number | null) => void,
): Promise<BootstrapState> {
  let state = start;
  const from = state.step === step ? state.cursor : undefined;
  let guard = stepGuard(ctx, type, state.total, from);
  let restarted = false;
  const readFrom = (cursor: string | undefined) => new PageReader((c) => listPage(ctx, type, c, filter), cursor, step === 'inbox');
  let reader = readFrom(from);
  /** Lists the step again from its first page. */
  const restart = () => {
    reader.cancel();
    reader = readFrom(undefined);
  };
  try {
    for (;;) {
      ctx.stopped.throwIfAborted();
      const answers = await reader.take(PAGES_PER_COMMIT);
      const records: ListPage<SyncType>['records'][number][] = [];
      let next = state;
      let finished = false;
      /** What to do after the pages before it are written. */
      let then: (() => void) | undefined;
      for (const answer of answers) {
        if ('error' in answer) {
          const error = answer.error;
          // A saved cursor can expire across a reload; restart this step's listing
          // (pages already stored are simply written again).
          if (answer.cursor && error instanceof SendmuxApiError && error.status === 400) then = () => restart();
          else then = () => { throw error; };
          break;
        }
        const page = answer.page;
        if (page.next !== undefined && step !== 'inbox') {
          try {
            guard.more(page.next);
          } catch (error) {
            // Issue 19: a cursor that repeats (or never ends) would list forever. Report
            // it and list this step once more from its first page; a second loop fails
            // the bootstrap (nothing of the looping page is written).
            if (!(error instanceof NoProgressError) || restarted) {
              then = () => { throw error; };
              break;
            }
            then = () => {
              ctx.reportError(error);
              restarted = true;
              guard = stepGuard(ctx, type, start.total, undefined);
              if (step === 'messages') state = { ...state, done: 0 };
              restart();
            };
            break;
          }
        }
        records.push(...page.records);
        const done = step === 'messages' ? next.done + page.records.length : next.done;
        finished = page.next === undefined || step === 'inbox';
        next = finished
          ? { tokens: next.tokens, step: nextStep ?? step, done, total: next.total }
          : { tokens: next.tokens, step, cursor: page.next, done, total: next.total };
        if (finished) break;
      }
      if (next !== state) {
        const written = next;
        await ctx.db.transaction('rw', ctx.db.serverTables, async () => {
          await putServerRecords(ctx.db, type, records);
          await setSyncValue(ctx.db, BOOTSTRAP_KEY, written);
        });
        state = written;
        if (step === 'messages') onProgress(state.done, state.total);
      }
      if (then) then();
      else if (finished) return state;
    }
  } finally {
    reader.cancel();
  }
}
