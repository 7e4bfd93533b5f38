// The life of one send in the outbox, as data plus a pure reducer (STYLE.md: state
// machines are data plus pure functions). The queue (send.ts) is the effectful shell
// that turns network outcomes into these events and persists the result.
//
//   pending ──attempt──▶ sending ──sent──▶ acked
//      ▲                    │
//      ├──────paused────────┤  (401: as it was, once the key works again)
//      └──────retry─────────┤  (network, 5xx, 429: same Idempotency-Key, later)
//                           └──rejected──▶ failed ──resume──▶ pending (user asked)
import type { components } from '../api/schema.js';
import type { OutboxEntry, OutboxStatus } from '../store/db.js';

/** The JSON body of `POST /mailbox/messages/send`. */
export type SendRequestBody = components['schemas']['SendMailboxMessageBody'];
/** An address as the API takes it. */
export type SendAddress = components['schemas']['MailboxAddress'];

/** An attachment as stored in the outbox: raw bytes until uploaded, then the blob id. */
export interface StoredAttachment {
  filename: string;
  content_type: string;
  /** Bytes still to upload (dropped once `blob_id` is known). */
  bytes?: Uint8Array;
  /** Blob id from `POST /mailbox/attachments:upload`. */
  blob_id?: string;
  /** Small inline base64 content, sent as is. */
  content?: string;
}

/** The fields of a send shared by drafts as given ({@link SendDraft}) and as stored. */
export interface DraftFields {
  to: SendAddress[];
  cc?: SendAddress[];
  bcc?: SendAddress[];
  reply_to?: SendAddress[];
  /** Default: the mailbox's identity (`GET /mailbox/identity`). */
  from?: SendAddress;
  subject: string;
  text_body?: string;
  html_body?: string;
  custom_headers?: Record<string, string>;
  /** Messages this send depends on locally (the one replied to or forwarded): their cached content stays pinned until the send settles. */
  related_message_ids?: string[];
}

/** A draft as stored (attachments normalised to {@link StoredAttachment}). */
export interface StoredDraft extends DraftFields {
  attachments: StoredAttachment[];
}

/** Why a send failed for good (server's code and message). */
export interface SendFailure {
  code: string;
  message: string;
  status: number;
}

/** The send-specific part of an outbox entry of kind 'send'. */
export interface SendIntent {
  /** docs/idempotency.md: one key per logical send, reused on every retry, kept across reloads. */
  idempotency_key: string;
  draft: StoredDraft;
  /**
   * The exact request body, frozen before the first attempt (identity defaults and
   * blob ids applied) so every retry sends the same body: a different body under the
   * same key is a 409 idempotency_conflict.
   */
  request?: SendRequestBody;
  /** Resulting message id (`SendMailboxMessageResult.message_id`). */
  message_id?: string;
  /** Submission of that message (`GET /mailbox/submissions?email_ids=`), when found. */
  submission_id?: string;
  /** Last failure: retried (status pending) or final (status failed). */
  error?: SendFailure;
  /** Earliest time of the next attempt (ms since epoch). */
  next_attempt_at?: number;
  /**
   * Not sent before this time (ms since epoch): the send delay of "undo send"
   * (`send(draft, { delayMs })`). Persisted, so a reload keeps holding it; until it is
   * sent, `discardSend(seq)` cancels it without the server ever seeing it.
   */
  hold_until?: number;
  /** Time of the acknowledgement. */
  acked_at?: number;
}

declare module '../store/db.js' {
  interface OutboxEntry {
    /** Present on entries of kind 'send' (src/content/send.ts). */
    send?: SendIntent;
  }
}

/** An outbox entry of kind 'send'. */
export type SendEntry = OutboxEntry & { kind: 'send'; send: SendIntent };

/** Everything that happens to a send. */
export type SendEvent =
  | { type: 'attempt'; at: number }
  | { type: 'uploaded'; index: number; blob_id: string }
  | { type: 'frozen'; request: SendRequestBody }
  | { type: 'sent'; at: number; message_id: string }
  | { type: 'linked'; submission_id: string }
  | { type: 'retry'; at: number; error: SendFailure; next_attempt_at: number }
  /** 401: back to pending as it was (the attempt not counted) until the key works again. */
  | { type: 'paused'; error: SendFailure }
  | { type: 'rejected'; error: SendFailure }
  | { type: 'resume' }
  /** Found in 'sending' at start-up: the tab that sent it is gone; try again (same key). */
  | { type: 'recover' };

