// Mailbox-level endpoints: session, me, granted mailboxes, identities, submissions,
// quotas, usage, sending (with Idempotency-Key) and attachment uploads.
import { createHash } from 'node:crypto';
import { BODY, parseJsonBody, toAddress } from './bodies.js';
import { SimError, invalidParam, notFound } from './errors.js';
import { json, weakEtag, type Handler, type JsonReply, type SimContext } from './http.js';
import { pageSorted } from './query.js';
import type { OutgoingMessage } from './store.js';
import type { Quota, Session, Submission } from './types.js';
import { OBJECT_TYPES } from './types.js';

export const LIMITS = {
  list_limit_max: 100,
  changes_limit_max: 500,
  batch_ids_max: 100,
  message_body_chars_default: 100_000,
  thread_body_chars_default: 25_000,
  body_chars_max: 1_000_000,
  inline_attachment_bytes_max: 5_000_000,
  attachment_upload_bytes_max: 7_500_000,
  outbound_raw_message_bytes_max: 26_214_400,
  keywords_per_update_max: 50,
};

function session(ctx: SimContext): Session {
  const s = ctx.store;
  return {
    mailbox: { id: s.mailboxId, email: s.email, display_name: 'Agent' },
    states: Object.fromEntries(OBJECT_TYPES.map((t) => [t, s.state(t)])) as Session['states'],
    capabilities: {
      messages: { list: true, detail: true, raw_body: true, clean_content: true, batch_get: true, count: true, search_snippets: true, changes: true, query_changes: true, update_fields: ['seen', 'flagged', 'keywords'], keywords: true, batch_update: true, delete: true, permanent_delete: true },
      threads: { list: true, detail: true, messages: true, clean_content: true, changes: true },
      folders: { list: true, detail: true, create: true, update: true, delete: true, changes: true, query_changes: true },
      submissions: { list: true, detail: true, changes: true, send: true },
      identities: { list: true, changes: true, create: false, update: true, delete: false },
      quotas: { list: true, usage: true, changes: true, update: false },
      attachments: { upload: true, download: true, range_download: true, metadata: true, parsing: false, send_with_uploaded_blob: true },
      sync: { typed_changes: true, types: [...OBJECT_TYPES], query_changes: ['messages', 'folders'] },
    },
    limits: LIMITS,
    gated: {
      identity_mutation: false,
      quota_mutation: true,
      vacation_response: true,
      filter_script_writes: true,
      events: !ctx.options.eventsEnabled,
      raw_protocol: true,
      attachment_parsing: true,
      message_copy: true,
      message_import: true,
      message_parse: true,
      blob_lookup: true,
      blob_copy: true,
    },
    endpoints: {
      mailbox: ['/mailbox/me', '/mailbox/session', '/mailbox/identity', '/mailbox/identities', '/mailbox/mailboxes'],
      messages: ['/mailbox/messages', '/mailbox/messages:batch-get', '/mailbox/messages:batch-update', '/mailbox/messages:batch-delete', '/mailbox/messages/count', '/mailbox/messages/query-changes', '/mailbox/messages/search-snippets', '/mailbox/messages/send'],
      threads: ['/mailbox/threads'],
      folders: ['/mailbox/folders', '/mailbox/folders/changes', '/mailbox/folders/query-changes'],
      submissions: ['/mailbox/submissions', '/mailbox/submissions/changes'],
      usage: ['/mailbox/quotas', '/mailbox/quotas/changes', '/mailbox/usage'],
      sync: ['/mailbox/changes', '/mailbox/events'],
    },
  };
}

const getSession: Handler = (_req, ctx) => {
  const data = session(ctx);
  return json(data, { etag: weakEtag('session', ctx.store.mailboxId, createHash('sha1').update(JSON.stringify(data)).digest('hex').slice(0, 16)) });
};

function me(ctx: SimContext) {
  const s = ctx.store;
  const storage = [...s.quotas.values()].find((q) => q.record.resource_type === 'octets');
  return {
    id: s.mailboxId,
    email: s.email,
    display_name: 'Agent',
    quota_bytes: storage?.record.hard_limit ?? null,
    send_scope: { type: 'all' as const },
    status: 'active',
    created_at: s.createdAt,
    quota_used_bytes: storage?.record.used ?? 0,
  };
}

