// What the CLI's commands and the MCP server's tools do, once: each operation reads
// or changes the replica through the engine and returns plain JSON that names
// message and thread ids. Mutations, drafts and sends are written to the audit log.
import { randomUUID } from 'node:crypto';
import { filter, firstValueFrom, timeout } from 'rxjs';
import type { AuditEntry, Folder, LocalDraft, MailboxSync, Message, MessagePatch, MutationOutcome, SyncStatus } from '../index.js';
import { decodeCursor, encodeCursor, type NewsCursor } from './cursor.js';
import { CliError, usageError } from './errors.js';

/** A message as agents see it: small, with ids and folder names. */
export interface MessageSummary {
  id: string;
  thread_id: string | null;
  folders: string[];
  folder_ids: string[];
  received_at: string | null;
  from: string;
  to: string[];
  subject: string;
  preview: string;
  unread: boolean;
  flagged: boolean;
  labels: string[];
  has_attachments: boolean;
}

function address(a: { email: string; name?: string | null } | null | undefined): string {
  if (!a) return '';
  return a.name ? `${a.name} <${a.email}>` : a.email;
}

export function summarize(m: Message, folders: ReadonlyMap<string, Folder>): MessageSummary {
  return {
    id: m.id,
    thread_id: m.thread_id ?? null,
    folders: m.folder_ids.map((id) => folders.get(id)?.name ?? id),
    folder_ids: [...m.folder_ids],
    received_at: m.received_at ?? null,
    from: address(m.from),
    to: (m.to ?? []).map(address),
    subject: m.subject ?? '',
    preview: m.preview ?? '',
    unread: !m.flags.seen,
    flagged: !!m.flags.flagged,
    labels: m.keywords.filter((k) => !k.startsWith('$')),
    has_attachments: !!m.has_attachments,
  };
}

/** The engine and who acts through it (`cli` or `mcp`), for the audit log. */
export interface Ops {
  sync: MailboxSync;
  actor: string;
}

export async function folderMap(sync: MailboxSync): Promise<Map<string, Folder>> {
  return new Map((await firstValueFrom(sync.folders$())).map((f) => [f.id, f]));
}

/** A folder by id, role or name (case-insensitive). */
export function resolveFolder(folders: ReadonlyMap<string, Folder>, name: string): Folder {
  const n = name.toLowerCase();
  const all = [...folders.values()];
  const found = folders.get(name) ?? all.find((f) => f.role?.toLowerCase() === n) ?? all.find((f) => f.name.toLowerCase() === n);
  if (!found) throw usageError(`no folder "${name}"; folders: ${all.map((f) => f.role ?? f.name).join(', ')}`);
  return found;
}

export interface FolderRow {
  id: string;
  name: string;
  role: string | null;
  parent_id: string | null;
  total: number;
  unread: number;
}

export async function listFolders(ops: Ops): Promise<FolderRow[]> {
  const folders = await firstValueFrom(ops.sync.folders$());
  return folders.map((f) => ({ id: f.id, name: f.name, role: f.role ?? null, parent_id: f.parent_id ?? null, total: f.total_messages, unread: f.unread_messages }));
}

export interface ListOptions {
  folder?: string;
  unread?: boolean;
  limit: number;
  offset?: number;
}

export async function listMessages(ops: Ops, o: ListOptions): Promise<{ messages: MessageSummary[]; total: number }> {
  const folders = await folderMap(ops.sync);
  const folderId = o.folder ? resolveFolder(folders, o.folder).id : undefined;
  const query = { ...(folderId ? { folderId } : {}), ...(o.unread ? { unread: true } : {}) };
  const [rows, total] = await Promise.all([
    firstValueFrom(ops.sync.messages$({ ...query, limit: o.limit, offset: o.offset ?? 0 })),
    firstValueFrom(ops.sync.count$(query)),
  ]);
  return { messages: rows.map((m) => summarize(m, folders)), total };
}

export async function searchMessages(ops: Ops, text: string, limit: number): Promise<{ messages: Array<MessageSummary & { snippet?: string }> }> {
  if (!text.trim()) throw usageError('search needs a query, e.g. search "from:ada is:unread invoice"');
  const folders = await folderMap(ops.sync);
  const state = await firstValueFrom(ops.sync.search$(text, { server: false, limit }));
  return {
    messages: state.hits.slice(0, limit).map((m) => {
      const s = state.snippets[m.id];
      return { ...summarize(m, folders), ...(s ? { snippet: s.text } : {}) };
    }),
  };
}

