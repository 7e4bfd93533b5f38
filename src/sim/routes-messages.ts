// Message endpoints: list/count/query-changes/snippets, batch get/update/delete with
// if_in_state, single-message reads with ETags, PATCH/DELETE with If-Match, and
// attachment downloads with byte ranges.
import { BODY, parseJsonBody } from './bodies.js';
import type { CleanOptions } from './content.js';
import { downloadToken } from './content.js';
import { conflict, invalidParam, notFound } from './errors.js';
import { checkIfMatch, json, weakEtag, type Handler, type Reply, type SimContext, type SimRequest } from './http.js';
import { readMessageFilter, readMessageSort } from './listing.js';
import type { Params } from './params.js';
import { pageOf, type SortedResult } from './query.js';
import { hash32 } from './random.js';
import type { FlagPatch } from './store.js';
import type { MessageRecord } from './types.js';

export function findMessage(ctx: SimContext, id: string): MessageRecord {
  const m = ctx.store.messages.get(id);
  if (!m) throw notFound('Message', 'message_id');
  return m;
}

export const messageEtag = (m: MessageRecord) => weakEtag('msg', m.summary.id, m.version);

/** Clean-content controls with docs/message-content.md defaults. */
export function readCleanOptions(p: Params, defaultMax: number): CleanOptions {
  return {
    part: p.enum('part', ['auto', 'text', 'html'] as const) ?? 'auto',
    max_body_chars: p.int('max_body_chars', { min: 1, max: 1_000_000, default: defaultMax }) ?? defaultMax,
    strip_signature: p.bool('strip_signature') ?? true,
    strip_quotes: p.bool('strip_quotes') ?? true,
    include_links: p.bool('include_links') ?? true,
    include_html: p.bool('include_html') ?? false,
    include_headers: p.enum('include_headers', ['none', 'selected', 'full'] as const) ?? 'selected',
    include_attachments: p.enum('include_attachments', ['none', 'metadata'] as const) ?? 'metadata',
  };
}

/** if_in_state (docs/search-and-batch.md): a stale token is a 409 and nothing changes. */
function checkInState(ctx: SimContext, ifInState: unknown): void {
  if (typeof ifInState !== 'string') return;
  const current = ctx.store.state('messages');
  if (ifInState === current) return;
  const check = ctx.store.log.check('messages', ifInState);
  if (check.kind === 'malformed') throw invalidParam('if_in_state', 'if_in_state is not a message state token.');
  throw conflict('The mailbox changed since if_in_state; pull changes and retry.', 'if_in_state');
}

const listMessages: Handler = (req, ctx) => {
  const p = req.query;
  const limit = p.int('limit', { min: 1, max: 100, default: 50 }) ?? 50;
  const filter = readMessageFilter(p, { allowThread: true });
  const sort = readMessageSort(p);
  // docs/search-and-batch.md: thread_id lists use the thread's message order.
  const effective = filter.thread_id !== undefined && !p.has('sort_by') ? { by: 'received_at' as const, direction: p.enum('sort_direction', ['asc', 'desc'] as const) ?? 'asc' } : sort;
  const result = ctx.listing.sortedMessages(filter, effective);
  return messagePage(ctx, result, ctx.listing.messageKey(filter, effective), p.str('cursor'), limit);
};

/** One page of summaries from a sorted result, with the documented pagination object. */
export function messagePage(ctx: SimContext, result: SortedResult, key: string, cursor: string | undefined, limit: number): Reply {
  const page = pageOf(result, key, cursor, limit);
  const data = page.ids.map((id) => ctx.store.messages.get(id)?.summary).filter((s) => s !== undefined);
  return json(data, { pagination: page.nextCursor ? { has_more: true, next_cursor: page.nextCursor } : { has_more: false } });
}

const countMessages: Handler = (req, ctx) => {
  const filter = readMessageFilter(req.query, { allowThread: true });
  return json({ total: ctx.listing.countMessages(filter), sync_state: ctx.store.state('messages') });
};

const queryChanges: Handler = (req, ctx) => {
  const p = req.query;
  const filter = readMessageFilter(p, { allowThread: false });
  const sort = readMessageSort(p);
  const limit = p.int('limit', { min: 1, max: 500, default: 500 }) ?? 500;
  const upToId = p.str('up_to_id');
  const since = p.str('since_query_state');
  const result = ctx.listing.sortedMessages(filter, sort);
  const data = ctx.messageQueries.changes(ctx.listing.messageKey(filter, sort), result, String(ctx.store.log.seqOf('messages')), since, {
    limit,
    calculateTotal: p.bool('calculate_total') ?? false,
    ...(upToId !== undefined ? { upToId } : {}),
  });
  return json(data);
};