/** When a pending send may be attempted: after its backoff and after its send delay. */
export function sendDueAt(entry: SendEntry): number {
  return Math.max(entry.send.next_attempt_at ?? 0, entry.send.hold_until ?? 0);
}

/** Whether `entry` is a send entry. */
export function isSendEntry(entry: OutboxEntry): entry is SendEntry {
  return entry.kind === 'send' && entry.send !== undefined;
}

/** The next state of a send entry. Events that do not apply to the current status leave it unchanged. */
export function reduceSend(entry: SendEntry, event: SendEvent): SendEntry {
  const s = entry.send;
  const to = (status: OutboxStatus, send: SendIntent, attempts = entry.attempts): SendEntry => ({ ...entry, status, attempts, send });
  switch (event.type) {
    case 'attempt': {
      if (entry.status !== 'pending' || (s.hold_until ?? 0) > event.at) return entry;
      const { next_attempt_at: _n, ...rest } = s;
      return to('sending', rest, entry.attempts + 1);
    }
    case 'uploaded': {
      const attachments = s.draft.attachments.map((a, i) => {
        if (i !== event.index) return a;
        const { bytes: _b, ...kept } = a;
        return { ...kept, blob_id: event.blob_id };
      });
      return { ...entry, send: { ...s, draft: { ...s.draft, attachments } } };
    }
    case 'frozen':
      return s.request ? entry : { ...entry, send: { ...s, request: event.request } };
    case 'sent': {
      if (entry.status === 'acked') return entry;
      const { error: _e, next_attempt_at: _n, ...rest } = s;
      return to('acked', { ...rest, message_id: event.message_id, acked_at: event.at });
    }
    case 'linked':
      return { ...entry, send: { ...s, submission_id: event.submission_id } };
    case 'retry':
      if (entry.status !== 'sending') return entry;
      return to('pending', { ...s, error: event.error, next_attempt_at: event.next_attempt_at });
    case 'paused': {
      if (entry.status !== 'sending') return entry;
      const { next_attempt_at: _n, ...rest } = s;
      return to('pending', { ...rest, error: event.error }, Math.max(0, entry.attempts - 1));
    }
    case 'rejected':
      if (entry.status === 'acked') return entry;
      return to('failed', { ...s, error: event.error });
    case 'resume': {
      if (entry.status !== 'failed') return entry;
      const { error: _e, next_attempt_at: _n, ...rest } = s;
      return to('pending', rest);
    }
    case 'recover':
      return entry.status === 'sending' ? to('pending', s) : entry;
  }
}

/** Builds the request body from a draft and the default identity (docs/operations-and-usage.md). */
export function buildSendRequest(draft: StoredDraft, identity: { email: string; name: string; reply_to: SendAddress[]; bcc: SendAddress[] } | undefined): SendRequestBody {
  const body: SendRequestBody = { to: draft.to, subject: draft.subject };
  const from = draft.from ?? (identity ? { email: identity.email, name: identity.name === '' ? null : identity.name } : undefined);
  if (from) body.from = from;
  if (draft.cc?.length) body.cc = draft.cc;
  const bcc = draft.bcc ?? (identity?.bcc.length ? identity.bcc : undefined);
  if (bcc?.length) body.bcc = bcc;
  const replyTo = draft.reply_to ?? (identity?.reply_to.length ? identity.reply_to : undefined);
  if (replyTo?.length) body.reply_to = replyTo;
  // Signatures are not added here: the identity's signatures are appended by the
  // server to Mailbox API sends (UpdateMailboxIdentityBody.text_signature/html_signature).
  if (draft.text_body !== undefined) body.text_body = draft.text_body;
  if (draft.html_body !== undefined) body.html_body = draft.html_body;
  if (draft.custom_headers && Object.keys(draft.custom_headers).length > 0) body.custom_headers = draft.custom_headers;
  if (draft.attachments.length > 0) {
    body.attachments = draft.attachments.map((a) => {
      if (a.blob_id) return { filename: a.filename, content_type: a.content_type, blob_id: a.blob_id };
      if (a.content !== undefined) return { filename: a.filename, content_type: a.content_type, content: a.content };
      throw new Error(`attachment ${a.filename} has neither a blob id nor inline content; upload it first`);
    });
  }
  return body;
}
