// Local queries over the replica. The common list views (a folder, newest first,
// optionally unread-only or flagged-only, optionally a received_at range) are a
// reverse walk of `folderIndex` (its time-ordered key, or its unread or flagged
// index) plus a bulkGet of one page, so their cost does not grow with the folder. Anything else (keyword or attachment
// filters, other sort keys) reads the folder's index rows and filters records in
// chunks: correct, and slower on very large folders.
import type { Folder, Message, Thread } from '../api/types.js';
import type { Collection } from 'dexie';
import type { MailboxDb, Membership, MembershipKey } from './db.js';
import { ALL_MESSAGES, FOLDER_INDEX, timeKey } from './memberships.js';

/** Sort keys of local message queries. */
export type MessageSortKey = 'received_at' | 'sent_at' | 'subject' | 'from' | 'size_bytes';

/** A local message query; every field is optional (default: all messages, newest first). */
export interface MessageQuery {
  /** Only messages in this folder. */
  folderId?: string;
  /** Only messages of this thread. */
  threadId?: string;
  /** true: unread only; false: read only. */
  unread?: boolean;
  /** true: flagged only; false: not flagged only. */
  flagged?: boolean;
  /** Only messages carrying this keyword (case-insensitive). */
  keyword?: string;
  /** Only messages with (true) or without (false) attachments. */
  hasAttachment?: boolean;
  /** Received at or after this time (ISO 8601 or epoch ms). */
  after?: string | number;
  /** Received strictly before this time (ISO 8601 or epoch ms). */
  before?: string | number;
  /** Sort key; default `received_at`. */
  sortBy?: MessageSortKey;
  /** Sort direction; default `desc`. */
  direction?: 'asc' | 'desc';
  /** Page size; default unlimited. */
  limit?: number;
  /** Results to skip; default 0. */
  offset?: number;
}

/** A local thread query (threads sorted by their last message's received_at). */
export interface ThreadQuery {
  /** Only threads with a message in this folder. */
  folderId?: string;
  /** true: threads with unread messages; false: fully read threads. */
  unread?: boolean;
  /** Only threads with (true) or without (false) attachments. */
  hasAttachment?: boolean;
  /** Threads whose last message was received at or after this time. */
  after?: string | number;
  /** Threads whose last message was received before this time. */
  before?: string | number;
  /** Default `desc` (most recent first). */
  direction?: 'asc' | 'desc';
  limit?: number;
  offset?: number;
}

/** A thread with its messages in chronological order. */
export interface ThreadWithMessages {
  thread: Thread;
  messages: Message[];
}

function boundKey(value: string | number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  return typeof value === 'number' ? value : timeKey(value);
}

type Post = (m: Message) => boolean;

/** What the folder index cannot answer: checked on the records. */
function postFilters(q: MessageQuery): Post[] {
  const filters: Post[] = [];
  if (q.keyword !== undefined) {
    const kw = q.keyword.toLowerCase();
    filters.push((m) => m.keywords.some((k) => k.toLowerCase() === kw));
  }
  if (q.hasAttachment !== undefined) filters.push((m) => m.has_attachments === q.hasAttachment);
  return filters;
}

/**
 * Whether a visible record belongs to a query's results (what the folder index and
 * the post filters select; sort, limit and offset aside): for views that re-check
 * records in memory (src/store/effects.ts).
 */
export function messageMatches(q: MessageQuery, m: Message): boolean {
  if (q.folderId !== undefined && !m.folder_ids.includes(q.folderId)) return false;
  if (q.threadId !== undefined && m.thread_id !== q.threadId) return false;
  if (q.unread !== undefined && !m.flags.seen !== q.unread) return false;
  if (q.flagged !== undefined && m.flags.flagged !== q.flagged) return false;
  const k = timeKey(m.received_at);
  if (k < boundKey(q.after, -Infinity)) return false;
  if (q.before !== undefined && k >= boundKey(q.before, Infinity)) return false;
  return postFilters(q).every((f) => f(m));
}

function sortValue(m: Message, key: MessageSortKey): number | string {
  switch (key) {
    case 'received_at':
      return timeKey(m.received_at);
    case 'sent_at':
      return timeKey(m.sent_at);
    case 'subject':
      return (m.subject ?? '').toLowerCase();
    case 'from':
      return (m.from?.email ?? '').toLowerCase();
    case 'size_bytes':
      return m.size_bytes ?? -Infinity;
  }
}

