// Message filters and sorts (docs/search-and-batch.md "Rich message filters"), the
// cached sorted results that make cursor paging fast at 100k messages, and opaque
// cursors that binary-search into those results.
import { hash32 } from './random.js';
import { invalidParam } from './errors.js';
import type { MessageRecord } from './types.js';

export interface MessageFilter {
  folder_id?: string;
  thread_id?: string;
  q?: string;
  from?: string;
  to?: string;
  cc?: string;
  bcc?: string;
  subject?: string;
  body?: string;
  header_name?: string;
  header_value?: string;
  min_size_bytes?: number;
  max_size_bytes?: number;
  keyword?: string;
  not_keyword?: string;
  after?: number;
  before?: number;
  has_attachment?: boolean;
  is_unread?: boolean;
}

export const MESSAGE_FILTER_KEYS = [
  'folder_id', 'thread_id', 'q', 'from', 'to', 'cc', 'bcc', 'subject', 'body', 'header_name', 'header_value',
  'min_size_bytes', 'max_size_bytes', 'keyword', 'not_keyword', 'after', 'before', 'has_attachment', 'is_unread',
] as const;

export type MessageSortBy = 'received_at' | 'sent_at' | 'subject' | 'from' | 'to' | 'size_bytes';
export const MESSAGE_SORTS: readonly MessageSortBy[] = ['received_at', 'sent_at', 'subject', 'from', 'to', 'size_bytes'];

export interface MessageSort {
  by: MessageSortBy;
  direction: 'asc' | 'desc';
}

/** Everything a filter may need beyond the summary: bodies and headers are derived lazily. */
export interface MessageTextSource {
  bodyText(m: MessageRecord): string;
  headers(m: MessageRecord): Array<{ name: string; value: string }>;
}

const has = (hay: string | null | undefined, needle: string): boolean => (hay ?? '').toLowerCase().includes(needle);
const addrMatches = (list: Array<{ email: string; name: string | null }>, needle: string): boolean =>
  list.some((a) => has(a.email, needle) || has(a.name, needle));

/** A predicate for `filter`; text matches are case-insensitive substrings. */
export function messagePredicate(filter: MessageFilter, text: MessageTextSource): (m: MessageRecord) => boolean {
  const lc = (s: string | undefined) => (s === undefined ? undefined : s.toLowerCase());
  const q = lc(filter.q);
  const from = lc(filter.from);
  const to = lc(filter.to);
  const cc = lc(filter.cc);
  const bcc = lc(filter.bcc);
  const subject = lc(filter.subject);
  const body = lc(filter.body);
  const headerName = lc(filter.header_name);
  const headerValue = lc(filter.header_value);
  const keyword = lc(filter.keyword);
  const notKeyword = lc(filter.not_keyword);
  return (m) => {
    const s = m.summary;
    if (filter.folder_id !== undefined && !s.folder_ids.includes(filter.folder_id)) return false;
    if (filter.thread_id !== undefined && s.thread_id !== filter.thread_id) return false;
    if (filter.is_unread !== undefined && s.flags.seen === filter.is_unread) return false;
    if (filter.has_attachment !== undefined && s.has_attachments !== filter.has_attachment) return false;
    if (filter.after !== undefined && m.receivedMs < filter.after) return false;
    if (filter.before !== undefined && m.receivedMs >= filter.before) return false;
    if (filter.min_size_bytes !== undefined && (s.size_bytes ?? 0) < filter.min_size_bytes) return false;
    if (filter.max_size_bytes !== undefined && (s.size_bytes ?? 0) >= filter.max_size_bytes) return false;
    if (keyword !== undefined && !s.keywords.includes(keyword)) return false;
    if (notKeyword !== undefined && s.keywords.includes(notKeyword)) return false;
    if (from !== undefined && !(s.from && addrMatches([s.from], from))) return false;
    if (to !== undefined && !addrMatches(s.to, to)) return false;
    if (cc !== undefined && !addrMatches(s.cc, cc)) return false;
    if (bcc !== undefined && !addrMatches(s.bcc, bcc)) return false;
    if (subject !== undefined && !has(s.subject, subject)) return false;
    if (headerName !== undefined) {
      const hs = text.headers(m).filter((h) => h.name.toLowerCase() === headerName);
      if (hs.length === 0) return false;
      if (headerValue !== undefined && !hs.some((h) => has(h.value, headerValue))) return false;
    }
    if (body !== undefined && !has(text.bodyText(m), body)) return false;
    if (q !== undefined) {
      const hit =
        has(s.subject, q) ||
        (s.from !== null && addrMatches([s.from], q)) ||
        addrMatches(s.to, q) ||
        addrMatches(s.cc, q) ||
        has(s.preview, q) ||
        has(text.bodyText(m), q);
      if (!hit) return false;
    }
    return true;
  };
}

export type SortKey = number | string;

export function sortKeyOf(m: MessageRecord, by: MessageSortBy): SortKey {
  const s = m.summary;
  switch (by) {
    case 'received_at':
      return m.receivedMs;
    case 'sent_at':
      return m.sentMs;
    case 'size_bytes':
      return s.size_bytes ?? 0;
    case 'subject':
      return (s.subject ?? '').toLowerCase();
    case 'from':
      return (s.from?.name ?? s.from?.email ?? '').toLowerCase();
    case 'to':
      return (s.to[0]?.name ?? s.to[0]?.email ?? '').toLowerCase();
  }
}

