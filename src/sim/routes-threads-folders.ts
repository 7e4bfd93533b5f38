// Thread and folder endpoints.
import { BODY, parseJsonBody } from './bodies.js';
import { optionHash } from './content.js';
import { notFound } from './errors.js';
import { checkIfMatch, json, weakEtag, type Handler, type SimContext } from './http.js';
import { pageOf, pageSorted } from './query.js';
import { hash32 } from './random.js';
import { readCleanOptions } from './routes-messages.js';
import { folderSortKey, sortedFolders } from './routes-sync.js';
import type { FolderRecord, MessageRecord, ThreadRecord } from './types.js';

function findThread(ctx: SimContext, id: string): ThreadRecord {
  const t = ctx.store.threads.get(id);
  if (!t) throw notFound('Thread', 'thread_id');
  return t;
}

function findFolder(ctx: SimContext, id: string): FolderRecord {
  const f = ctx.store.folders.get(id);
  if (!f) throw notFound('Folder', 'folder_id');
  return f;
}

const folderEtag = (f: FolderRecord) => weakEtag('fld', f.folder.id, f.version);
const threadEtag = (t: ThreadRecord) => weakEtag('thr', t.id, t.version);

const listThreads: Handler = (req, ctx) => {
  const p = req.query;
  const limit = p.int('limit', { min: 1, max: 100, default: 50 }) ?? 50;
  const filter: Record<string, string | number | boolean> = {};
  const set = (k: string, v: string | number | boolean | undefined) => {
    if (v !== undefined) filter[k] = v;
  };
  set('q', p.text('q'));
  set('participant', p.text('participant'));
  set('folder_id', p.str('folder_id'));
  set('after', p.date('after'));
  set('before', p.date('before'));
  set('has_attachment', p.bool('has_attachment'));
  set('is_unread', p.bool('is_unread'));
  const direction = p.enum('sort_direction', ['asc', 'desc'] as const) ?? 'desc';
  const result = ctx.listing.sortedThreads(filter, direction);
  const page = pageOf(result, ctx.listing.threadKey(filter, direction), p.str('cursor'), limit);
  const data = page.ids.map((id) => ctx.store.threads.get(id)).filter((t): t is ThreadRecord => t !== undefined).map((t) => ctx.store.threadSummary(t));
  return json(data, { pagination: page.nextCursor ? { has_more: true, next_cursor: page.nextCursor } : { has_more: false } });
};

const getThread: Handler = (req, ctx) => {
  const t = findThread(ctx, req.pathParams.thread_id ?? '');
  return json({ ...ctx.store.threadSummary(t), message_ids: [...t.messageIds] }, { etag: threadEtag(t) });
};

function threadMessages(ctx: SimContext, t: ThreadRecord): MessageRecord[] {
  return t.messageIds.map((id) => ctx.store.messages.get(id)).filter((m): m is MessageRecord => m !== undefined);
}

const listThreadMessages: Handler = (req, ctx) => {
  const t = findThread(ctx, req.pathParams.thread_id ?? '');
  const limit = req.query.int('limit', { min: 1, max: 100, default: 50 }) ?? 50;
  const sort = req.query.enum('sort', ['asc', 'desc'] as const) ?? 'asc';
  const page = pageSorted(threadMessages(ctx, t), `thread-messages|${t.id}|${sort}`, req.query.str('cursor'), limit, (m) => m.summary.id, (m) => m.receivedMs, sort);
  return json(page.items.map((m) => m.summary), { pagination: page.nextCursor ? { has_more: true, next_cursor: page.nextCursor } : { has_more: false } });
};

const getThreadContent: Handler = (req, ctx) => {
  const t = findThread(ctx, req.pathParams.thread_id ?? '');
  const o = readCleanOptions(req.query, 25_000);
  const limit = req.query.int('limit', { min: 1, max: 100, default: 25 }) ?? 25;
  const sort = req.query.enum('sort', ['asc', 'desc'] as const) ?? 'asc';
  const page = pageSorted(threadMessages(ctx, t), `thread-content|${t.id}|${sort}`, req.query.str('cursor'), limit, (m) => m.summary.id, (m) => m.receivedMs, sort);
  const summary = ctx.store.threadSummary(t);
  const data = page.items.map((m) => ctx.content.clean(m, o));
  return json(data, {
    pagination: page.nextCursor ? { has_more: true, next_cursor: page.nextCursor } : { has_more: false },
    meta: {
      thread_id: t.id,
      participants: summary.participants,
      states: { thread_state: ctx.store.state('threads'), email_state: ctx.store.state('messages'), option_hash: optionHash(o) },
    },
    etag: weakEtag('thread-content', t.id, `${t.version}-${optionHash(o)}-${hash32(`${sort}|${limit}|${req.query.str('cursor') ?? ''}`)}`),
  });
};

const listFolders: Handler = (req, ctx) => {
  const limit = req.query.int('limit', { min: 1, max: 100, default: 50 }) ?? 50;
  const page = pageSorted(sortedFolders(ctx), 'folders', req.query.str('cursor'), limit, (f) => f.id, folderSortKey);
  return json(page.items, { pagination: page.nextCursor ? { has_more: true, next_cursor: page.nextCursor } : { has_more: false } });
};

const createFolder: Handler = (req, ctx) => {
  const b = parseJsonBody(req.body, BODY.createFolder);
  const folder = ctx.store.createFolder(b.name as string, (b.parent_id as string | null | undefined) ?? null, b.sort_order as number | undefined);
  const rec = findFolder(ctx, folder.id);
  return json(folder, { status: 201, etag: folderEtag(rec) });
};

const getFolder: Handler = (req, ctx) => {
  const f = findFolder(ctx, req.pathParams.folder_id ?? '');
  return json(f.folder, { etag: folderEtag(f) });
};

const patchFolder: Handler = (req, ctx) => {
  const f = findFolder(ctx, req.pathParams.folder_id ?? '');
  const b = parseJsonBody(req.body, BODY.patchFolder);
  checkIfMatch(req, folderEtag(f));
  const patch: { name?: string; parent_id?: string | null; sort_order?: number } = {};
  if (typeof b.name === 'string') patch.name = b.name;
  if (b.parent_id !== undefined) patch.parent_id = b.parent_id as string | null;
  if (typeof b.sort_order === 'number') patch.sort_order = b.sort_order;
  const folder = ctx.store.updateFolder(f.folder.id, patch);
  return json(folder, { etag: folderEtag(f) });
};

const deleteFolder: Handler = (req, ctx) => {
  const f = findFolder(ctx, req.pathParams.folder_id ?? '');
  checkIfMatch(req, folderEtag(f));
  ctx.store.deleteFolder(f.folder.id);
  return json({ deleted: true, id: f.folder.id });
};

export const threadFolderRoutes: Array<[string, string, Handler]> = [
  ['GET', '/mailbox/threads', listThreads],
  ['GET', '/mailbox/threads/{thread_id}', getThread],
  ['GET', '/mailbox/threads/{thread_id}/messages', listThreadMessages],
  ['GET', '/mailbox/threads/{thread_id}/content', getThreadContent],
  ['GET', '/mailbox/folders', listFolders],
  ['POST', '/mailbox/folders', createFolder],
  ['GET', '/mailbox/folders/{folder_id}', getFolder],
  ['PATCH', '/mailbox/folders/{folder_id}', patchFolder],
  ['DELETE', '/mailbox/folders/{folder_id}', deleteFolder],
];