/** Comparator of a sort key and direction; ties break on id (same direction). */
export function messageComparator(key: MessageSortKey, direction: 'asc' | 'desc'): (a: Message, b: Message) => number {
  const sign = direction === 'asc' ? 1 : -1;
  return (a, b) => {
    const va = sortValue(a, key);
    const vb = sortValue(b, key);
    if (va < vb) return -sign;
    if (va > vb) return sign;
    return a.id < b.id ? -sign : a.id > b.id ? sign : 0;
  };
}

/**
 * The folder-index rows a query walks: the unread or flagged index for unread-only or
 * flagged-only, else the folder's whole range. `filtered`: a flag the range does not
 * select by ("read", "unflagged", or the second of two flags) is checked on each row
 * (rows carry both flags), so the walk is a cursor rather than one native request.
 */
function plan(db: MailboxDb, q: MessageQuery): { rows: Collection<Membership, MembershipKey>; filtered: boolean } {
  const folder = q.folderId ?? ALL_MESSAGES;
  const lo = boundKey(q.after, -Infinity);
  // `before` is exclusive; an absent bound includes +Infinity-free keys only.
  const hi = boundKey(q.before, Infinity);
  const hiInclusive = q.before === undefined;
  const by = q.unread === true ? 'unread' : q.flagged === true ? 'flagged' : null;
  const rows = by
    ? db.folderIndex.where(FOLDER_INDEX[by]).between([folder, 1, lo], [folder, 1, hi], true, hiInclusive)
    : db.folderIndex.where(FOLDER_INDEX.byTime).between([folder, lo], [folder, hi], true, hiInclusive);
  const checks: ((row: Membership) => boolean)[] = [];
  if (q.unread !== undefined && by !== 'unread') checks.push((row) => (row.unread === 1) === q.unread);
  if (q.flagged !== undefined && by !== 'flagged') checks.push((row) => (row.flagged === 1) === q.flagged);
  if (checks.length === 0) return { rows, filtered: false };
  return { rows: rows.and((row) => checks.every((check) => check(row))), filtered: true };
}

async function getMessages(db: MailboxDb, ids: string[]): Promise<Message[]> {
  const found = await db.messages.bulkGet(ids);
  return found.filter((m): m is Message => m !== undefined);
}

const CHUNK = 250;
/** Beyond this offset a fast-path page is read by keys rather than by cursor. */
const DEEP_OFFSET = 500;

/** Runs a local message query. */
export async function queryMessages(db: MailboxDb, q: MessageQuery = {}): Promise<Message[]> {
  const sortBy = q.sortBy ?? 'received_at';
  const direction = q.direction ?? 'desc';
  const offset = Math.max(0, q.offset ?? 0);
  const limit = q.limit === undefined ? Infinity : Math.max(0, q.limit);
  if (limit === 0) return [];

  if (q.threadId !== undefined) {
    const all = (await db.messages.where('thread_id').equals(q.threadId).toArray()).filter((m) => messageMatches(q, m));
    all.sort(messageComparator(sortBy, direction));
    return all.slice(offset, offset + limit);
  }

  const { rows } = plan(db, q);
  const filters = postFilters(q);

  if (sortBy === 'received_at' && filters.length === 0) {
    // Fast path: the index order is the answer. Near the top, walk one page of rows;
    // deeper, a cursor would step over every skipped row, so read the range's keys
    // (one native request) and fetch just the page.
    if (offset > DEEP_OFFSET) return getMessages(db, await queryMessageIds(db, q));
    let coll = direction === 'desc' ? rows.reverse() : rows;
    if (offset > 0) coll = coll.offset(offset);
    if (limit !== Infinity) coll = coll.limit(limit);
    const rowsPage = await coll.toArray();
    return getMessages(db, rowsPage.map((r) => r.id));
  }

  // getAll of the range (one request), then records in chunks.
  const ids = (await rows.toArray()).map((r) => r.id);
  if (sortBy === 'received_at') {
    // Index order (ascending received_key, then id) is the sort; stop once the page is full.
    if (direction === 'desc') ids.reverse();
    const out: Message[] = [];
    let skipped = 0;
    for (let i = 0; i < ids.length && out.length < limit; i += CHUNK) {
      for (const m of await getMessages(db, ids.slice(i, i + CHUNK))) {
        if (!filters.every((f) => f(m))) continue;
        if (skipped < offset) skipped++;
        else if (out.length < limit) out.push(m);
      }
    }
    return out;
  }
  const matched: Message[] = [];
  for (let i = 0; i < ids.length; i += CHUNK) {
    for (const m of await getMessages(db, ids.slice(i, i + CHUNK))) if (filters.every((f) => f(m))) matched.push(m);
  }
  matched.sort(messageComparator(sortBy, direction));
  return matched.slice(offset, offset + limit);
}