async function messageOrFail(sync: MailboxSync, id: string): Promise<Message> {
  const m = await firstValueFrom(sync.message$(id));
  if (!m) throw new CliError(`no message "${id}" in the replica: take ids from list, search or whats_new`, 1, 'not_found');
  return m;
}

export interface ReadResult {
  message: MessageSummary;
  cc: string[];
  format: 'text' | 'html';
  body: string;
  truncated: boolean;
}

/**
 * The message's body. Text by default (the API's clean text). `html` gives the API's
 * clean HTML sanitized with the engine's sanitizer, which needs a DOM: jsdom when it
 * is installed; without it the HTML is refused rather than printed unsanitized. A
 * message with no HTML part gives its text, with `format: 'text'`.
 */
export async function readMessage(ops: Ops, id: string, options: { html?: boolean } = {}): Promise<ReadResult> {
  const m = await messageOrFail(ops.sync, id);
  const folders = await folderMap(ops.sync);
  const state = await firstValueFrom(
    ops.sync.content$(id, options.html ? { part: 'html', include_html: true } : { part: 'text' }).pipe(filter((s) => s.status !== 'loading')),
  );
  if (state.status === 'error') throw new CliError(`cannot load the body of ${id}: ${state.error.message}`, 1, 'content_failed');
  if (state.status !== 'ready') throw new CliError(`cannot load the body of ${id}`);
  const b = state.content.body;
  let body = b.text ?? '';
  let format: 'text' | 'html' = 'text';
  // A message without an HTML part reads as its text (`format` says which).
  if (options.html && b.html) {
    body = await sanitized(b.html);
    format = 'html';
  }
  return { message: summarize(m, folders), cc: (m.cc ?? []).map(address), format, body, truncated: b.is_truncated };
}

async function sanitized(html: string): Promise<string> {
  const { sanitizeHtml } = await import('../index.js');
  let JSDOM: (new (html: string) => { window: unknown }) | undefined;
  try {
    ({ JSDOM } = (await import('jsdom' as string)) as { JSDOM: new (html: string) => { window: unknown } });
  } catch {
    throw new CliError('--html needs a DOM to sanitize with: npm install jsdom (or read the text, the default)', 1, 'no_dom');
  }
  return sanitizeHtml(html, { window: new JSDOM('').window as never }).html;
}

export async function readThread(ops: Ops, id: string): Promise<{ thread_id: string; subject: string; messages: MessageSummary[] }> {
  // A message id names its thread too.
  let threadId = id;
  const asMessage = await firstValueFrom(ops.sync.message$(id));
  if (asMessage?.thread_id) threadId = asMessage.thread_id;
  const t = await firstValueFrom(ops.sync.thread$(threadId));
  if (!t) throw new CliError(`no thread "${id}" in the replica: pass a thread_id or a message id from list or search`, 1, 'not_found');
  const folders = await folderMap(ops.sync);
  return { thread_id: t.thread.id, subject: t.thread.subject ?? '', messages: t.messages.map((m) => summarize(m, folders)) };
}

export interface MutationResult {
  action: string;
  results: MutationOutcome[];
  ok: boolean;
}

async function audited<T>(ops: Ops, action: string, ids: string[], detail: Record<string, unknown>, run: () => Promise<T>, outcomeOf: (r: T) => AuditEntry['outcome']): Promise<T> {
  try {
    const r = await run();
    await ops.sync.audit.record({ actor: ops.actor, action, ids, detail, outcome: outcomeOf(r) });
    return r;
  } catch (error) {
    await ops.sync.audit.record({ actor: ops.actor, action, ids, detail, outcome: 'error', error: error instanceof Error ? error.message : String(error) }).catch(() => undefined);
    throw error;
  }
}

const outcomeOfMutation = (r: MutationResult): AuditEntry['outcome'] => (r.ok ? 'ok' : r.results.some((o) => o.status !== 'rolled_back') ? 'partial' : 'error');

async function checkIds(sync: MailboxSync, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) throw usageError('give at least one message id');
  for (const id of ids) await messageOrFail(sync, id);
}

export async function mark(ops: Ops, ids: string[], patch: MessagePatch): Promise<MutationResult> {
  if (patch.seen === undefined && patch.flagged === undefined && !patch.keywords) throw usageError('mark needs --read, --unread, --flag, --unflag, --label or --unlabel');
  await checkIds(ops.sync, ids);
  return audited(ops, 'mark', ids, { patch }, async () => {
    const results = await ops.sync.update(ids, patch);
    return { action: 'mark', results, ok: results.every((o) => o.status !== 'rolled_back') };
  }, outcomeOfMutation);
}

