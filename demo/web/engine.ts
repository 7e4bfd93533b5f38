// The slice of the sync engine (`createMailboxSync` from src/index.ts) the web
// client uses. Components depend on this interface only, so it documents exactly
// what a mail UI needs from the engine.
import type { Observable } from 'rxjs';
import type { Draft, Folder, Identity, Message } from './types.js';

export interface MailQuery {
  folderId?: string;
  threadId?: string;
  unread?: boolean;
  flagged?: boolean;
  keyword?: string;
  hasAttachment?: boolean;
  sortBy?: 'received_at' | 'sent_at' | 'subject' | 'from' | 'size_bytes';
  direction?: 'asc' | 'desc';
  limit?: number;
  offset?: number;
}

export type Phase = 'idle' | 'bootstrapping' | 'catching_up' | 'live' | 'offline' | 'error';

/** State of the event stream (the engine's `status$.push`). */
export type PushState = 'off' | 'connecting' | 'connected' | 'unavailable';

/** What the status bar shows (the engine's `status$`, plus the platform's online signal). */
export interface EngineStatus {
  phase: Phase;
  push: PushState;
  /** The error behind an offline or error phase. */
  error: { code: string; message: string; retryable: boolean } | null;
  /** 'unauthorized' while a rejected key holds the network until syncNow(). */
  paused: 'unauthorized' | null;
  /** The platform's signal (navigator.onLine). */
  online: boolean;
  progress: { done: number; total: number | null } | null;
  lastSyncedAt: number | null;
  pendingMutations: number;
  /** Sends waiting in the outbox (null when the engine does not report it). */
  outbox: number | null;
  role: 'leader' | 'follower' | null;
}

/** A background failure the user should see (with a way to retry). */
export interface EngineError {
  message: string;
  code: string;
  /** The engine retries it by itself (backoff); a Retry button just does it now. */
  retryable: boolean;
}

export type ContentState =
  | { state: 'loading' }
  | { state: 'ready'; html: string | null; text: string | null }
  | { state: 'error'; message: string };

/** The fate of one id of one mutation (src/store/outbox.ts MutationOutcome). */
export interface MutationOutcome {
  id: string;
  status: 'applied' | 'rebased' | 'rolled_back';
  reason?: string;
  error?: { code: string; message: string };
}

/** A send waiting in the outbox. */
export interface OutboxItem {
  seq: number;
  status: 'pending' | 'sending' | 'failed';
  subject: string;
  to: string;
  error: string | null;
}

/** What search shows. */
export interface SearchResult {
  hits: Message[];
  localHits: number;
  server: 'loading' | 'ready' | 'off';
}

/** A draft to send: the API's fields, attachments as bytes (the engine uploads them). */
export type SendDraft = Omit<Draft, 'attachments'> & {
  related_message_ids?: string[];
  attachments?: { filename: string; content_type: string; data: Blob }[];
};

/** Flag/keyword patch of `update()` (absolute values). */
export interface MessagePatch {
  seen?: boolean;
  flagged?: boolean;
  /** keyword → true sets it, false clears it (the API's batch-update shape). */
  keywords?: Record<string, boolean>;
}

/**
 * Engine capabilities the UI uses. The optional groups are null when the engine
 * build does not provide them yet; the UI then disables the matching controls
 * instead of imitating them.
 */
export interface MailEngine {
  status$: Observable<EngineStatus>;
  errors$: Observable<EngineError>;
  folders$(): Observable<Folder[]>;
  messages$(query: MailQuery): Observable<Message[]>;
  message$(id: string): Observable<Message | null>;
  count$(query: MailQuery): Observable<number>;
  /** A query's ids in order (keys only: the length and order of a 100k list in one read). */
  messageIds$(query: MailQuery): Observable<string[]>;
  /** The messages of a conversation (thread), oldest first. */
  threadMessages$(threadId: string): Observable<Message[]>;
  /** These messages in this order (undefined where absent). */
  messagesById$(ids: readonly string[]): Observable<(Message | undefined)[]>;
  /**
   * Optimistic, durable mutations (the outbox): the views change at once; the
   * promise settles with one outcome per id once the server acknowledged or
   * refused (then the local effect is rolled back).
   */
  mutations: {
    update(ids: string[], patch: MessagePatch): Promise<MutationOutcome[]>;
    remove(ids: string[], options?: { permanent?: boolean }): Promise<MutationOutcome[]>;
  } | null;
  /** Message bodies (cached or fetched). */
  content$: ((id: string) => Observable<ContentState>) | null;
  /** Attachment bytes through the authenticated endpoint. */
  attachment: ((messageId: string, attachmentId: string) => Promise<Blob>) | null;
  /** Sending: queue a draft (durable at once), the queue itself, and its failures. */
  sending: {
    /** Queues a send; resolves with its outbox sequence number once it is durable. */
    send(draft: SendDraft): Promise<number>;
    /** Sends not yet delivered, oldest first. */
    outbox$: Observable<OutboxItem[]>;
    /** What became of each send: delivered, or failed for good (shown with Retry). */
    outcomes$: Observable<{ seq: number; status: 'sent' } | { seq: number; status: 'failed'; message: string }>;
    retry(seq: number): Promise<void>;
    discard(seq: number): Promise<boolean>;
  } | null;
  /** Local hits at once, server hits merged as they arrive (the engine's search$). */
  search$: ((text: string) => Observable<SearchResult>) | null;
  /** `sanitizeHtml` from src/content: inert HTML, remote images removed and counted. */
  sanitize(
    html: string,
    options?: { resolveCid?: (contentId: string) => string | undefined; allowRemoteImages?: boolean },
  ): { html: string; blockedRemoteImages: number };
  /** The mailbox's sending identities (from the replica). */
  identities(): Promise<Identity[]>;
  syncNow(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}