function page<T>(items: T[], offset: number, limit: number): T[] {
  return offset === 0 && limit === Infinity ? items : items.slice(offset, limit === Infinity ? undefined : offset + limit);
}

/**
 * The ids of a query's messages, in its order, with offset and limit applied. On
 * the common lists (received_at order, no keyword or attachment filter) this reads
 * index keys only, in one request and no records: a 100k-message folder is one
 * native `getAllKeys`, so a list can know its length and any row's id without
 * paging through records. Other queries read records (as `queryMessages` does).
 */
export async function queryMessageIds(db: MailboxDb, q: MessageQuery = {}): Promise<string[]> {
  const offset = Math.max(0, q.offset ?? 0);
  const limit = q.limit === undefined ? Infinity : Math.max(0, q.limit);
  if (limit === 0) return [];
  if (q.threadId === undefined && (q.sortBy ?? 'received_at') === 'received_at') {
    const { rows } = plan(db, q);
    if (postFilters(q).length === 0) {
      // Forward keys (getAllKeys cannot walk backwards on every engine), reversed
      // here: index order is received_key then id, the comparator's order.
      const ids = (await rows.primaryKeys()).map((key) => key[2]);
      if ((q.direction ?? 'desc') === 'desc') ids.reverse();
      return page(ids, offset, limit);
    }
  }
  return (await queryMessages(db, q)).map((m) => m.id);
}

/** The messages of these ids, in this order; undefined where an id is not in the replica. */
export async function getMessagesById(db: MailboxDb, ids: readonly string[]): Promise<(Message | undefined)[]> {
  return db.messages.bulkGet([...ids]);
}

/** Counts the messages of a query (ignores sort, limit and offset). */
export async function countMessages(db: MailboxDb, q: MessageQuery = {}): Promise<number> {
  if (q.threadId === undefined && postFilters(q).length === 0) {
    const { rows, filtered } = plan(db, q);
    // A native count over the index range: no key reaches JavaScript. A live count
    // re-runs on any write to the table that may delete a row (db.ts makes that hold
    // in Node too), so a row leaving the range is seen.
    if (!filtered) return rows.count();
    // "Read" (or "unflagged"): the folder's rows minus the unread (flagged) ones, two
    // native counts in one transaction.
    for (const flag of ['unread', 'flagged'] as const) {
      const other = flag === 'unread' ? 'flagged' : 'unread';
      if (q[flag] === false && q[other] === undefined) {
        const [all, marked] = await Promise.all([plan(db, { ...q, [flag]: undefined }).rows.count(), plan(db, { ...q, [flag]: true }).rows.count()]);
        return all - marked;
      }
    }
    return rows.count();
  }
  const { limit: _limit, offset: _offset, ...rest } = q;
  return (await queryMessages(db, rest)).length;
}

/** `syncState` key of the server's folder-list order (kept by src/sync/folderOrder.ts). */
export const FOLDER_ORDER_KEY = 'folderOrder';

/**
 * Every folder, in the server's folder-list order when the engine has learned it
 * (`folders/query-changes`), else by sort_order (nulls last), then name, then id.
 * Folders the order does not know yet (just created) follow, in that fallback order.
 */
export async function listFolders(db: MailboxDb): Promise<Folder[]> {
  const [folders, orderRow] = await Promise.all([db.folders.toArray(), db.syncState.get(FOLDER_ORDER_KEY)]);
  const order = (orderRow?.value as { ids?: string[] } | undefined)?.ids;
  const rank = new Map((order ?? []).map((id, i) => [id, i]));
  return folders.sort((a, b) => {
    const ra = rank.get(a.id) ?? Infinity;
    const rb = rank.get(b.id) ?? Infinity;
    if (ra !== rb) return ra - rb;
    const sa = a.sort_order ?? Infinity;
    const sb = b.sort_order ?? Infinity;
    if (sa !== sb) return sa - sb;
    if (a.name !== b.name) return a.name < b.name ? -1 : 1;
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  });
}