/** The API moves messages only to Trash (batch-delete); other folders are refused. */
export async function move(ops: Ops, ids: string[], to: string): Promise<MutationResult> {
  const folders = await folderMap(ops.sync);
  const folder = resolveFolder(folders, to);
  if (folder.role !== 'trash') {
    throw new CliError(`cannot move to "${folder.name}": the Sendmux Mailbox API has no folder move (only to Trash); use --to trash, or a label (mark --label ${folder.name.toLowerCase()})`, 1, 'unsupported');
  }
  return trash(ops, ids);
}

export async function trash(ops: Ops, ids: string[]): Promise<MutationResult> {
  await checkIds(ops.sync, ids);
  return audited(ops, 'trash', ids, {}, async () => {
    const results = await ops.sync.remove(ids);
    return { action: 'trash', results, ok: results.every((o) => o.status !== 'rolled_back') };
  }, outcomeOfMutation);
}

export const ARCHIVE_UNSUPPORTED =
  'archive is not possible: the Sendmux Mailbox API cannot move messages between folders (only to Trash). Use trash, or mark --label archived';

function parseAddresses(list: readonly string[]): Array<{ email: string; name: string | null }> {
  return list.flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean).map((s) => {
    const m = /^(.*)<([^>]+)>$/.exec(s);
    const email = (m ? m[2] : s)?.trim() ?? '';
    if (!/^[^@\s]+@[^@\s]+$/.test(email)) throw usageError(`"${s}" is not an email address`);
    return { email, name: m?.[1]?.trim().replace(/^"|"$/g, '') || null };
  });
}

export async function draftReply(ops: Ops, id: string, o: { text: string; all?: boolean }): Promise<LocalDraft> {
  const m = await messageOrFail(ops.sync, id);
  const replyTo = m.from ? [{ email: m.from.email, name: m.from.name ?? null }] : [];
  if (replyTo.length === 0) throw new CliError(`message ${id} has no sender to reply to`, 1, 'no_sender');
  const cc = o.all ? [...(m.to ?? []), ...(m.cc ?? [])].map((a) => ({ email: a.email, name: a.name ?? null })).filter((a) => a.email !== replyTo[0]?.email) : [];
  const subject = /^re:/i.test(m.subject ?? '') ? (m.subject ?? '') : `Re: ${m.subject ?? ''}`;
  return newDraft(ops, 'draft_reply', { in_reply_to: id, thread_id: m.thread_id, to: replyTo, cc, subject, text_body: o.text });
}

export async function draftNew(ops: Ops, o: { to: string[]; cc?: string[]; subject: string; text: string }): Promise<LocalDraft> {
  const to = parseAddresses(o.to);
  if (to.length === 0) throw usageError('give a recipient: --to ada@example.com');
  return newDraft(ops, 'draft', { in_reply_to: null, thread_id: null, to, cc: parseAddresses(o.cc ?? []), subject: o.subject, text_body: o.text });
}

async function newDraft(ops: Ops, action: string, fields: Pick<LocalDraft, 'in_reply_to' | 'thread_id' | 'to' | 'cc' | 'subject' | 'text_body'>): Promise<LocalDraft> {
  const now = Date.now();
  const draft: LocalDraft = { id: `drf_${randomUUID().replace(/-/g, '').slice(0, 20)}`, created_at: now, updated_at: now, status: 'draft', ...fields };
  return audited(ops, action, [draft.id, ...(fields.in_reply_to ? [fields.in_reply_to] : [])], { to: draft.to.map((a) => a.email), subject: draft.subject }, async () => ops.sync.drafts.save(draft), () => 'ok');
}

export interface SendResult {
  draft: LocalDraft;
  sent: boolean;
  status: LocalDraft['status'];
  message_id: string | null;
  note?: string;
}

