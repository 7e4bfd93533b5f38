// createContentService: message content for the app — clean content and raw bodies
// as loading → ready | error observables over the body cache, thread content,
// attachments, prefetch, and pins. Integration point for createMailboxSync (the
// engine passes its client, a content database and its error sink).
import { Observable, Subject, filter, takeUntil } from 'rxjs';
import type { Attachment, MailboxApi, MessageContent, RawBody } from '../api/index.js';
import type { BodyRow, ContentDb } from '../store/contentDb.js';
import { AttachmentStore, DEFAULT_ATTACHMENT_BUDGET_BYTES } from './attachments.js';
import type { AttachmentCounters, AttachmentFile, AttachmentReadOptions } from './attachments.js';
import { BodyCache, DEFAULT_BODY_BUDGET_BYTES, keyOf } from './bodies.js';
import type { BodyReadOptions, BodySource } from './bodies.js';
import { ContentError } from './errors.js';
import { BodyFetcher, toContentError } from './fetchBodies.js';
import type { BodyRequest, Priority } from './fetchBodies.js';
import { normalizeContentParams, normalizeRawParams } from './params.js';
import type { ContentParams, RawBodyParams, RawPart } from './params.js';
import { PinSet } from './pins.js';
import { threadContent$ } from './threadContent.js';
import type { ThreadContentOptions, ThreadContentState } from './threadContent.js';

/** Clean content of one message (the API's MailboxMessageContent). */
export type MessageContentData = NonNullable<MessageContent>;
/** Raw body of one message (the API's MailboxRawBody). */
export type RawBodyData = NonNullable<RawBody>;

/** What content$ / rawBody$ emit: `loading`, then `ready` (again on each newer body) or `error`. */
export type ContentState<T> =
  | { status: 'loading' }
  | { status: 'ready'; content: T; source: BodySource; fetched_at: number }
  | { status: 'error'; error: ContentError };

/** Options of content$: the API's clean-content controls (snake_case, passed through) plus read options. */
export interface ContentReadOptions extends ContentParams, BodyReadOptions {}
/** Options of rawBody$: the API's raw-body controls plus read options. */
export interface RawBodyReadOptions extends RawBodyParams, BodyReadOptions {}

/** Options of {@link createContentService}. */
export interface ContentServiceOptions {
  /** The Mailbox API client (rate limiter, retries and ETag cache come with it). */
  api: MailboxApi;
  /** The content database of this mailbox (`new ContentDb(defaultContentDbName(mailboxId), { indexedDB, IDBKeyRange })`). */
  db: ContentDb;
  /** Body cache budget in bytes (UTF-8 JSON size). Default 50 MiB. */
  bodyBudgetBytes?: number;
  /** Attachment cache budget in bytes. Default 100 MiB. */
  attachmentBudgetBytes?: number;
  /** Clock. Default `Date.now`. */
  now?: () => number;
  /** Batching window for body fetches ("same tick"). Default `setTimeout(fn, 0)`. */
  schedule?: (fn: () => void) => void;
  /** fetch for attachment `download_url`s (no credentials). Default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Attachment metadata known locally (e.g. from the replica), tried before `GET /messages/{id}`. */
  lookupAttachment?: (messageId: string, attachmentId: string) => Promise<Attachment | undefined>;
  /** What {@link ContentService.attachment} resolves to. Default 'blob' where `document` exists, else 'bytes'. */
  attachmentOutput?: 'blob' | 'bytes';
  /** Background failures (prefetch, revalidation, eviction). Also on `errors$`. */
  onError?: (error: ContentError) => void;
  /** Overrides of the attachment downloader (attempts, sleep); for tests. */
  attachmentRetry?: { maxAttempts?: number; sleep?: (ms: number, signal?: AbortSignal) => Promise<void> };
}

/** Request counters (tests and diagnostics). */
export interface ContentStats {
  bodyBytes: number;
  attachmentBytes: number;
  bodyRequests: BodyFetcher['counters'];
  attachmentRequests: AttachmentCounters;
  pinned: string[];
}

