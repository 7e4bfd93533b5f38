// Pure parts of server query windows (issue 7): applying `messages/query-changes`
// to a window of ids, naming a window, and telling which messages a filter still
// matches locally (so an optimistic change shows in a window at once).
import type { MethodInput, Message } from '../api/index.js';

/**
 * The API's own message filter, passed through as query parameters (snake_case:
 * `q`, `folder_id`, `is_unread`, `from`, …). `thread_id` is not accepted by
 * query-changes (docs/search-and-batch.md), so windows cannot use it.
 */
export type WindowFilter = Omit<
  MethodInput<'queryMessageChanges'>,
  'since_query_state' | 'limit' | 'up_to_id' | 'calculate_total' | 'sort_by' | 'sort_direction' | 'mailbox_id'
>;

/** Sort keys of server windows (the API's `sort_by`). */
export type WindowSortKey = NonNullable<MethodInput<'queryMessageChanges'>['sort_by']>;

/** Sort of a window; default newest first. */
export interface WindowSort {
  by: WindowSortKey;
  direction: 'asc' | 'desc';
}

export const DEFAULT_WINDOW_SORT: WindowSort = { by: 'received_at', direction: 'desc' };

/** One answer of `messages/query-changes`. */
export interface QueryChangesDelta {
  removed: readonly string[];
  added: ReadonlyArray<{ id: string; index: number }>;
}

/**
 * Applies a query-changes delta to a list of ids. RFC 8620 §5.6: remove every id in
 * `removed`, then insert each `added` id at its index, in ascending index order.
 * An added id already in the list is moved, not duplicated, so applying a change the
 * listing already contained is harmless (DESIGN.md invariant 2, for windows).
 */
export function applyQueryChanges(ids: readonly string[], delta: QueryChangesDelta): string[] {
  const drop = new Set(delta.removed);
  for (const a of delta.added) drop.add(a.id);
  const next = ids.filter((id) => !drop.has(id));
  const added = [...delta.added].sort((a, b) => a.index - b.index);
  for (const { id, index } of added) next.splice(Math.min(index, next.length), 0, id);
  return next;
}

/** Drops undefined values and keeps keys sorted, so equal filters name the same window. */
export function normaliseFilter(filter: WindowFilter): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const key of Object.keys(filter).sort()) {
    const value = (filter as Record<string, unknown>)[key];
    if (value === undefined || value === null || value === '') continue;
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw new TypeError(`window filter "${key}" must be a string, number or boolean`);
    }
    out[key] = value;
  }
  return out;
}

/** The persistent key of a window: canonical JSON of its filter and sort. */
export function windowKey(filter: WindowFilter, sort: WindowSort): string {
  return JSON.stringify({ filter: normaliseFilter(filter), sort: [sort.by, sort.direction] });
}

/**
 * A predicate over the parts of a filter that local mutations can change: folder
 * (trash moves), unread, keywords. Everything else (full text, addresses, sizes,
 * attachments) cannot change optimistically, so the server's inclusion stands and
 * no local re-evaluation (with possibly different matching rules) is attempted.
 * A window hides an id whose *visible* record fails the predicate — a message marked read leaves an `is_unread` window at once, before the
 * server's delta removes it — and the server's later delta agrees, so nothing
 * flickers.
 */
export function localPredicate(filter: WindowFilter): (message: Message) => boolean {
  const f = normaliseFilter(filter);
  const checks: Array<(m: Message) => boolean> = [];
  if (typeof f.folder_id === 'string') {
    const folder = f.folder_id;
    checks.push((m) => m.folder_ids.includes(folder));
  }
  if (typeof f.is_unread === 'boolean') {
    const unread = f.is_unread;
    checks.push((m) => !m.flags.seen === unread);
  }
  if (typeof f.keyword === 'string') {
    const k = f.keyword.toLowerCase();
    checks.push((m) => m.keywords.includes(k));
  }
  if (typeof f.not_keyword === 'string') {
    const k = f.not_keyword.toLowerCase();
    checks.push((m) => !m.keywords.includes(k));
  }
  return (m) => checks.every((check) => check(m));
}
