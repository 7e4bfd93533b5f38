// Attachment downloads with Range resume and a cache of their own.
//
// docs/attachments.md: message metadata carries a short-lived `download_url` that is
// fetched without an Authorization header ("if it expires, re-read message or
// attachment metadata to receive a fresh URL"), and attachment downloads "support
// byte ranges". The body is read as a stream so an interrupted transfer keeps every
// byte it received: the next request asks for `Range: bytes=<received>-` and appends.
// Without a download_url the authenticated endpoint is used through the client
// (`getMessageAttachment` with `range`), which returns whole responses.
import type { Attachment, MailboxApi } from '../api/index.js';
import { SendmuxApiError } from '../api/index.js';
import type { AttachmentRow, ContentDb } from '../store/contentDb.js';
import { CacheBudget } from './budget.js';
import { ContentError } from './errors.js';
import { toContentError } from './fetchBodies.js';
import type { Priority } from './fetchBodies.js';
import type { PinSet } from './pins.js';

/** Default attachment cache budget: 100 MiB. */
export const DEFAULT_ATTACHMENT_BUDGET_BYTES = 100 * 1024 * 1024;

/** The client members attachment downloads use. */
export type AttachmentApi = Pick<MailboxApi, 'getMessage' | 'getMessageAttachment' | 'baseUrl' | 'rateLimiter'>;

/** Options of {@link AttachmentStore}. */
export interface AttachmentStoreOptions {
  db: ContentDb;
  api: AttachmentApi;
  pins: PinSet;
  /** Byte budget of downloaded attachments (LRU, pinned messages kept). Default 100 MiB. */
  budgetBytes?: number;
  now: () => number;
  /** fetch for `download_url`s (sent without credentials). Default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Attachment metadata known locally (e.g. the replica's message record), tried before `getMessage`. */
  lookupAttachment?: (messageId: string, attachmentId: string) => Promise<Attachment | undefined>;
  /** Requests per download before giving up (interruptions, expired URLs, 5xx). Default 6. */
  maxAttempts?: number;
  /** Waits between failed attempts. Default a timer. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Options of one download. */
export interface AttachmentReadOptions {
  priority?: Priority;
  signal?: AbortSignal;
}

/** A downloaded attachment. */
export interface AttachmentFile {
  bytes: Uint8Array;
  content_type: string | null;
  filename: string | null;
}

/** Counters of the network work done (tests assert resume behaviour on them). */
export interface AttachmentCounters {
  requests: number;
  resumed: number;
  refreshedUrls: number;
  fromCache: number;
}

const RANGE = /^bytes (\d+)-(\d+)\/(\d+|\*)$/;

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function concat(chunks: readonly Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** Why one request ended without the whole file. */
type Interruption = { kind: 'interrupted' } | { kind: 'expired' } | { kind: 'retry'; delayMs: number } | { kind: 'restart' };

/** Downloads, resumes and caches attachments. */
export class AttachmentStore {
  readonly #o: AttachmentStoreOptions;
  readonly #budget: CacheBudget;
  readonly #inflight = new Map<string, Promise<AttachmentFile>>();
  readonly counters: AttachmentCounters = { requests: 0, resumed: 0, refreshedUrls: 0, fromCache: 0 };

  constructor(options: AttachmentStoreOptions) {
    this.#o = options;
    this.#budget = new CacheBudget({
      db: options.db,
      kind: 'attachment',
      payload: options.db.attachments,
      budgetBytes: options.budgetBytes ?? DEFAULT_ATTACHMENT_BUDGET_BYTES,
      isPinned: (id) => options.pins.has(id),
      now: options.now,
    });
  }

  /** The attachment's bytes: from the cache, or downloaded (resuming any earlier partial download). */
  get(messageId: string, attachmentId: string, options: AttachmentReadOptions = {}): Promise<AttachmentFile> {
    const key = `${messageId}|${attachmentId}`;
    const running = this.#inflight.get(key);
    if (running) return running;
    const p = this.#get(key, messageId, attachmentId, options).finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, p);
    return p;
  }

  /** Bytes currently cached. */
  totalBytes(): Promise<number> {
    return this.#budget.totalBytes();
  }

  /** Evicts every unpinned entry (storage quota exhausted); returns the bytes freed. */
  relieve(): Promise<number> {
    return this.#budget.evictUnpinned();
  }

  /** Drops cached attachments of these messages. */
  async forgetMessages(messageIds: readonly string[]): Promise<void> {
    await this.#budget.forgetMessages(messageIds);
    const { db } = this.#o;
    const prefixes = messageIds.map((id) => `${id}|`);
    await db.partialDownloads.filter((r) => prefixes.some((p) => r.key.startsWith(p))).delete();
  }