const getMe: Handler = (_req, ctx) => {
  const data = me(ctx);
  return json(data, { etag: weakEtag('me', data.id, data.quota_used_bytes) });
};

const listMailboxes: Handler = (req, ctx) => {
  const q = req.query.str('q')?.toLowerCase();
  const limit = req.query.int('limit', { min: 1, max: 100, default: 50 }) ?? 50;
  const all = [{ id: ctx.store.mailboxId, email: ctx.store.email }].filter((m) => q === undefined || m.id.toLowerCase().includes(q) || m.email.toLowerCase().includes(q));
  const page = pageSorted(all, `mailboxes|${q ?? ''}`, req.query.str('cursor'), limit, (m) => m.id, (m) => m.email);
  return json(page.items, { pagination: page.nextCursor ? { has_more: true, next_cursor: page.nextCursor } : { has_more: false } });
};

// The spec documents no ETag/304 for the identity, so none is sent.
const getIdentity: Handler = (_req, ctx) => json(ctx.store.defaultIdentity().record);

const patchIdentity: Handler = (req, ctx) => {
  const b = parseJsonBody(req.body, BODY.updateIdentity);
  if (typeof b.name === 'string' && b.name.trim() === '') {
    throw new SimError(422, 'validation_error', 'The sender name must not be blank.', { param: 'name', errors: [{ field: 'name', code: 'blank', message: 'The sender name must not be blank.' }] });
  }
  const patch: { name?: string | null; text_signature?: string | null; html_signature?: string | null } = {};
  for (const k of ['name', 'text_signature', 'html_signature'] as const) if (b[k] !== undefined) patch[k] = b[k] as string | null;
  const identity = ctx.store.updateIdentity(patch);
  return json(identity);
};

const listIdentities: Handler = (req, ctx) => {
  const limit = req.query.int('limit', { min: 1, max: 100, default: 50 }) ?? 50;
  const page = pageSorted([...ctx.store.identities.values()].map((i) => i.record), 'identities', req.query.str('cursor'), limit, (i) => i.id, (i) => i.email);
  return json(page.items, { pagination: page.nextCursor ? { has_more: true, next_cursor: page.nextCursor } : { has_more: false } });
};

const listSubmissions: Handler = (req, ctx) => {
  const p = req.query;
  const limit = p.int('limit', { min: 1, max: 100, default: 50 }) ?? 50;
  const identityIds = p.list('identity_ids', { max: 100 });
  const emailIds = p.list('email_ids', { max: 100 });
  const threadIds = p.list('thread_ids', { max: 100 });
  const undo = p.enum('undo_status', ['pending', 'final', 'canceled'] as const);
  const after = p.date('after');
  const before = p.date('before');
  const sortBy = p.enum('sort_by', ['send_at', 'email_id', 'thread_id'] as const) ?? 'send_at';
  const dir = p.enum('sort_direction', ['asc', 'desc'] as const) ?? 'desc';
  const rows = [...ctx.store.submissions.values()].map((s) => s.record).filter((s) => {
    if (identityIds && !identityIds.includes(s.identity_id ?? '')) return false;
    if (emailIds && !emailIds.includes(s.email_id ?? '')) return false;
    if (threadIds && !threadIds.includes(s.thread_id ?? '')) return false;
    if (undo && s.undo_status !== undo) return false;
    const at = s.send_at ? Date.parse(s.send_at) : 0;
    if (after !== undefined && at < after) return false;
    if (before !== undefined && at >= before) return false;
    return true;
  });
  const key = (s: Submission) => (sortBy === 'send_at' ? s.send_at ?? '' : sortBy === 'email_id' ? s.email_id ?? '' : s.thread_id ?? '');
  const page = pageSorted(rows, `submissions|${JSON.stringify([identityIds, emailIds, threadIds, undo, after, before, sortBy, dir])}`, p.str('cursor'), limit, (s) => s.id, key, dir);
  return json(page.items, { pagination: page.nextCursor ? { has_more: true, next_cursor: page.nextCursor } : { has_more: false } });
};