function mark(text: string | null, needle: string | undefined): string | null {
  if (text === null || !needle) return text;
  const re = new RegExp(needle.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi');
  return text.replace(re, (m) => `<mark>${m}</mark>`);
}

const searchSnippets: Handler = (req, ctx) => {
  const p = req.query;
  const q = p.str('q', { required: true }) as string;
  if (q.trim() === '') throw invalidParam('q', 'q must not be empty.');
  const ids = p.list('message_ids', { max: 100 });
  const limit = p.int('limit', { min: 1, max: 100, default: 50 }) ?? 50;
  const filter = readMessageFilter(p, { allowThread: false });
  const notFoundIds: string[] = [];
  let hits: MessageRecord[];
  if (ids) {
    hits = [];
    for (const id of ids) {
      const m = ctx.store.messages.get(id);
      if (m) hits.push(m);
      else notFoundIds.push(id);
    }
  } else {
    const result = ctx.listing.sortedMessages(filter, { by: 'received_at', direction: 'desc' });
    hits = result.ids.slice(0, limit).map((id) => ctx.store.messages.get(id)).filter((m): m is MessageRecord => m !== undefined);
  }
  const snippets = hits.map((m) => ({ message_id: m.summary.id, subject: mark(m.summary.subject, q), preview: mark(m.summary.preview, q) }));
  return json({ snippets, not_found: notFoundIds, sync_state: ctx.store.state('messages') });
};

const batchGet: Handler = (req, ctx) => {
  const b = parseJsonBody(req.body, BODY.batchGet);
  const ids = b.ids as string[];
  const mode = (b.body_mode as string | undefined) ?? 'none';
  const part = (b.part as string | undefined) ?? (mode === 'raw' ? 'both' : 'auto');
  if (mode === 'clean_json' && part === 'both') throw invalidParam('part', 'part=both is only available with body_mode=raw.');
  const max = (b.max_body_chars as number | undefined) ?? 100_000;
  const clean: CleanOptions = {
    part: part === 'both' ? 'auto' : (part as CleanOptions['part']),
    max_body_chars: max,
    strip_signature: (b.strip_signature as boolean | undefined) ?? true,
    strip_quotes: (b.strip_quotes as boolean | undefined) ?? true,
    include_links: (b.include_links as boolean | undefined) ?? true,
    include_html: (b.include_html as boolean | undefined) ?? false,
    include_headers: (b.include_headers as CleanOptions['include_headers'] | undefined) ?? 'selected',
    include_attachments: (b.include_attachments as CleanOptions['include_attachments'] | undefined) ?? 'metadata',
  };
  const messages: unknown[] = [];
  const missing: string[] = [];
  for (const id of ids) {
    const m = ctx.store.messages.get(id);
    if (!m) {
      if (!missing.includes(id)) missing.push(id);
      continue;
    }
    messages.push({
      message: m.summary,
      raw_body: mode === 'raw' ? ctx.content.raw(m, part === 'auto' ? 'both' : (part as 'text' | 'html' | 'both'), max) : null,
      content: mode === 'clean_json' ? ctx.content.clean(m, clean) : null,
    });
  }
  return json({ messages, not_found: missing, states: { email_state: ctx.store.state('messages') } });
};

const batchUpdate: Handler = (req, ctx) => {
  const b = parseJsonBody(req.body, BODY.batchUpdate);
  const patch: FlagPatch = {};
  if (typeof b.seen === 'boolean') patch.seen = b.seen;
  if (typeof b.flagged === 'boolean') patch.flagged = b.flagged;
  if (b.keywords !== undefined) patch.keywords = b.keywords as Record<string, boolean>;
  checkInState(ctx, b.if_in_state);
  const oldState = ctx.store.state('messages');
  const r = ctx.store.setFlags(b.ids as string[], patch);
  return json({ updated: r.updated, not_found: r.notFound, failed: [], states: { old_state: oldState, new_state: ctx.store.state('messages') } });
};

const batchDelete: Handler = (req, ctx) => {
  const b = parseJsonBody(req.body, BODY.batchDelete);
  checkInState(ctx, b.if_in_state);
  const oldState = ctx.store.state('messages');
  const ids = b.ids as string[];
  const r = b.permanent === true ? ctx.store.destroy(ids) : ctx.store.trash(ids);
  return json({ deleted: r.deleted, not_found: r.notFound, failed: [], states: { old_state: oldState, new_state: ctx.store.state('messages') } });
};

const getMessage: Handler = (req, ctx) => {
  const m = findMessage(ctx, req.pathParams.message_id ?? '');
  return json(ctx.content.detail(m), { etag: messageEtag(m) });
};

const getBody: Handler = (req, ctx) => {
  const m = findMessage(ctx, req.pathParams.message_id ?? '');
  const part = req.query.enum('part', ['text', 'html', 'both'] as const) ?? 'both';
  const max = req.query.int('max_body_chars', { min: 1, max: 1_000_000, default: 100_000 }) ?? 100_000;
  return json(ctx.content.raw(m, part, max), { etag: weakEtag('body', m.summary.id, `${m.version}-${part}-${max}`) });
};

const getContent: Handler = (req, ctx) => {
  const m = findMessage(ctx, req.pathParams.message_id ?? '');
  const o = readCleanOptions(req.query, 100_000);
  return json(ctx.content.clean(m, o), { etag: weakEtag('content', m.summary.id, `${m.version}-${hash32(JSON.stringify(o))}`) });
};

const patchMessage: Handler = (req, ctx) => {
  const m = findMessage(ctx, req.pathParams.message_id ?? '');
  const b = parseJsonBody(req.body, BODY.patchMessage);
  checkIfMatch(req, messageEtag(m));
  const patch: FlagPatch = {};
  if (typeof b.seen === 'boolean') patch.seen = b.seen;
  if (typeof b.flagged === 'boolean') patch.flagged = b.flagged;
  if (b.keywords !== undefined) patch.keywords = b.keywords as Record<string, boolean>;
  ctx.store.setFlags([m.summary.id], patch);
  return json(ctx.content.detail(m), { etag: messageEtag(m) });
};

const deleteMessage: Handler = (req, ctx) => {
  const m = findMessage(ctx, req.pathParams.message_id ?? '');
  const permanent = req.query.bool('permanent') ?? false;
  checkIfMatch(req, messageEtag(m));
  if (permanent) ctx.store.destroy([m.summary.id]);
  else ctx.store.trash([m.summary.id]);
  return json({ deleted: true, id: m.summary.id });
};

/** Parses `Range: bytes=a-b | a- | -n`; anything else, or unsatisfiable, is a 400. */
export function parseRange(header: string, size: number): { start: number; end: number } {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  const bad = () => invalidParam('Range', `Invalid or unsatisfiable Range header for a ${size}-byte attachment.`);
  if (!m || (m[1] === '' && m[2] === '')) throw bad();
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) throw bad();
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) throw bad();
  return { start, end };
}

