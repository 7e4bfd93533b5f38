// Reading records of each sync type from the API: one list page at a time (bootstrap,
// re-list), and "fetch these changed ids" by the cheapest calls (catch-up).
import { SendmuxApiError, type Message, type Thread } from '../api/index.js';
import type { RecordOf, SyncType } from '../store/apply.js';
import type { SyncContext } from './context.js';
import { SyncError } from './errors.js';
import { PageGuard, SMALL_TYPE_COUNT, pageBudget } from './paging.js';
import { checkMessage, checkPage, checkRecord } from './recordChecks.js';

// The checks live in recordChecks.ts; checkMessage stays importable from here.
export { checkMessage } from './recordChecks.js';

/** One page of a listing. */
export interface ListPage<T extends SyncType> {
  records: RecordOf[T][];
  /** Cursor of the next page; undefined on the last page. */
  next: string | undefined;
}

const BG = { priority: 'background' } as const;

/** Thread detail (`GET /mailbox/threads/{id}`) carries `message_ids`; the list shape does not. */
export function threadSummary(thread: Thread & { message_ids?: unknown }): Thread {
  const { message_ids: _ids, ...summary } = thread;
  return summary;
}

function nextOf(pagination: { has_more: boolean; next_cursor?: string } | undefined): string | undefined {
  return pagination?.has_more && pagination.next_cursor ? pagination.next_cursor : undefined;
}

/** Path of each type's listing, for error messages. */
export const LIST_PATH: Readonly<Record<SyncType, string>> = {
  messages: '/mailbox/messages',
  folders: '/mailbox/folders',
  threads: '/mailbox/threads',
  identities: '/mailbox/identities',
  quotas: '/mailbox/quotas',
  submissions: '/mailbox/submissions',
};

/**
 * One page of the full listing of a type. Messages are listed newest first
 * (DESIGN.md "bootstrap"), so the first pages are the ones the app shows first.
 * Every record passes its type's check and ids are unique within the page, or the
 * page is refused with a protocol_error before anything is written (issue #10).
 */
export async function listPage<T extends SyncType>(
  ctx: SyncContext,
  type: T,
  cursor: string | undefined,
  extra: { folder_id?: string } = {},
): Promise<ListPage<T>> {
  const limit = ctx.limits().listLimit;
  const base = { limit, ...(cursor ? { cursor } : {}) };
  const opts = { ...BG, signal: ctx.stopped };
  let r: { data: unknown; pagination?: { has_more: boolean; next_cursor?: string } };
  switch (type) {
    case 'messages':
      r = await ctx.api.listMessages({ ...base, ...extra, sort_by: 'received_at', sort_direction: 'desc' }, opts);
      break;
    case 'folders':
      r = await ctx.api.listFolders(base, opts);
      break;
    case 'threads':
      r = await ctx.api.listThreads(base, opts);
      break;
    case 'identities':
      r = await ctx.api.listIdentities(base, opts);
      break;
    case 'quotas':
      r = await ctx.api.listQuotas(base, opts);
      break;
    case 'submissions':
      r = await ctx.api.listSubmissions(base, opts);
      break;
    default:
      throw new TypeError(`listPage: unknown type ${String(type)}`);
  }
  const checked = checkPage(type, r.data, `GET ${LIST_PATH[type]}`);
  const records = type === 'threads' ? (checked as Thread[]).map(threadSummary) : checked;
  return { records: records as RecordOf[T][], next: nextOf(r.pagination) };
}

/** Records fetched for changed ids; `missing` are ids the server no longer has. */
export interface Fetched<T extends SyncType> {
  records: RecordOf[T][];
  missing: string[];
}

function isNotFound(error: unknown): boolean {
  return error instanceof SendmuxApiError && error.status === 404;
}

async function batchGetMessages(ctx: SyncContext, ids: readonly string[]): Promise<Fetched<'messages'>> {
  const records: Message[] = [];
  const missing: string[] = [];
  const size = ctx.limits().batchIds;
  for (let i = 0; i < ids.length; i += size) {
    // docs/sync.md: created/updated messages by messages:batch-get, 100 ids a call.
    // body_mode none: the replica holds summaries; bodies are fetched on demand.
    const r = await ctx.api.batchGetMessages(
      { body: { ids: ids.slice(i, i + size), body_mode: 'none', include_attachments: 'metadata', include_headers: 'none' } },
      { ...BG, signal: ctx.stopped },
    );
    const asked = new Set(ids.slice(i, i + size));
    const got = new Map<string, Message>();
    for (const item of r.data.messages) {
      const m = checkMessage((item as { message?: unknown } | null)?.message, 'messages:batch-get');
      if (!asked.has(m.id)) throw new SyncError('protocol_error', `messages:batch-get returned ${m.id}, which was not asked for`);
      if (got.has(m.id)) throw new SyncError('protocol_error', `messages:batch-get returned ${m.id} twice`);
      got.set(m.id, m);
    }
    records.push(...got.values());
    missing.push(...r.data.not_found);
  }
  return { records, missing };
}