const getSubmission: Handler = (req, ctx) => {
  const s = ctx.store.submissions.get(req.pathParams.submission_id ?? '');
  if (!s) throw notFound('Submission', 'submission_id');
  return json(s.record, { etag: weakEtag('sub', s.record.id, s.version) });
};

const listQuotas: Handler = (req, ctx) => {
  const p = req.query;
  const limit = p.int('limit', { min: 1, max: 100, default: 50 }) ?? 50;
  const name = p.str('name')?.toLowerCase();
  const scope = p.enum('scope', ['account', 'domain', 'global'] as const);
  const resourceType = p.enum('resource_type', ['count', 'octets'] as const);
  const type = p.str('type');
  const sortBy = p.enum('sort_by', ['name', 'used'] as const) ?? 'name';
  const dir = p.enum('sort_direction', ['asc', 'desc'] as const) ?? 'asc';
  const rows = [...ctx.store.quotas.values()].map((q) => q.record).filter((q) => (name === undefined || q.name.toLowerCase().includes(name)) && (scope === undefined || q.scope === scope) && (resourceType === undefined || q.resource_type === resourceType) && (type === undefined || q.types.includes(type)));
  const key = (q: Quota) => (sortBy === 'name' ? q.name.toLowerCase() : q.used);
  const page = pageSorted(rows, `quotas|${JSON.stringify([name, scope, resourceType, type, sortBy, dir])}`, p.str('cursor'), limit, (q) => q.id, key, dir);
  return json(page.items, { pagination: page.nextCursor ? { has_more: true, next_cursor: page.nextCursor } : { has_more: false } });
};

const getUsage: Handler = (_req, ctx) => {
  const resources = [...ctx.store.quotas.values()].map(({ record: q }) => {
    const pct = q.hard_limit > 0 ? Math.round((q.used / q.hard_limit) * 10_000) / 100 : null;
    const status = q.used >= q.hard_limit ? 'hard_limit' : q.soft_limit !== null && q.used >= q.soft_limit ? 'soft_limit' : q.warn_limit !== null && q.used >= q.warn_limit ? 'warning' : 'ok';
    return { quota_id: q.id, name: q.name, resource_type: q.resource_type, scope: q.scope, types: q.types, used: q.used, hard_limit: q.hard_limit, warn_limit: q.warn_limit, soft_limit: q.soft_limit, percent_used: pct, limit_status: status };
  });
  const state = ctx.store.state('quotas');
  return json({ resources, states: { quota_state: state } }, { etag: weakEtag('usage', ctx.store.mailboxId, state) });
};