/** Total order on (key, id); `desc` reverses both, so ties are still deterministic. */
export function compareEntries(ak: SortKey, aid: string, bk: SortKey, bid: string, direction: 'asc' | 'desc'): number {
  let c = ak < bk ? -1 : ak > bk ? 1 : aid < bid ? -1 : aid > bid ? 1 : 0;
  if (direction === 'desc') c = -c;
  return c;
}

/** A sorted result: ids and their sort keys, index-aligned. */
export interface SortedResult {
  ids: string[];
  keys: SortKey[];
  direction: 'asc' | 'desc';
}

/** Index of the first entry strictly after (key, id) in `r`. */
export function positionAfter(r: SortedResult, key: SortKey, id: string): number {
  let lo = 0;
  let hi = r.ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareEntries(r.keys[mid] as SortKey, r.ids[mid] as string, key, id, r.direction) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Bounded LRU of sorted results keyed by query, valid for one data version. Paging
 * through 100k messages sorts once per change, not once per page.
 */
export class SortedCache {
  private readonly entries = new Map<string, { version: string; result: SortedResult }>();
  constructor(private readonly max = 32) {}

  get(key: string, version: string, compute: () => SortedResult): SortedResult {
    const hit = this.entries.get(key);
    if (hit && hit.version === version) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.result;
    }
    const result = compute();
    this.entries.delete(key);
    this.entries.set(key, { version, result });
    while (this.entries.size > this.max) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    return result;
  }

  clear(): void {
    this.entries.clear();
  }
}

/** Sorts records by (key, id). */
export function sortRecords<T>(records: T[], keyOf: (r: T) => SortKey, idOf: (r: T) => string, direction: 'asc' | 'desc'): SortedResult {
  const rows = records.map((r) => ({ k: keyOf(r), id: idOf(r) }));
  rows.sort((a, b) => compareEntries(a.k, a.id, b.k, b.id, direction));
  return { ids: rows.map((r) => r.id), keys: rows.map((r) => r.k), direction };
}

/** Canonical string of a filter + sort: cache key and cursor/query-state binding. */
export function queryKey(kind: string, filter: object, sort: object | undefined): string {
  const entries = Object.entries(filter).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : 1));
  return `${kind}|${JSON.stringify(entries)}|${JSON.stringify(sort ?? null)}`;
}

interface CursorPayload {
  q: string;
  k: SortKey;
  i: string;
}

/** Opaque cursor: the query it belongs to and the last (key, id) returned. */
export function encodeCursor(key: string, sortKey: SortKey, id: string): string {
  const payload: CursorPayload = { q: hash32(key), k: sortKey, i: id };
  return Buffer.from(JSON.stringify(payload)).toString('base64url');
}

/** Decodes a cursor for `key`; a cursor of another query or any garbage is a 400. */
export function decodeCursor(cursor: string, key: string): { key: SortKey; id: string } {
  let payload: unknown;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new Error('charset');
    payload = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidParam('cursor', 'The cursor is malformed.');
  }
  const p = payload as Partial<CursorPayload> | null;
  if (!p || typeof p !== 'object' || typeof p.i !== 'string' || (typeof p.k !== 'number' && typeof p.k !== 'string') || typeof p.q !== 'string') {
    throw invalidParam('cursor', 'The cursor is malformed.');
  }
  if (p.q !== hash32(key)) throw invalidParam('cursor', 'The cursor belongs to a different query.');
  return { key: p.k, id: p.i };
}

/** One page of a sorted result after an optional cursor. */
export function pageOf(r: SortedResult, key: string, cursor: string | undefined, limit: number): { ids: string[]; nextCursor?: string } {
  let start = 0;
  if (cursor !== undefined) {
    const c = decodeCursor(cursor, key);
    start = positionAfter(r, c.key, c.id);
  }
  const ids = r.ids.slice(start, start + limit);
  const end = start + ids.length;
  if (end < r.ids.length && ids.length > 0) {
    return { ids, nextCursor: encodeCursor(key, r.keys[end - 1] as SortKey, r.ids[end - 1] as string) };
  }
  return { ids };
}

/**
 * Sorts small lists (folders, identities, quotas, submissions, a thread's messages)
 * by (key, id) and pages them with the same key-based cursors, so inserts between
 * pages neither repeat nor skip records.
 */
export function pageSorted<T>(
  items: T[],
  key: string,
  cursor: string | undefined,
  limit: number,
  idOf: (t: T) => string,
  keyOf: (t: T) => SortKey,
  direction: 'asc' | 'desc' = 'asc',
): { items: T[]; nextCursor?: string } {
  const r = sortRecords(items, keyOf, idOf, direction);
  const page = pageOf(r, key, cursor, limit);
  const byId = new Map(items.map((t) => [idOf(t), t]));
  const out = page.ids.map((id) => byId.get(id) as T);
  return page.nextCursor === undefined ? { items: out } : { items: out, nextCursor: page.nextCursor };
}
