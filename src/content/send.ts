// The send queue: `send(draft)` writes a durable intent to the engine's outbox
// (DESIGN.md invariant 4) with a fresh Idempotency-Key, and the leader's flusher
// delivers it when online: uploads attachments first (blob ids kept in the entry so
// a retry does not re-upload), freezes the request body (identity defaults applied),
// sends with the same key on every retry, and links the resulting submission.
// Rejections (422, other 4xx) are final and reported with the server's message;
// network failures, 5xx and 429 are retried later. A 409 idempotency_conflict is
// retried with the same key after a short wait, a bounded number of times, then final
// (docs/idempotency.md: "Treat 409 idempotency_conflict on an in-flight request as
// retryable after a short wait"; the body under the key is frozen, so a conflict
// means the first request with that key is still running).
import { Subject, Subscription, map, shareReplay, takeUntil } from 'rxjs';
import type { Observable } from 'rxjs';
import { SendmuxApiError, newIdempotencyKey } from '../api/index.js';
import type { Identity, MailboxApi } from '../api/index.js';
import type { OutboxTable } from '../store/db.js';
import { checkHoldDelay } from '../store/outbox.js';
import { live } from '../store/live.js';
import { ContentError } from './errors.js';
import { buildSendRequest, isSendEntry, reduceSend, sendDueAt } from './sendState.js';
import type { DraftFields, SendEntry, SendEvent, SendFailure, SendRequestBody, StoredAttachment, StoredDraft } from './sendState.js';

/** An attachment of a draft: bytes to upload, an uploaded blob id, or small inline base64. */
export type DraftAttachment =
  | { filename: string; content_type: string; data: Blob | Uint8Array | ArrayBuffer }
  | { filename: string; content_type: string; blob_id: string }
  | { filename: string; content_type: string; content: string };

/** A message to send (fields as `POST /mailbox/messages/send` takes them). */
export interface SendDraft extends DraftFields {
  attachments?: DraftAttachment[];
}

/** A send as the "Outbox" view shows it. */
export interface OutboxSend {
  seq: number;
  idempotency_key: string;
  status: 'pending' | 'sending' | 'failed';
  /** The draft, attachments without their bytes. */
  draft: Omit<StoredDraft, 'attachments'> & { attachments: Array<{ filename: string; content_type: string; size_bytes: number | null; uploaded: boolean }> };
  attempts: number;
  created_at: number;
  error?: SendFailure;
  next_attempt_at?: number;
  /** Held by a send delay until this time (ms since epoch); `discardSend(seq)` cancels it until then. */
  hold_until?: number;
}

/** Options of `send(draft, options)`. */
export interface SendOptions {
  /**
   * Hold the send this long before the first attempt ("undo send"); the delay is kept
   * in the outbox, so it survives a reload, and `discardSend(seq)` cancels the send
   * while it runs: the server never sees it. Default 0 (send at once). At most 1 hour.
   */
  delayMs?: number;
}

/** What happened to a send. */
export type SendOutcome =
  | { status: 'sent'; seq: number; idempotency_key: string; message_id: string }
  | { status: 'linked'; seq: number; idempotency_key: string; message_id: string; submission_id: string }
  | { status: 'failed'; seq: number; idempotency_key: string; error: SendFailure };

/** Options of {@link createSendQueue}. */
export interface SendQueueOptions {
  /** The engine's outbox table (`MailboxDb.outbox`); send entries live beside mutations. */
  outbox: OutboxTable;
  /** Client members the queue calls. */
  api: Pick<MailboxApi, 'sendMessage' | 'uploadAttachment' | 'getIdentity' | 'listSubmissions'>;
  /** Leadership (current value first). Only the leader sends (invariant 7). Default: always leader. */
  leader$?: Observable<boolean>;
  /** Connectivity (current value first). Default: always online. */
  online$?: Observable<boolean>;
  now?: () => number;
  setTimeout?: (fn: () => void, ms: number) => unknown;
  clearTimeout?: (handle: unknown) => void;
  /** Randomness in [0, 1) for keys and jitter. Default: crypto UUIDs, Math.random jitter. */
  random?: () => number;
  /** Backoff between attempts of one send. Defaults 2 000 ms doubling up to 5 min. */
  retry?: { baseDelayMs?: number; maxDelayMs?: number };
  /**
   * Waits before resending a send answered `409 idempotency_conflict` (the first
   * request under its key still in flight): `attempts` resends at most, after
   * `baseDelayMs` doubling each time. Defaults 4 resends from 500 ms.
   */
  conflictRetry?: { attempts?: number; baseDelayMs?: number };
  /** Acknowledged entries are kept this long (the server keeps idempotency keys 24 h), then pruned. */
  ackedRetentionMs?: number;
  /** Pins the cached content of `related_message_ids` while their send is active (e.g. the content service). */
  pins?: { pin(ids: readonly string[]): void; unpin(ids: readonly string[]): void };
  /** Failures (final rejections, and flush errors). */
  onError?: (error: ContentError) => void;
  /**
   * A send was answered 401: the entry stays queued as it was (neither retried with
   * backoff nor failed) and this is called, e.g. to pause the engine's network; the
   * queue sends again when `online$` says so.
   */
  onUnauthorized?: (error: unknown) => void;
}