/** Canonical JSON (sorted keys) so equal bodies fingerprint equally. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

const sendMessage: Handler = (req, ctx) => {
  const header = req.headers['idempotency-key'];
  const key = Array.isArray(header) ? header[0] : header;
  if (key !== undefined && (key.length < 1 || key.length > 255)) throw invalidParam('Idempotency-Key', 'Idempotency-Key must be 1–255 characters.');
  if (req.body.length > LIMITS.outbound_raw_message_bytes_max) throw new SimError(413, 'payload_too_large', 'The message exceeds the 25 MB raw message limit.');
  const b = parseJsonBody(req.body, BODY.send, LIMITS.outbound_raw_message_bytes_max);
  // docs/idempotency.md: same key + same body replays; a different body is a 409.
  const fingerprint = createHash('sha256').update(canonical(b)).digest('hex');
  if (key !== undefined) {
    const prior = ctx.idempotency.get(key);
    if (prior) {
      if (prior.fingerprint !== fingerprint) throw new SimError(409, 'idempotency_conflict', 'This Idempotency-Key was used with a different request body.', { param: 'Idempotency-Key' });
      return prior.reply;
    }
  }
  if (b.text_body === undefined && b.html_body === undefined) {
    throw new SimError(422, 'validation_error', 'A message needs text_body or html_body.', { param: 'text_body', errors: [{ field: 'text_body', code: 'required', message: 'A message needs text_body or html_body.' }] });
  }
  const attachments = (b.attachments as OutgoingMessage['attachments']) ?? [];
  for (const a of attachments) {
    if (a.content !== undefined && Buffer.byteLength(a.content, 'base64') > LIMITS.inline_attachment_bytes_max) throw new SimError(413, 'payload_too_large', `Inline attachment ${a.filename} exceeds ${LIMITS.inline_attachment_bytes_max} bytes; upload it first.`, { param: 'attachments' });
  }
  const addresses = (k: string) => (b[k] === undefined ? undefined : (b[k] as unknown[]).map(toAddress));
  const out: OutgoingMessage = { to: addresses('to') ?? [], subject: b.subject as string, attachments };
  for (const k of ['cc', 'bcc', 'reply_to'] as const) {
    const v = addresses(k);
    if (v) out[k] = v;
  }
  if (b.from !== undefined) out.from = toAddress(b.from);
  if (typeof b.text_body === 'string') out.text_body = b.text_body;
  if (typeof b.html_body === 'string') out.html_body = b.html_body;
  if (b.custom_headers !== undefined) out.custom_headers = b.custom_headers as Record<string, string>;
  const { message } = ctx.store.send(out);
  const reply: JsonReply = json({ message_id: message.summary.id, status: 'queued' });
  if (key !== undefined) ctx.idempotency.set(key, { fingerprint, reply });
  return reply;
};

const uploadAttachment: Handler = (req, ctx) => {
  const filename = req.query.str('filename', { required: true }) as string;
  if (filename.trim() === '') throw invalidParam('filename', 'filename must not be empty.');
  if (req.body.length > LIMITS.attachment_upload_bytes_max) throw new SimError(413, 'payload_too_large', `Attachments are limited to ${LIMITS.attachment_upload_bytes_max} bytes.`);
  if (req.body.length === 0) throw invalidParam('body', 'The upload is empty.');
  const contentType = (req.headers['content-type'] ?? 'application/octet-stream').split(';')[0]?.trim() || 'application/octet-stream';
  const blobId = ctx.store.newId('blob_');
  ctx.store.blobs.set(blobId, { bytes: new Uint8Array(req.body), filename, content_type: contentType });
  return json({ blob_id: blobId, filename, content_type: contentType, size_bytes: req.body.length });
};

const createUploadIntent: Handler = (req, ctx) => {
  const b = parseJsonBody(req.body, BODY.uploadIntent);
  const size = b.size_bytes as number;
  if (size > LIMITS.attachment_upload_bytes_max) throw new SimError(413, 'payload_too_large', `Attachments are limited to ${LIMITS.attachment_upload_bytes_max} bytes.`, { param: 'size_bytes' });
  const uploadId = ctx.store.newId('upl_');
  const expiresAt = ctx.store.now() + 15 * 60_000;
  ctx.uploads.set(uploadId, { filename: b.filename as string, content_type: b.content_type as string, size_bytes: size, expiresAt });
  const origin = new URL(ctx.options.baseUrl()).origin;
  return json({
    upload_id: uploadId,
    upload_url: `${origin}/__uploads/${uploadId}?signature=${createHash('sha1').update(uploadId).digest('hex').slice(0, 20)}`,
    method: 'PUT',
    expires_at: new Date(expiresAt).toISOString(),
    headers: { 'Content-Type': b.content_type as string, 'Content-Length': String(size) },
    max_size_bytes: LIMITS.attachment_upload_bytes_max,
  });
};

export const accountRoutes: Array<[string, string, Handler]> = [
  ['GET', '/mailbox/session', getSession],
  ['GET', '/mailbox/me', getMe],
  ['GET', '/mailbox/mailboxes', listMailboxes],
  ['GET', '/mailbox/identity', getIdentity],
  ['PATCH', '/mailbox/identity', patchIdentity],
  ['GET', '/mailbox/identities', listIdentities],
  ['GET', '/mailbox/submissions', listSubmissions],
  ['GET', '/mailbox/submissions/{submission_id}', getSubmission],
  ['GET', '/mailbox/quotas', listQuotas],
  ['GET', '/mailbox/usage', getUsage],
  ['POST', '/mailbox/messages/send', sendMessage],
  ['POST', '/mailbox/attachments:upload', uploadAttachment],
  ['POST', '/mailbox/attachment-uploads', createUploadIntent],
];
