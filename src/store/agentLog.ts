// What an agent did, and what it has not sent yet: the audit log and local drafts,
// kept in the replica beside the mailbox (DESIGN.md "Agents: the CLI and the MCP
// server"). The Mailbox API has no drafts, so a draft lives here until it is sent.
// Neither table is touched by the sync; clearing the replica clears them too.
import type { MailboxDb } from './db.js';

/** One recorded act of an agent (a mutation, a draft, a send), with its outcome. */
export interface AuditEntry {
  /** Auto-incremented; the log's order. */
  seq?: number;
  /** When it happened (ms since epoch). */
  at: number;
  /** Who acted: `cli`, `mcp`, or an app's own name. */
  actor: string;
  /** What was done, e.g. `mark`, `trash`, `draft_reply`, `send`. */
  action: string;
  /** Message ids it touched (or the draft's id for draft acts). */
  ids: string[];
  /** The request's parameters (never a credential). */
  detail?: Record<string, unknown>;
  /** `ok`, `partial` (some ids refused), `error`, or `held` (e.g. a send left as a draft). */
  outcome: 'ok' | 'partial' | 'error' | 'held';
  /** Why it failed or was held. */
  error?: string;
}

/** An address of a draft. */
export interface DraftAddress {
  email: string;
  name: string | null;
}

/** A local draft (the API keeps none): what `send` will send. */
export interface LocalDraft {
  /** `drf_…`, made locally. */
  id: string;
  created_at: number;
  updated_at: number;
  /** `draft` until sent; `queued` once handed to the outbox; `sent` when the server has it; `failed` when refused. */
  status: 'draft' | 'queued' | 'sent' | 'failed';
  /** The message replied to, if any. */
  in_reply_to: string | null;
  /** Its thread, if any. */
  thread_id: string | null;
  to: DraftAddress[];
  cc: DraftAddress[];
  subject: string;
  text_body: string;
  /** Set once sent: the server's message id. */
  message_id?: string;
  /** The send's Idempotency-Key once queued. */
  idempotency_key?: string;
  /** Why the send failed. */
  error?: string;
}

/** Appends one entry to the audit log; resolves with its `seq`. */
export async function appendAudit(db: MailboxDb, entry: Omit<AuditEntry, 'seq'>): Promise<AuditEntry> {
  const row: AuditEntry = { ...entry };
  const seq = await db.audit.add(row);
  return { ...row, seq };
}

/** Audit entries after `afterSeq` (default: from the start), oldest first, at most `limit`. */
export async function readAudit(db: MailboxDb, options: { afterSeq?: number; limit?: number } = {}): Promise<AuditEntry[]> {
  const limit = options.limit ?? 100;
  return db.audit
    .where('seq')
    .above(options.afterSeq ?? 0)
    .limit(limit)
    .toArray();
}

/** The newest `limit` audit entries, oldest first. */
export async function lastAudit(db: MailboxDb, limit: number): Promise<AuditEntry[]> {
  return (await db.audit.orderBy('seq').reverse().limit(limit).toArray()).reverse();
}

/** Writes a draft (insert or replace). */
export async function putDraft(db: MailboxDb, draft: LocalDraft): Promise<void> {
  await db.drafts.put(draft);
}

/** One draft, or undefined. */
export async function getDraft(db: MailboxDb, id: string): Promise<LocalDraft | undefined> {
  return db.drafts.get(id);
}

/** Every draft, most recently updated first. */
export async function listDrafts(db: MailboxDb): Promise<LocalDraft[]> {
  return db.drafts.orderBy('updated_at').reverse().toArray();
}

/** Deletes a draft. */
export async function deleteDraft(db: MailboxDb, id: string): Promise<void> {
  await db.drafts.delete(id);
}