  async #get(key: string, messageId: string, attachmentId: string, options: AttachmentReadOptions): Promise<AttachmentFile> {
    const { db } = this.#o;
    const cached = await db.attachments.get(key);
    if (cached) {
      this.counters.fromCache += 1;
      await this.#budget.touch([key]);
      return { bytes: cached.bytes, content_type: cached.content_type, filename: cached.filename };
    }
    let meta = (await this.#o.lookupAttachment?.(messageId, attachmentId)) ?? (await this.#fetchMeta(messageId, attachmentId, options));
    const partial = await db.partialDownloads.get(key);
    const chunks: Uint8Array[] = partial ? [partial.bytes] : [];
    let received = partial?.bytes.byteLength ?? 0;
    let total: number | null = partial?.total ?? null;
    let etag: string | null = partial?.etag ?? null;
    let contentType: string | null = meta.content_type ?? null;
    let refreshed = false;
    const maxAttempts = this.#o.maxAttempts ?? 6;

    const savePartial = async () => {
      if (received === 0) return;
      const bytes = concat(chunks, received);
      chunks.splice(0, chunks.length, bytes);
      await db.partialDownloads.put({ key, bytes, total, etag, updated_at: this.#o.now() });
    };
    const reset = () => {
      chunks.length = 0;
      received = 0;
      total = null;
      etag = null;
    };

    for (let attempt = 1; ; attempt++) {
      if (total !== null && received === total) break;
      let outcome: Interruption | 'done';
      try {
        outcome = await this.#request(messageId, attachmentId, meta, received, options, {
          onStart: (info) => {
            if (info.restartFromZero) reset();
            if (info.total !== null) {
              if (total !== null && info.total !== total) throw new ContentError('invalid_response', `attachment ${attachmentId} changed size during download`);
              total = info.total;
            }
            if (info.etag) {
              if (etag && received > 0 && info.etag !== etag) throw new ContentError('invalid_response', `attachment ${attachmentId} changed during download`);
              etag = info.etag;
            }
            if (info.contentType) contentType = info.contentType;
          },
          onChunk: (chunk) => {
            chunks.push(chunk);
            received += chunk.byteLength;
          },
        });
      } catch (error) {
        await savePartial();
        if (error instanceof ContentError && error.code === 'invalid_response') {
          await db.partialDownloads.delete(key);
        }
        throw toContentError(error, `downloading attachment ${attachmentId} of ${messageId}`);
      }
      if (outcome === 'done') break;
      if (attempt >= maxAttempts) {
        await savePartial();
        throw new ContentError('fetch_failed', `downloading attachment ${attachmentId} of ${messageId}: gave up after ${attempt} requests (${received} bytes kept for a later resume)`);
      }
      if (outcome.kind === 'interrupted') {
        await savePartial();
        this.counters.resumed += 1;
      } else if (outcome.kind === 'restart') {
        reset();
      } else if (outcome.kind === 'expired') {
        if (refreshed) throw new ContentError('attachment_not_found', `attachment ${attachmentId} of ${messageId} is no longer downloadable`);
        // docs/attachments.md: an expired download_url is replaced by re-reading metadata.
        meta = await this.#fetchMeta(messageId, attachmentId, options);
        refreshed = true;
        this.counters.refreshedUrls += 1;
      } else {
        await savePartial();
        await (this.#o.sleep ?? defaultSleep)(outcome.delayMs, options.signal);
      }
    }

    // Verify the size: the server's own total (Content-Range / Content-Length) when it
    // sent one, else the metadata's size_bytes.
    const expected = total ?? meta.size_bytes ?? received;
    if (received !== expected) {
      await db.partialDownloads.delete(key);
      throw new ContentError('invalid_response', `attachment ${attachmentId} of ${messageId}: received ${received} bytes, expected ${expected}`);
    }
    const bytes = concat(chunks, received);
    const row: AttachmentRow = { key, message_id: messageId, attachment_id: attachmentId, bytes, content_type: contentType, filename: meta.filename ?? null, fetched_at: this.#o.now() };
    await db.transaction('rw', db.attachments, db.cacheIndex, db.partialDownloads, async () => {
      await db.attachments.put(row);
      await db.cacheIndex.put(this.#budget.indexRow(key, messageId, bytes.byteLength));
      await db.partialDownloads.delete(key);
    });
    await this.#budget.enforce();
    return { bytes, content_type: contentType, filename: row.filename };
  }

  async #fetchMeta(messageId: string, attachmentId: string, options: AttachmentReadOptions): Promise<Attachment> {
    const res = await this.#o.api
      .getMessage({ message_id: messageId }, { priority: options.priority ?? 'user', ...(options.signal ? { signal: options.signal } : {}) })
      .catch((error: unknown) => {
        throw toContentError(error, `reading metadata of message ${messageId}`);
      });
    const found = res.data.attachments?.find((a) => a.id === attachmentId);
    if (!found) throw new ContentError('attachment_not_found', `message ${messageId} has no attachment ${attachmentId}`);
    return found;
  }

  /** One request from `offset`; streams chunks into `sink`. */
  async #request(
    messageId: string,
    attachmentId: string,
    meta: Attachment,
    offset: number,
    options: AttachmentReadOptions,
    sink: {
      onStart(info: { restartFromZero: boolean; total: number | null; etag: string | null; contentType: string | null }): void;
      onChunk(chunk: Uint8Array): void;
    },
  ): Promise<Interruption | 'done'> {
    this.counters.requests += 1;
    if (!meta.download_url) return this.#viaClient(messageId, attachmentId, offset, options, sink);
    const url = new URL(meta.download_url, `${this.#o.api.baseUrl}/`).toString();
    const release = this.#o.api.rateLimiter ? await this.#o.api.rateLimiter.acquire(options.priority ?? 'user', options.signal) : () => {};
    let res: Response;
    try {
      // No Authorization header: the URL carries its own short-lived token.
      res = await (this.#o.fetch ?? globalThis.fetch)(url, {
        headers: offset > 0 ? { Range: `bytes=${offset}-` } : {},
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (error) {
      release();
      if (options.signal?.aborted) throw error;
      return { kind: 'interrupted' };
    }
    release();
    this.#o.api.rateLimiter?.observe(res.headers);
    if (res.status === 401 || res.status === 403 || res.status === 404 || res.status === 410) {
      await res.body?.cancel().catch(() => {});
      return { kind: 'expired' };
    }
    if (res.status === 416) {
      await res.body?.cancel().catch(() => {});
      return { kind: 'restart' };
    }
    if (res.status === 429 || res.status >= 500) {
      await res.body?.cancel().catch(() => {});
      const after = Number(res.headers.get('retry-after'));
      return { kind: 'retry', delayMs: Number.isFinite(after) && after > 0 ? after * 1000 : 500 };
    }
    if (res.status !== 200 && res.status !== 206) {
      await res.body?.cancel().catch(() => {});
      throw new ContentError('fetch_failed', `attachment download answered HTTP ${res.status}`);
    }
    let total: number | null;
    let restartFromZero = false;
    if (res.status === 206) {
      const m = RANGE.exec(res.headers.get('content-range') ?? '');
      if (!m) throw new ContentError('invalid_response', '206 without a valid Content-Range');
      if (Number(m[1]) !== offset) {
        await res.body?.cancel().catch(() => {});
        return { kind: 'restart' };
      }
      total = m[3] === '*' ? null : Number(m[3]);
    } else {
      // 200: the whole file, whatever we asked for (RFC 9110 §14.2: a server may ignore Range).
      restartFromZero = offset > 0;
      const len = res.headers.get('content-length');
      total = len !== null && /^\d+$/.test(len) ? Number(len) : null;
    }
    sink.onStart({ restartFromZero, total, etag: res.headers.get('etag'), contentType: res.headers.get('content-type') });
    if (!res.body) return 'done';
    const reader = res.body.getReader();
    let got = restartFromZero ? 0 : offset;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (value && value.byteLength > 0) {
          sink.onChunk(value);
          got += value.byteLength;
        }
      }
    } catch {
      if (options.signal?.aborted) throw options.signal.reason;
      return { kind: 'interrupted' };
    }
    // A stream that closed early without an error is an interruption too.
    if (total !== null && got < total) return { kind: 'interrupted' };
    return 'done';
  }

  async #viaClient(
    messageId: string,
    attachmentId: string,
    offset: number,
    options: AttachmentReadOptions,
    sink: {
      onStart(info: { restartFromZero: boolean; total: number | null; etag: string | null; contentType: string | null }): void;
      onChunk(chunk: Uint8Array): void;
    },
  ): Promise<Interruption | 'done'> {
    try {
      const res = await this.#o.api.getMessageAttachment(
        { message_id: messageId, attachment_id: attachmentId, ...(offset > 0 ? { range: { start: offset } } : {}) },
        { priority: options.priority ?? 'user', ...(options.signal ? { signal: options.signal } : {}) },
      );
      sink.onStart({ restartFromZero: offset > 0 && res.status === 200, total: res.totalSize ?? null, etag: res.etag ?? null, contentType: res.contentType ?? null });
      sink.onChunk(res.data);
      return 'done';
    } catch (error) {
      if (error instanceof SendmuxApiError && error.retryable && !options.signal?.aborted) return { kind: 'retry', delayMs: error.retryAfterMs ?? 500 };
      throw error;
    }
  }
}