/** The send queue. */
export interface SendQueue {
  /** Writes the send to the outbox (durable at once) and wakes the flusher. */
  send(draft: SendDraft, options?: SendOptions): Promise<{ seq: number; idempotency_key: string }>;
  /** Pending, sending and failed sends, oldest first (live). */
  readonly outbox$: Observable<OutboxSend[]>;
  /** Sent, linked and failed sends, as they happen. */
  readonly outcomes$: Observable<SendOutcome>;
  /** Sends every due entry now (leader and online only); resolves when done. */
  flush(): Promise<void>;
  /** Puts a failed send back in the queue (same Idempotency-Key). */
  retry(seq: number): Promise<void>;
  /**
   * Removes a send that is not being sent right now (a failed one, or one still held by
   * its send delay: undo send). Returns false when it is in flight, sent, or gone.
   */
  discard(seq: number): Promise<boolean>;
  /** Stops the flusher and completes the observables. The outbox keeps every unsent entry. */
  stop(): void;
}

const ACTIVE = ['pending', 'sending', 'failed'] as const;
const DAY = 24 * 60 * 60 * 1000;

function failureOf(error: unknown): SendFailure {
  if (error instanceof SendmuxApiError) return { code: error.code, message: error.message, status: error.status };
  if (error instanceof ContentError) return { code: error.code, message: error.message, status: 0 };
  return { code: 'unknown', message: error instanceof Error ? error.message : String(error), status: 0 };
}

/** docs/idempotency.md: the first request under this key is still running (or its body differed). */
function isIdempotencyConflict(error: unknown): boolean {
  return error instanceof SendmuxApiError && error.status === 409 && error.code === 'idempotency_conflict';
}

/** docs/errors.md: retry only what the server marks retryable (network, timeouts, 429, 5xx). */
function isRetryable(error: unknown): boolean {
  return error instanceof SendmuxApiError && error.retryable;
}

async function toBytes(data: Blob | Uint8Array | ArrayBuffer): Promise<Uint8Array> {
  if (data instanceof Uint8Array) return new Uint8Array(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data.slice(0));
  return new Uint8Array(await data.arrayBuffer());
}

function viewOf(e: SendEntry): OutboxSend {
  const { attachments, ...rest } = e.send.draft;
  return {
    seq: e.seq as number,
    idempotency_key: e.send.idempotency_key,
    status: e.status as OutboxSend['status'],
    draft: {
      ...rest,
      attachments: attachments.map((a: StoredAttachment) => ({
        filename: a.filename,
        content_type: a.content_type,
        size_bytes: a.bytes ? a.bytes.byteLength : null,
        uploaded: a.blob_id !== undefined,
      })),
    },
    attempts: e.attempts,
    created_at: e.created_at,
    ...(e.send.error ? { error: e.send.error } : {}),
    ...(e.send.next_attempt_at !== undefined ? { next_attempt_at: e.send.next_attempt_at } : {}),
    ...(e.send.hold_until !== undefined ? { hold_until: e.send.hold_until } : {}),
  };
}

/**
 * Creates the send queue over the engine's outbox table. Every instance (tab) may
 * call `send()`; only the instance whose `leader$` is true delivers.
 *
 * ```ts
 * const queue = createSendQueue({ outbox: db.outbox, api, leader$: ctx.leader$, online$, pins: content });
 * queue.outbox$.subscribe(renderOutbox);
 * await queue.send({ to: [{ email: 'a@example.com', name: null }], subject: 'Hi', text_body: 'Hello' });
 * ```
 */
