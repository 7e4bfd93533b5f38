// Sorted, filtered views over the store, cached per query and data version so that
// cursor paging costs a binary search, not a sort, per page.
import type { ContentService } from './content.js';
import { invalidParam } from './errors.js';
import type { Params } from './params.js';
import {
  MESSAGE_SORTS,
  SortedCache,
  messagePredicate,
  queryKey,
  sortKeyOf,
  sortRecords,
  type MessageFilter,
  type MessageSort,
  type SortedResult,
} from './query.js';
import type { MailboxStore } from './store.js';
import type { MessageRecord, ThreadRecord } from './types.js';

export interface ThreadFilter {
  q?: string;
  participant?: string;
  folder_id?: string;
  after?: number;
  before?: number;
  has_attachment?: boolean;
  is_unread?: boolean;
}

/** Reads the documented message filters from a query string. */
export function readMessageFilter(p: Params, opts: { allowThread: boolean }): MessageFilter {
  const f: MessageFilter = {};
  const set = <K extends keyof MessageFilter>(k: K, v: MessageFilter[K] | undefined) => {
    if (v !== undefined) f[k] = v;
  };
  set('folder_id', p.str('folder_id'));
  if (opts.allowThread) set('thread_id', p.str('thread_id'));
  for (const k of ['q', 'from', 'to', 'cc', 'bcc', 'subject', 'body', 'header_name', 'header_value', 'keyword', 'not_keyword'] as const) set(k, p.text(k));
  set('min_size_bytes', p.int('min_size_bytes', { min: 0 }));
  set('max_size_bytes', p.int('max_size_bytes', { min: 0 }));
  set('after', p.date('after'));
  set('before', p.date('before'));
  set('has_attachment', p.bool('has_attachment'));
  set('is_unread', p.bool('is_unread'));
  if (f.header_value !== undefined && f.header_name === undefined) throw invalidParam('header_value', 'header_value needs header_name.');
  // docs/search-and-batch.md: thread_id cannot be combined with other message filters.
  if (f.thread_id !== undefined && Object.keys(f).length > 1) throw invalidParam('thread_id', 'thread_id cannot be combined with other message filters.');
  return f;
}

export function readMessageSort(p: Params): MessageSort {
  return { by: p.enum('sort_by', MESSAGE_SORTS) ?? 'received_at', direction: p.enum('sort_direction', ['asc', 'desc'] as const) ?? 'desc' };
}

export class Listing {
  private readonly messageCache = new SortedCache(32);
  private readonly threadCache = new SortedCache(16);

  constructor(
    private readonly store: MailboxStore,
    private readonly content: ContentService,
  ) {}

  private get version(): string {
    return String(this.store.log.seqOf('messages'));
  }

  /** Query key binding cursors and query states to one filter + sort. */
  messageKey(filter: MessageFilter, sort: MessageSort): string {
    return queryKey('messages', filter, sort);
  }

  sortedMessages(filter: MessageFilter, sort: MessageSort): SortedResult {
    return this.messageCache.get(this.messageKey(filter, sort), this.version, () => {
      if (filter.thread_id === undefined && sort.by === 'received_at') {
        // The store keeps messages in received order: filter without sorting.
        const pred = Object.keys(filter).length === 0 ? undefined : messagePredicate(filter, this.content);
        const all = this.store.byReceived;
        const ids: string[] = [];
        const keys: number[] = [];
        const asc = sort.direction === 'asc';
        for (let i = 0; i < all.length; i++) {
          const m = all[asc ? i : all.length - 1 - i] as MessageRecord;
          if (pred && !pred(m)) continue;
          ids.push(m.summary.id);
          keys.push(m.receivedMs);
        }
        return { ids, keys, direction: sort.direction };
      }
      let rows: MessageRecord[];
      if (filter.thread_id !== undefined) {
        const t = this.store.threads.get(filter.thread_id);
        rows = (t?.messageIds ?? []).map((id) => this.store.messages.get(id)).filter((m): m is MessageRecord => m !== undefined);
      } else {
        const pred = messagePredicate(filter, this.content);
        rows = [];
        for (const m of this.store.messages.values()) if (pred(m)) rows.push(m);
      }
      return sortRecords(rows, (m) => sortKeyOf(m, sort.by), (m) => m.summary.id, sort.direction);
    });
  }

  countMessages(filter: MessageFilter): number {
    if (filter.thread_id !== undefined) return this.store.threads.get(filter.thread_id)?.messageIds.length ?? 0;
    if (Object.keys(filter).length === 0) return this.store.messages.size;
    if (Object.keys(filter).length === 1 && filter.folder_id !== undefined) return this.store.folders.get(filter.folder_id)?.folder.total_messages ?? 0;
    return this.sortedMessages(filter, { by: 'received_at', direction: 'desc' }).ids.length;
  }

  threadKey(filter: ThreadFilter, direction: 'asc' | 'desc'): string {
    return queryKey('threads', filter, { direction });
  }

  /** Threads by most recent message. */
  sortedThreads(filter: ThreadFilter, direction: 'asc' | 'desc'): SortedResult {
    const version = `${this.store.log.seqOf('threads')}/${this.version}`;
    return this.threadCache.get(this.threadKey(filter, direction), version, () => {
      const pred = this.threadPredicate(filter);
      const rows: Array<{ t: ThreadRecord; last: number }> = [];
      for (const t of this.store.threads.values()) {
        const last = this.store.lastMessage(t);
        if (!last || !pred(t)) continue;
        rows.push({ t, last: last.receivedMs });
      }
      return sortRecords(rows, (r) => r.last, (r) => r.t.id, direction);
    });
  }

  private threadPredicate(f: ThreadFilter): (t: ThreadRecord) => boolean {
    const msgs = (t: ThreadRecord) => t.messageIds.map((id) => this.store.messages.get(id)).filter((m): m is MessageRecord => m !== undefined);
    const q = f.q === undefined ? undefined : messagePredicate({ q: f.q }, this.content);
    const participant = f.participant?.toLowerCase();
    return (t) => {
      const ms = msgs(t);
      const last = ms[ms.length - 1];
      if (!last) return false;
      if (f.folder_id !== undefined && !ms.some((m) => m.summary.folder_ids.includes(f.folder_id as string))) return false;
      if (f.is_unread !== undefined && ms.some((m) => !m.summary.flags.seen) !== f.is_unread) return false;
      if (f.has_attachment !== undefined && ms.some((m) => m.summary.has_attachments) !== f.has_attachment) return false;
      if (f.after !== undefined && last.receivedMs < f.after) return false;
      // docs/threads.md: after = has a message at or after; before = has a message before.
      if (f.before !== undefined && (ms[0] as MessageRecord).receivedMs >= f.before) return false;
      if (participant !== undefined) {
        const hit = ms.some((m) => [...(m.summary.from ? [m.summary.from] : []), ...m.summary.to, ...m.summary.cc, ...m.summary.bcc].some((a) => a.email.toLowerCase().includes(participant) || (a.name ?? '').toLowerCase().includes(participant)));
        if (!hit) return false;
      }
      if (q && !ms.some(q)) return false;
      return true;
    };
  }
}
