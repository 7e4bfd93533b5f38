// Paging loops stop (DESIGN.md invariant 9: "endless has_more" never loops without
// bound; issue 19, point 1). Every loop that follows a server's `has_more` — a
// listing's `next_cursor`, a `/mailbox/changes` type's `new_state` — keeps a guard:
// the same cursor or token twice, a `has_more` page that carries nothing, or more
// pages than the mailbox's counts allow is a lack of progress. The guard throws a
// {@link NoProgressError} (a `protocol_error`); the loop reports it and falls back
// once (a re-list for changes, a fresh listing for a cursor), then gives up.
import { SyncError } from './errors.js';

/** A paging loop made no progress (code `protocol_error`). Loops catch it to fall back. */
export class NoProgressError extends SyncError {
  constructor(message: string) {
    super('protocol_error', message);
  }
}

/**
 * Pages a listing or a changes pull may take for `count` records, `limit` a page:
 * twice the pages the count needs (records created while paging) plus a margin, so a
 * legitimate loop never reaches it and a hostile one stops after a few dozen calls.
 */
export function pageBudget(count: number, limit: number): number {
  return 2 * Math.ceil(Math.max(0, count) / Math.max(1, limit)) + 10;
}

/** Types with no count of their own are bounded as if they held this many records. */
export const SMALL_TYPE_COUNT = 1_000;

/** Pages allowed when the server's counts are unknown (a million records at 100 a page). */
export const UNKNOWN_COUNT_PAGES = 10_000;

/** Follows one paging loop; `where` names it in errors (e.g. `GET /mailbox/messages`). */
export class PageGuard {
  readonly #seen = new Set<string>();
  #pages = 0;

  /**
   * `maxPages`: see {@link pageBudget}. `start`: the cursor or token the loop starts
   * from, if any (a server answering it back made no progress).
   */
  constructor(
    readonly where: string,
    readonly maxPages: number,
    start?: string,
  ) {
    if (start !== undefined) this.#seen.add(start);
  }

  /** Pages seen so far. */
  get pages(): number {
    return this.#pages;
  }

  /**
   * Records one page that asks for another one from `next` (a cursor or a state
   * token). Throws a {@link NoProgressError} when `next` was seen before in this loop,
   * when the page carried nothing (`empty`), or when the loop exceeds its budget.
   */
  more(next: string, empty = false): void {
    this.#pages += 1;
    if (this.#seen.has(next)) throw new NoProgressError(`${this.where}: has_more, but the server answered ${next} twice (no progress after ${this.#pages} pages)`);
    if (empty) throw new NoProgressError(`${this.where}: has_more on a page that carries nothing (no progress after ${this.#pages} pages)`);
    if (this.#pages > this.maxPages) throw new NoProgressError(`${this.where}: has_more after ${this.#pages} pages, more than the mailbox's counts allow (${this.maxPages})`);
    this.#seen.add(next);
  }
}