/** Also reachable without Authorization through the metadata's download_url. */
export const downloadAttachment: Handler = (req, ctx) => {
  const m = findMessage(ctx, req.pathParams.message_id ?? '');
  const att = ctx.content.attachmentBytes(m, req.pathParams.attachment_id ?? '');
  if (!att) throw notFound('Attachment', 'attachment_id');
  const headers: Record<string, string> = {
    'Content-Type': att.contentType,
    'Accept-Ranges': 'bytes',
    'Content-Disposition': `attachment; filename="${(att.filename ?? 'attachment').replace(/"/g, '')}"`,
  };
  const range = req.headers.range;
  if (range === undefined) return { kind: 'bytes', status: 200, bytes: att.bytes, headers };
  const { start, end } = parseRange(range, att.bytes.length);
  headers['Content-Range'] = `bytes ${start}-${end}/${att.bytes.length}`;
  return { kind: 'bytes', status: 206, bytes: att.bytes.subarray(start, end + 1), headers };
};

/** True when `token` is the download token of that attachment. */
export function validDownloadToken(req: SimRequest): boolean {
  const t = req.query.str('download_token');
  return t !== undefined && t === downloadToken(req.pathParams.message_id ?? '', req.pathParams.attachment_id ?? '');
}

export const messageRoutes: Array<[string, string, Handler]> = [
  ['GET', '/mailbox/messages', listMessages],
  ['POST', '/mailbox/messages:batch-get', batchGet],
  ['POST', '/mailbox/messages:batch-update', batchUpdate],
  ['POST', '/mailbox/messages:batch-delete', batchDelete],
  ['GET', '/mailbox/messages/count', countMessages],
  ['GET', '/mailbox/messages/query-changes', queryChanges],
  ['GET', '/mailbox/messages/search-snippets', searchSnippets],
  ['GET', '/mailbox/messages/{message_id}', getMessage],
  ['PATCH', '/mailbox/messages/{message_id}', patchMessage],
  ['DELETE', '/mailbox/messages/{message_id}', deleteMessage],
  ['GET', '/mailbox/messages/{message_id}/body', getBody],
  ['GET', '/mailbox/messages/{message_id}/content', getContent],
  ['GET', '/mailbox/messages/{message_id}/attachments/{attachment_id}', downloadAttachment],
];