export function createSendQueue(options: SendQueueOptions): SendQueue {
  const { outbox, api } = options;
  const now = options.now ?? Date.now;
  const setTimer = options.setTimeout ?? ((fn: () => void, ms: number) => setTimeout(fn, ms));
  const clearTimer = options.clearTimeout ?? ((h: unknown) => clearTimeout(h as ReturnType<typeof setTimeout>));
  const random = options.random ?? Math.random;
  const baseDelay = options.retry?.baseDelayMs ?? 2_000;
  const maxDelay = options.retry?.maxDelayMs ?? 5 * 60_000;
  const retention = options.ackedRetentionMs ?? DAY;
  const conflictAttempts = Math.max(0, options.conflictRetry?.attempts ?? 4);
  const conflictDelay = Math.max(0, options.conflictRetry?.baseDelayMs ?? 500);
  const outcomes = new Subject<SendOutcome>();
  const stop$ = new Subject<void>();
  const subs = new Subscription();
  let leader = options.leader$ ? false : true;
  let online = options.online$ ? false : true;
  let stopped = false;
  let flushing: Promise<void> | undefined;
  let flushAgain = false;
  let timer: unknown;
  let identity: Promise<Identity | undefined> | undefined;

  const report = (e: ContentError) => options.onError?.(e);

  /** Applies `event` to entry `seq` in a transaction; returns the new entry (undefined when gone). */
  async function apply(seq: number, event: SendEvent): Promise<SendEntry | undefined> {
    return outbox.db.transaction('rw', outbox, async () => {
      const cur = await outbox.get(seq);
      if (!cur || !isSendEntry(cur)) return undefined;
      const next = reduceSend(cur, event);
      if (next !== cur) await outbox.put(next);
      return next;
    });
  }

  function backoff(attempts: number): number {
    const exp = Math.min(maxDelay, baseDelay * 2 ** Math.max(0, attempts - 1));
    // Equal jitter: never less than half the step, so retries do not hammer.
    return Math.round(exp / 2 + (random() * exp) / 2);
  }

  function defaultIdentity(): Promise<Identity | undefined> {
    identity ??= api.getIdentity(undefined, { priority: 'user' }).then(
      (r) => r.data,
      (error: unknown) => {
        identity = undefined;
        // Retry later when the failure is transient; otherwise send without client-side defaults.
        if (isRetryable(error)) throw error;
        return undefined;
      },
    );
    return identity;
  }

  /** Pending waits of {@link wait}: stop() ends them. */
  const waitTimers = new Map<() => void, unknown>();
  /** Waits `ms` on the injected timers (resolves early when the queue stops). */
  function wait(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      if (stopped) return resolve();
      const handle = setTimer(() => {
        waitTimers.delete(resolve);
        resolve();
      }, ms);
      waitTimers.set(resolve, handle);
    });
  }

  /**
   * POSTs the frozen body under `key`; a 409 idempotency_conflict (the first request
   * under the key still running) is resent with the same key and body after a short
   * wait, at most `conflictAttempts` times; the last answer is returned or thrown.
   */
  async function sendWithConflictRetry(request: SendRequestBody, key: string): Promise<Awaited<ReturnType<MailboxApi['sendMessage']>>> {
    for (let retry = 0; ; retry++) {
      try {
        return await api.sendMessage({ body: request }, { priority: 'user', idempotencyKey: key });
      } catch (error) {
        if (!isIdempotencyConflict(error) || retry >= conflictAttempts || stopped) throw error;
        await wait(conflictDelay * 2 ** retry);
        if (stopped) throw error;
      }
    }
  }

  async function deliver(seq: number): Promise<void> {
    let e = await apply(seq, { type: 'attempt', at: now() });
    if (!e || e.status !== 'sending') return;
    const key = e.send.idempotency_key;
    try {
      for (const [index, a] of e.send.draft.attachments.entries()) {
        if (a.blob_id || !a.bytes) continue;
        const up = await api.uploadAttachment(
          { filename: a.filename, body: a.bytes, contentType: a.content_type },
          // A key makes the upload retryable in the client; a duplicate blob is harmless.
          { priority: 'user', idempotencyKey: `${key}:attachment:${index}` },
        );
        e = (await apply(seq, { type: 'uploaded', index, blob_id: up.data.blob_id })) ?? e;
      }
      if (!e.send.request) {
        const id = await defaultIdentity();
        e = (await apply(seq, { type: 'frozen', request: buildSendRequest(e.send.draft, id) })) ?? e;
      }
      const request = e.send.request;
      if (!request) throw new ContentError('invalid_response', 'send request was not frozen');
      const res = await sendWithConflictRetry(request, key);
      const messageId = res.data.message_id;
      await apply(seq, { type: 'sent', at: now(), message_id: messageId });
      outcomes.next({ status: 'sent', seq, idempotency_key: key, message_id: messageId });
      void link(seq, key, messageId);
    } catch (error) {
      // Stopped while waiting out a conflict: left 'sending', the next start recovers it (same key).
      if (stopped && isIdempotencyConflict(error)) return;
      const failure = failureOf(error);
      if (error instanceof SendmuxApiError && error.status === 401) {
        // The key, not the send, failed: keep it queued as it was (docs/errors.md).
        await apply(seq, { type: 'paused', error: failure });
        options.onUnauthorized?.(error);
        return;
      }
      if (isRetryable(error)) {
        const next = now() + backoff(e.attempts);
        await apply(seq, { type: 'retry', at: now(), error: failure, next_attempt_at: next });
        return;
      }
      await apply(seq, { type: 'rejected', error: failure });
      outcomes.next({ status: 'failed', seq, idempotency_key: key, error: failure });
      report(new ContentError('send_rejected', `send ${key} rejected: ${failure.message}`, { cause: error }));
    }
  }

  async function link(seq: number, key: string, messageId: string): Promise<void> {
    try {
      const res = await api.listSubmissions({ email_ids: messageId, limit: 1 }, { priority: 'background' });
      const submission = res.data.find((s) => s.email_id === messageId) ?? res.data[0];
      if (!submission) return; // Not visible yet: the changes loop brings it into the replica.
      await apply(seq, { type: 'linked', submission_id: submission.id });
      outcomes.next({ status: 'linked', seq, idempotency_key: key, message_id: messageId, submission_id: submission.id });
    } catch {
      // Best effort: the submission still converges through /mailbox/changes.
    }
  }

  async function runFlush(): Promise<void> {
    // Entries left 'sending' by a leader that died (or by this one before a reload):
    // resend with the same key — the server replays the first result if it had one.
    const all = (await outbox.where('status').anyOf(['pending', 'sending', 'acked']).toArray()).filter(isSendEntry);
    const stale = all.filter((e) => e.status === 'acked' && (e.send.acked_at ?? 0) < now() - retention);
    if (stale.length > 0) await outbox.bulkDelete(stale.map((e) => e.seq as number));
    for (const e of all) if (e.status === 'sending') await apply(e.seq as number, { type: 'recover' });
    const queue = all.filter((e) => e.status === 'pending' || e.status === 'sending').sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
    let wakeAt: number | undefined;
    for (const e of queue) {
      if (stopped || !leader || !online) return;
      const due = sendDueAt(e);
      if (due > now()) {
        wakeAt = Math.min(wakeAt ?? Infinity, due);
        continue;
      }
      await deliver(e.seq as number);
      const after = await outbox.get(e.seq as number);
      if (after && isSendEntry(after) && after.status === 'pending' && sendDueAt(after) > now()) {
        wakeAt = Math.min(wakeAt ?? Infinity, sendDueAt(after));
      }
    }
    if (wakeAt !== undefined && !stopped) {
      if (timer !== undefined) clearTimer(timer);
      timer = setTimer(() => {
        timer = undefined;
        void flush();
      }, Math.max(0, wakeAt - now()));
    }
  }

  function flush(): Promise<void> {
    if (stopped || !leader || !online) return Promise.resolve();
    if (flushing) {
      flushAgain = true;
      return flushing;
    }
    flushing = (async () => {
      try {
        do {
          flushAgain = false;
          await runFlush();
        } while (flushAgain && !stopped && leader && online);
      } catch (error) {
        report(new ContentError('fetch_failed', `send queue flush failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error }));
      } finally {
        flushing = undefined;
      }
    })();
    return flushing;
  }

  const active$ = live(() => outbox.where('status').anyOf([...ACTIVE]).toArray()).pipe(
    map((rows) => rows.filter(isSendEntry).sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0))),
    takeUntil(stop$),
    shareReplay({ bufferSize: 1, refCount: true }),
  );

  // Wake the flusher on leadership, connectivity, and any new pending send (also
  // ones written by other tabs: the change feed shows them through the shared database).
  if (options.leader$) {
    subs.add(
      options.leader$.subscribe((v) => {
        leader = v;
        if (v) void flush();
      }),
    );
  }
  if (options.online$) {
    subs.add(
      options.online$.subscribe((v) => {
        online = v;
        if (v) void flush();
      }),
    );
  }
  let pinned = new Set<string>();
  subs.add(
    active$.subscribe({
      next: (entries) => {
        // Any pending send: due ones go now; for the rest (a backoff, or a send delay
        // written by another tab) the flush arms the timer of the earliest.
        if (entries.some((e) => e.status === 'pending')) void flush();
        if (options.pins) {
          const wanted = new Set(entries.filter((e) => e.status !== 'failed').flatMap((e) => e.send.draft.related_message_ids ?? []));
          const added = [...wanted].filter((id) => !pinned.has(id));
          const removed = [...pinned].filter((id) => !wanted.has(id));
          if (added.length) options.pins.pin(added);
          if (removed.length) options.pins.unpin(removed);
          pinned = wanted;
        }
      },
      error: (error: unknown) => report(new ContentError('fetch_failed', `outbox query failed: ${String(error)}`, { cause: error })),
    }),
  );

  // Start-up: deliver what earlier sessions left (pending, or 'sending' when the
  // tab that was sending died), once leadership and connectivity allow.
  void flush();

  return {
    async send(draft, sendOptions = {}) {
      if (stopped) throw new ContentError('stopped', 'send queue stopped');
      if (!Array.isArray(draft.to) || typeof draft.subject !== 'string') {
        throw new TypeError('send(draft): draft.to (array of { email, name }) and draft.subject are required');
      }
      const delayMs = checkHoldDelay('send(draft, { delayMs }): delayMs', sendOptions.delayMs);
      const attachments: StoredAttachment[] = [];
      for (const a of draft.attachments ?? []) {
        if ('data' in a) attachments.push({ filename: a.filename, content_type: a.content_type, bytes: await toBytes(a.data) });
        else if ('blob_id' in a) attachments.push({ filename: a.filename, content_type: a.content_type, blob_id: a.blob_id });
        else attachments.push({ filename: a.filename, content_type: a.content_type, content: a.content });
      }
      const { attachments: _a, ...fields } = draft;
      const idempotencyKey = newIdempotencyKey(options.random);
      const entry: SendEntry = {
        kind: 'send',
        ids: [],
        status: 'pending',
        attempts: 0,
        created_at: now(),
        send: { idempotency_key: idempotencyKey, draft: { ...fields, attachments }, ...(delayMs > 0 ? { hold_until: now() + delayMs } : {}) },
      };
      const seq = await outbox.add(entry);
      void flush();
      return { seq, idempotency_key: idempotencyKey };
    },
    outbox$: active$.pipe(map((entries) => entries.map(viewOf))),
    outcomes$: outcomes.asObservable(),
    flush,
    async retry(seq) {
      await apply(seq, { type: 'resume' });
      void flush();
    },
    async discard(seq) {
      return outbox.db.transaction('rw', outbox, async () => {
        const cur = await outbox.get(seq);
        if (!cur || !isSendEntry(cur) || (cur.status !== 'pending' && cur.status !== 'failed')) return false;
        await outbox.delete(seq);
        return true;
      });
    },
    stop() {
      if (stopped) return;
      stopped = true;
      if (timer !== undefined) clearTimer(timer);
      timer = undefined;
      for (const [resolve, handle] of waitTimers) {
        clearTimer(handle);
        resolve();
      }
      waitTimers.clear();
      subs.unsubscribe();
      if (options.pins && pinned.size > 0) options.pins.unpin([...pinned]);
      pinned = new Set();
      stop$.next();
      stop$.complete();
      outcomes.complete();
    },
  };
}