/** Message content, attachments and prefetch over one mailbox. */
export interface ContentService {
  /** Clean content of a message, from the cache or fetched (batched with other reads of the same tick). Pins the message while subscribed. */
  content$(messageId: string, options?: ContentReadOptions): Observable<ContentState<MessageContentData>>;
  /** Raw body of a message (`part` 'text' | 'html' | 'both', default 'both'). Pins the message while subscribed. */
  rawBody$(messageId: string, part?: RawPart | RawBodyReadOptions): Observable<ContentState<RawBodyData>>;
  /** One-shot clean content (throws ContentError). */
  getContent(messageId: string, options?: ContentReadOptions): Promise<MessageContentData>;
  /** One-shot raw body (throws ContentError). */
  getRawBody(messageId: string, part?: RawPart | RawBodyReadOptions): Promise<RawBodyData>;
  /** Clean content of every message of a thread, page by page (`/threads/{id}/content`), cached per message. */
  threadContent$(threadId: string, options?: ThreadContentOptions): Observable<ThreadContentState>;
  /** An attachment's bytes: Blob in browsers, Uint8Array in Node (see `attachmentOutput`). Cached within its budget; interrupted downloads resume with Range. */
  attachment(messageId: string, attachmentId: string, options?: AttachmentReadOptions): Promise<Blob | Uint8Array>;
  /** An attachment's bytes with its content type and filename. */
  attachmentFile(messageId: string, attachmentId: string, options?: AttachmentReadOptions): Promise<AttachmentFile>;
  /** Fetches (background priority, batched) the bodies of these messages that are not cached; resolves with how many were fetched. */
  prefetch(messageIds: readonly string[], options?: ContentParams & { priority?: Priority }): Promise<number>;
  /** Keeps these messages' cached content from eviction (reference counted). */
  pin(messageIds: readonly string[]): void;
  /** Releases pins taken with {@link pin}. */
  unpin(messageIds: readonly string[]): void;
  /** Drops all cached content of these messages (call when they are destroyed). */
  forget(messageIds: readonly string[]): Promise<void>;
  /** Background failures. */
  readonly errors$: Observable<ContentError>;
  /** Cache sizes and request counters. */
  stats(): Promise<ContentStats>;
  /**
   * Storage pressure: evicts every cached body and attachment no view or pending send
   * pins, whatever the budgets, so the replica can be written. Returns the bytes freed.
   */
  relieve(): Promise<number>;
  /** Completes every observable and rejects queued requests. Does not close `db`. */
  stop(): void;
}

/**
 * Creates the content service.
 *
 * ```ts
 * const db = new ContentDb(defaultContentDbName(mailboxId), { indexedDB, IDBKeyRange });
 * const content = createContentService({ api, db, onError: (e) => errors$.next(e) });
 * content.content$(id, { include_html: true }).subscribe((s) => s.status === 'ready' && render(s.content));
 * ```
 */