/** Sends a draft when allowed; otherwise leaves it and says so (audited as `held`). */
export async function sendDraft(ops: Ops, draftId: string, allowed: boolean, why: string, waitMs = 30_000): Promise<SendResult> {
  const draft = await ops.sync.drafts.get(draftId);
  if (!draft) throw new CliError(`no draft "${draftId}": make one with draft_reply (CLI: reply <id> or send --to …)`, 1, 'not_found');
  if (draft.status !== 'draft') return { draft, sent: draft.status === 'sent', status: draft.status, message_id: draft.message_id ?? null, note: `already ${draft.status}` };
  if (!allowed) {
    await ops.sync.audit.record({ actor: ops.actor, action: 'send', ids: [draftId], outcome: 'held', error: why });
    return { draft, sent: false, status: 'draft', message_id: null, note: why };
  }
  return audited(ops, 'send', [draftId], { to: draft.to.map((a) => a.email), subject: draft.subject }, async () => {
    const { idempotency_key } = await ops.sync.send({
      to: draft.to,
      ...(draft.cc.length ? { cc: draft.cc } : {}),
      subject: draft.subject,
      text_body: draft.text_body,
      ...(draft.in_reply_to ? { related_message_ids: [draft.in_reply_to] } : {}),
    });
    let next: LocalDraft = { ...draft, status: 'queued', idempotency_key, updated_at: Date.now() };
    await ops.sync.drafts.save(next);
    const outcome = await firstValueFrom(ops.sync.sendOutcomes$.pipe(filter((o) => o.idempotency_key === idempotency_key), timeout(waitMs))).catch(() => undefined);
    if (outcome?.status === 'failed') next = { ...next, status: 'failed', error: outcome.error.message, updated_at: Date.now() };
    else if (outcome) next = { ...next, status: 'sent', message_id: outcome.message_id, updated_at: Date.now() };
    await ops.sync.drafts.save(next);
    if (next.status === 'failed') throw new CliError(`the server refused the send: ${next.error ?? 'failed'}`, 1, 'send_failed');
    return { draft: next, sent: next.status === 'sent', status: next.status, message_id: next.message_id ?? null, ...(outcome ? {} : { note: 'queued in the outbox; not confirmed yet' }) };
  }, (r) => (r.sent ? 'ok' : 'partial'));
}

export interface WhatsNew {
  cursor: string;
  messages: MessageSummary[];
  has_more: boolean;
}

/**
 * Mail received since `cursor` (oldest first), at most `limit`, and the cursor to pass
 * next time. Without a cursor: no messages, and the cursor of now. Mail is "new" by
 * its received time; flag changes are not news.
 */
export async function whatsNew(ops: Ops, cursorText: string | undefined, limit: number): Promise<WhatsNew> {
  const folders = await folderMap(ops.sync);
  if (!cursorText) {
    const [newest] = await firstValueFrom(ops.sync.messages$({ limit: 1 }));
    const t = newest?.received_at ? Date.parse(newest.received_at) : 0;
    const ids = t ? (await firstValueFrom(ops.sync.messages$({ after: t, sortBy: 'received_at', direction: 'asc' }))).map((m) => m.id) : [];
    return { cursor: encodeCursor({ t, ids }), messages: [], has_more: false };
  }
  const c = decodeCursor(cursorText);
  if (!c) throw usageError(`"${cursorText}" is not a cursor of this replica: call without one to get the current cursor`);
  const seen = new Set(c.ids);
  const rows = await firstValueFrom(ops.sync.messages$({ after: c.t, sortBy: 'received_at', direction: 'asc', limit: limit + seen.size + 1 }));
  const fresh = rows.filter((m) => !(seen.has(m.id) && Date.parse(m.received_at ?? '') === c.t));
  const page = fresh.slice(0, limit);
  let next: NewsCursor = c;
  const last = page[page.length - 1];
  if (last) {
    const t = Date.parse(last.received_at ?? '') || c.t;
    const atT = page.filter((m) => Date.parse(m.received_at ?? '') === t).map((m) => m.id);
    next = { t, ids: t === c.t ? [...c.ids, ...atT] : atT };
  }
  return { cursor: encodeCursor(next), messages: page.map((m) => summarize(m, folders)), has_more: fresh.length > limit };
}

export interface StatusRow {
  mailbox_id: string;
  replica: string;
  phase: SyncStatus['phase'];
  leader: boolean;
  push: SyncStatus['push'];
  last_synced_at: string | null;
  pending_mutations: number;
  messages: number;
  unread: number;
  folders: number;
  drafts: number;
}

export async function status(ops: Ops, mailboxId: string, replica: string): Promise<StatusRow> {
  const s = await firstValueFrom(ops.sync.status$);
  const [messages, unread, folders, drafts] = await Promise.all([
    firstValueFrom(ops.sync.count$()),
    firstValueFrom(ops.sync.count$({ unread: true })),
    firstValueFrom(ops.sync.folders$()),
    ops.sync.drafts.list(),
  ]);
  return {
    mailbox_id: mailboxId,
    replica,
    phase: s.phase,
    leader: s.leader,
    push: s.push,
    last_synced_at: s.lastSyncedAt ? new Date(s.lastSyncedAt).toISOString() : null,
    pending_mutations: s.pendingMutations,
    messages,
    unread,
    folders: folders.length,
    drafts: drafts.filter((d) => d.status === 'draft').length,
  };
}
