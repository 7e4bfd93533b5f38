// Shared types for the simulator: the API's own record shapes (generated from the
// spec) plus the internal bookkeeping the simulator keeps beside them.
import type { components } from '../api/schema.js';

type S = components['schemas'];

export type Address = S['MailboxAddress'];
export type Attachment = S['MailboxAttachment'];
export type MessageSummary = S['MailboxMessageSummary'];
export type MessageDetail = S['MailboxMessage'];
export type ThreadSummary = S['MailboxThreadSummary'];
export type ThreadDetail = S['MailboxThread'];
export type Folder = S['MailboxFolder'];
export type Identity = S['MailboxIdentity'];
export type Quota = S['MailboxQuota'];
export type Submission = S['MailboxSubmission'];
export type Session = S['MailboxSession'];
export type Changes = S['MailboxChanges'];
export type RealtimeEvent = S['MailboxRealtimeEvent'];
export type RealtimeMessage = S['MailboxRealtimeMessage'];
export type MessageContent = NonNullable<S['MailboxMessageContent']>;
export type RawBody = NonNullable<S['MailboxRawBody']>;
export type ContentHeaders = S['MailboxContentHeaders'];

/** The six record families that carry their own state token (docs/sync.md). */
export type ObjectType = 'messages' | 'folders' | 'threads' | 'submissions' | 'identities' | 'quotas';
export const OBJECT_TYPES: readonly ObjectType[] = ['messages', 'folders', 'threads', 'submissions', 'identities', 'quotas'];

/** Attachment metadata plus where its bytes come from. */
export interface StoredAttachment {
  meta: Attachment;
  /** Explicit bytes (uploads, sends, control deliveries); otherwise derived from `seed`. */
  bytes?: Uint8Array;
  seed: number;
}

/** One message as the simulator stores it: the API summary plus what is derived lazily. */
export interface MessageRecord {
  summary: MessageSummary;
  /** Milliseconds since epoch of received_at / sent_at (sorting without reparsing). */
  receivedMs: number;
  sentMs: number;
  /** Seed for lazily generated bodies; ignored when `text`/`html` are set explicitly. */
  seed: number;
  text?: string | null;
  html?: string | null;
  /** Preview of the message this one replies to, quoted in generated bodies (fixed at creation). */
  quoted?: string | null;
  attachments: StoredAttachment[];
  rfc822Id: string;
  inReplyTo: string | null;
  references: string[];
  replyTo: Address[];
  /** Extra headers (name, value), e.g. List-Id; the standard ones are derived. */
  extraHeaders: { name: string; value: string }[];
  /** Bumped on every change; feeds the weak ETag. */
  version: number;
}

export interface ThreadRecord {
  id: string;
  /** Message ids in chronological order (received_at, then id). */
  messageIds: string[];
  version: number;
}

export interface FolderRecord {
  folder: Folder;
  version: number;
}