export function createContentService(options: ContentServiceOptions): ContentService {
  const now = options.now ?? Date.now;
  const pins = new PinSet();
  const errors = new Subject<ContentError>();
  const stop$ = new Subject<void>();
  let stopped = false;
  const onError = (e: ContentError) => {
    options.onError?.(e);
    errors.next(e);
  };
  const fetcher = new BodyFetcher({ api: options.api, ...(options.schedule ? { schedule: options.schedule } : {}) });
  const bodies = new BodyCache({
    db: options.db,
    fetcher,
    pins,
    budgetBytes: options.bodyBudgetBytes ?? DEFAULT_BODY_BUDGET_BYTES,
    now,
    onError,
  });
  const attachments = new AttachmentStore({
    db: options.db,
    api: options.api,
    pins,
    budgetBytes: options.attachmentBudgetBytes ?? DEFAULT_ATTACHMENT_BUDGET_BYTES,
    now,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.lookupAttachment ? { lookupAttachment: options.lookupAttachment } : {}),
    ...(options.attachmentRetry?.maxAttempts ? { maxAttempts: options.attachmentRetry.maxAttempts } : {}),
    ...(options.attachmentRetry?.sleep ? { sleep: options.attachmentRetry.sleep } : {}),
  });
  const output = options.attachmentOutput ?? (typeof (globalThis as { document?: unknown }).document === 'undefined' ? 'bytes' : 'blob');

  const assertRunning = () => {
    if (stopped) throw new ContentError('stopped', 'content service stopped');
  };

  function body$<T>(request: BodyRequest, read: BodyReadOptions): Observable<ContentState<T>> {
    const key = keyOf(request);
    const ready = (row: BodyRow, source: BodySource): ContentState<T> => ({ status: 'ready', content: row.data as T, source, fetched_at: row.fetched_at });
    return new Observable<ContentState<T>>((subscriber) => {
      if (stopped) {
        subscriber.next({ status: 'error', error: new ContentError('stopped', 'content service stopped') });
        subscriber.complete();
        return undefined;
      }
      // A visible view needs this message: keep its content out of eviction.
      pins.pin([request.messageId]);
      subscriber.next({ status: 'loading' });
      let last: BodyRow | undefined;
      const updates = bodies.updates.pipe(filter((row) => row.key === key)).subscribe((row) => {
        if (row === last) return;
        last = row;
        subscriber.next(ready(row, 'network'));
      });
      bodies.read(request, read).then(
        ({ row, source }) => {
          if (subscriber.closed || last !== undefined) return;
          last = row;
          subscriber.next(ready(row, source));
        },
        (error: unknown) => {
          if (subscriber.closed) return;
          subscriber.next({ status: 'error', error: toContentError(error, `reading ${request.kind} of ${request.messageId}`) });
          subscriber.complete();
        },
      );
      return () => {
        updates.unsubscribe();
        pins.unpin([request.messageId]);
      };
    }).pipe(takeUntil(stop$));
  }

  const contentRequest = (messageId: string, o: ContentReadOptions = {}): { request: BodyRequest; read: BodyReadOptions } => {
    const { maxAgeMs, priority, ...params } = o;
    return {
      request: { kind: 'content', messageId, params: normalizeContentParams(params) },
      read: { ...(maxAgeMs !== undefined ? { maxAgeMs } : {}), ...(priority ? { priority } : {}) },
    };
  };
  const rawRequest = (messageId: string, part: RawPart | RawBodyReadOptions = {}): { request: BodyRequest; read: BodyReadOptions } => {
    const o: RawBodyReadOptions = typeof part === 'string' ? { part } : part;
    const { maxAgeMs, priority, ...params } = o;
    return {
      request: { kind: 'raw', messageId, params: normalizeRawParams(params) },
      read: { ...(maxAgeMs !== undefined ? { maxAgeMs } : {}), ...(priority ? { priority } : {}) },
    };
  };

  return {
    content$(messageId, o) {
      const { request, read } = contentRequest(messageId, o);
      return body$<MessageContentData>(request, read);
    },
    rawBody$(messageId, part) {
      const { request, read } = rawRequest(messageId, part);
      return body$<RawBodyData>(request, read);
    },
    async getContent(messageId, o) {
      assertRunning();
      const { request, read } = contentRequest(messageId, o);
      const { row } = await bodies.read(request, read);
      return row.data as MessageContentData;
    },
    async getRawBody(messageId, part) {
      assertRunning();
      const { request, read } = rawRequest(messageId, part);
      const { row } = await bodies.read(request, read);
      return row.data as RawBodyData;
    },
    threadContent$(threadId, o) {
      return threadContent$({ api: options.api, bodies }, threadId, o).pipe(takeUntil(stop$));
    },
    async attachment(messageId, attachmentId, o) {
      assertRunning();
      const file = await attachments.get(messageId, attachmentId, o);
      if (output === 'bytes') return file.bytes;
      return new Blob([file.bytes as Uint8Array<ArrayBuffer>], { type: file.content_type ?? 'application/octet-stream' });
    },
    attachmentFile(messageId, attachmentId, o) {
      assertRunning();
      return attachments.get(messageId, attachmentId, o);
    },
    prefetch(messageIds, o = {}) {
      assertRunning();
      const { priority = 'background', ...params } = o;
      const normalized = normalizeContentParams(params);
      return bodies.fill(
        [...new Set(messageIds)].map((messageId) => ({ kind: 'content', messageId, params: normalized })),
        priority,
      );
    },
    pin: (ids) => pins.pin(ids),
    unpin: (ids) => pins.unpin(ids),
    async forget(messageIds) {
      await bodies.forgetMessages(messageIds);
      await attachments.forgetMessages(messageIds);
    },
    errors$: errors.asObservable(),
    async relieve() {
      return (await bodies.relieve()) + (await attachments.relieve());
    },
    async stats() {
      return {
        bodyBytes: await bodies.totalBytes(),
        attachmentBytes: await attachments.totalBytes(),
        bodyRequests: { ...fetcher.counters },
        attachmentRequests: { ...attachments.counters },
        pinned: pins.ids(),
      };
    },
    stop() {
      if (stopped) return;
      stopped = true;
      fetcher.stop();
      stop$.next();
      stop$.complete();
      errors.complete();
      bodies.updates.complete();
    },
  };
}

export { DEFAULT_ATTACHMENT_BUDGET_BYTES, DEFAULT_BODY_BUDGET_BYTES };