function threadMatcher(q: ThreadQuery): (t: Thread) => boolean {
  return (t) =>
    (q.folderId === undefined || t.folder_ids.includes(q.folderId)) &&
    (q.unread === undefined || t.unread_count > 0 === q.unread) &&
    (q.hasAttachment === undefined || t.has_attachments === q.hasAttachment);
}

/**
 * Fast path of a thread page: walk the `last_message.received_at` index (newest
 * first) with the filters applied, stop when the page is full. Returns undefined
 * when it cannot answer exactly: a date range, a short page (the index holds no
 * thread without a received_at, so the tail is answered by the full scan),
 * ascending order with such threads present (they sort first), or index keys whose
 * string order is not their time order (timestamps not in one ISO 8601 form).
 */
async function threadsByIndex(db: MailboxDb, q: ThreadQuery, direction: 'asc' | 'desc', offset: number, limit: number): Promise<Thread[] | undefined> {
  if (limit === Infinity || q.after !== undefined || q.before !== undefined) return undefined;
  if (direction === 'asc') {
    const [all, indexed] = await Promise.all([db.threads.count(), db.threads.orderBy('last_message.received_at').count()]);
    if (all !== indexed) return undefined;
  }
  const match = threadMatcher(q);
  let previous: { key: number; raw: string } | undefined;
  let ordered = true;
  const sign = direction === 'asc' ? 1 : -1;
  const index = db.threads.orderBy('last_message.received_at');
  const page = await (direction === 'desc' ? index.reverse() : index)
    .filter((t) => {
      const raw = t.last_message?.received_at ?? '';
      const key = timeKey(raw);
      // Equal strings tie-break on id in the walk's direction, as the comparator does;
      // equal times written differently would not.
      if (previous && ((key - previous.key) * sign < 0 || (key === previous.key && raw !== previous.raw))) ordered = false;
      previous = { key, raw };
      return match(t);
    })
    .offset(offset)
    .limit(limit)
    .toArray();
  if (!ordered || page.length < limit) return undefined;
  return page;
}

/** Runs a local thread query (sorted by last message received_at, then id). */
export async function queryThreads(db: MailboxDb, q: ThreadQuery = {}): Promise<Thread[]> {
  const direction = q.direction ?? 'desc';
  const offset = Math.max(0, q.offset ?? 0);
  const limit = q.limit === undefined ? Infinity : Math.max(0, q.limit);
  if (limit === 0) return [];
  const fast = await threadsByIndex(db, q, direction, offset, limit);
  if (fast) return fast;
  const candidates =
    q.folderId !== undefined ? await db.threads.where('folder_ids').equals(q.folderId).toArray() : await db.threads.toArray();
  const lo = boundKey(q.after, -Infinity);
  const hi = boundKey(q.before, Infinity);
  const matched = candidates.filter((t) => {
    if (q.unread !== undefined && t.unread_count > 0 !== q.unread) return false;
    if (q.hasAttachment !== undefined && t.has_attachments !== q.hasAttachment) return false;
    const k = timeKey(t.last_message?.received_at);
    if (k < lo) return false;
    if (q.before !== undefined && k >= hi) return false;
    return true;
  });
  const sign = direction === 'asc' ? 1 : -1;
  matched.sort((a, b) => {
    const ka = timeKey(a.last_message?.received_at);
    const kb = timeKey(b.last_message?.received_at);
    if (ka !== kb) return ka < kb ? -sign : sign;
    return a.id < b.id ? -sign : a.id > b.id ? sign : 0;
  });
  return matched.slice(offset, offset + limit);
}

/** A thread and its messages, oldest first; undefined when the thread is absent. */
export async function getThreadWithMessages(db: MailboxDb, id: string): Promise<ThreadWithMessages | undefined> {
  const thread = await db.threads.get(id);
  if (!thread) return undefined;
  const messages = await db.messages.where('thread_id').equals(id).toArray();
  messages.sort(messageComparator('received_at', 'asc'));
  return { thread, messages };
}

/**
 * Reads one message over the whole key range, so a live read that calls this re-runs
 * after any write of a message (what a backend's own index cannot tell the change feed).
 */
export async function watchMessages(db: MailboxDb): Promise<void> {
  await db.messages.toCollection().limit(1).toArray();
}