async function getOne<T extends 'folders' | 'threads' | 'submissions'>(ctx: SyncContext, type: T, id: string): Promise<RecordOf[T] | undefined> {
  const opts = { ...BG, signal: ctx.stopped };
  let data: unknown;
  let where: string;
  try {
    switch (type) {
      case 'folders':
        where = `GET /mailbox/folders/${id}`;
        data = (await ctx.api.getFolder({ folder_id: id }, opts)).data;
        break;
      case 'threads':
        where = `GET /mailbox/threads/${id}`;
        data = (await ctx.api.getThread({ thread_id: id }, opts)).data;
        break;
      default:
        where = `GET /mailbox/submissions/${id}`;
        data = (await ctx.api.getSubmission({ submission_id: id }, opts)).data;
    }
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
  const record = checkRecord(type, data, where);
  // Written under the id the server answered with: it must be the one asked for.
  if ((record as { id: string }).id !== id) throw new SyncError('protocol_error', `${where} answered ${(record as { id: string }).id}`);
  return (type === 'threads' ? threadSummary(record as Thread) : record) as RecordOf[T];
}

/**
 * Re-lists a whole type and keeps the wanted ids. A cursor that repeats or never ends
 * stops the fetch with a protocol_error (issue 19; the pull fails, nothing is written).
 */
async function relistPick<T extends SyncType>(ctx: SyncContext, type: T, ids: readonly string[], localCount: number): Promise<Fetched<T>> {
  const wanted = new Set(ids);
  const records: RecordOf[T][] = [];
  const guard = new PageGuard(`GET ${LIST_PATH[type]}`, pageBudget(Math.max(localCount + ids.length, SMALL_TYPE_COUNT), ctx.limits().listLimit));
  let cursor: string | undefined;
  do {
    const page = await listPage(ctx, type, cursor);
    for (const r of page.records) if (wanted.delete((r as { id: string }).id)) records.push(r);
    if (page.next !== undefined) guard.more(page.next);
    cursor = page.next;
  } while (cursor);
  return { records, missing: [...wanted] };
}

/**
 * Fetches the current server version of changed records.
 * - messages: `messages:batch-get`, `batchIds` per call (N changes ≈ N/100 calls).
 * - identities, quotas: re-list (no per-id endpoint; both are a page or two).
 * - folders, threads, submissions: per-id GET when that is fewer calls than
 *   re-listing (k ids vs ⌈local count / list limit⌉ pages), else a re-list. Folders
 *   are usually one page, so a flag change that moves counters of k folders costs one
 *   call; a handful of thread updates costs a handful of GETs, a burst costs a re-list.
 */
export async function fetchChanged<T extends SyncType>(
  ctx: SyncContext,
  type: T,
  ids: readonly string[],
  localCount: number,
): Promise<Fetched<T>> {
  if (ids.length === 0) return { records: [], missing: [] };
  if (type === 'messages') return (await batchGetMessages(ctx, ids)) as Fetched<T>;
  if (type === 'identities' || type === 'quotas') return relistPick(ctx, type, ids, localCount);
  const listCost = Math.max(1, Math.ceil((localCount + ids.length) / ctx.limits().listLimit));
  if (listCost <= ids.length) return relistPick(ctx, type, ids, localCount);
  // A few GETs in parallel (the client's limiter still paces them); results keep id order.
  const results: (RecordOf[T] | undefined)[] = new Array(ids.length);
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const i = next++;
      results[i] = (await getOne(ctx, type as 'folders' | 'threads' | 'submissions', ids[i] as string)) as RecordOf[T] | undefined;
    }
  };
  await Promise.all(Array.from({ length: Math.min(PER_ID_CONCURRENCY, ids.length) }, worker));
  const records: RecordOf[T][] = [];
  const missing: string[] = [];
  ids.forEach((id, i) => {
    const r = results[i];
    if (r) records.push(r);
    else missing.push(id);
  });
  return { records, missing };
}

/** Parallel per-id GETs of one fetch (a burst beyond the list cost re-lists instead). */
const PER_ID_CONCURRENCY = 4;
