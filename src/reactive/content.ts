// Message content, attachments and sending on a MailboxSync (issue 6): the content
// service (body cache with a byte budget, attachments with Range resume), the send
// queue (durable sends in the engine's outbox, Idempotency-Key kept across retries)
// and the prefetcher, created once the engine's database is open and stopped with it.
import type { Observable} from 'rxjs';
import { BehaviorSubject, combineLatest, defer, from, map, switchMap, takeUntil } from 'rxjs';
import {
  ContentDb,
  createContentService,
  createPrefetcher,
  createSendQueue,
  type ContentReadOptions,
  type ContentState,
  type MessageContentData,
  type OutboxSend,
  type PrefetchPolicy,
  type RawBodyData,
  type RawBodyReadOptions,
  type RawPart,
  type SendDraft,
  type SendOptions,
  type SendOutcome,
  type ThreadContentOptions,
  type ThreadContentState,
} from '../content/index.js';
import type { ContentError } from '../content/errors.js';
import type { ThreadWithMessages } from '../store/queries.js';
import type { ReplicaStorage } from '../store/storage.js';
import { contentDbNameOf } from '../store/contentDb.js';
import { SyncError } from '../sync/errors.js';
import type { SyncCoreParts } from '../sync/engine.js';
import { defaultEnvironment, type EnvironmentSignals } from '../sync/poll.js';

/** Content options of createMailboxSync. */
export interface ContentOptions {
  /** Byte budget of cached bodies (default 50 MiB); least recently used go first, never pinned ones. */
  bodyBudgetBytes?: number;
  /** Byte budget of cached attachments (default 100 MiB). */
  attachmentBudgetBytes?: number;
  /** What to fetch ahead for offline reading (default: the 20 newest unread of the inbox). `false` turns it off. */
  prefetch?: PrefetchPolicy | false;
  /** `attachment()` result: Blob (browser default) or Uint8Array (Node default). */
  attachmentOutput?: 'blob' | 'bytes';
}

/** A thread with its messages and, with `withContent`, their clean content pages. */
export type ThreadWithContent = ThreadWithMessages & { content: ThreadContentState };

/** Content, attachment and send methods of a MailboxSync. */
export interface MailboxContent {
  /** Clean content of a message (cached within the budget, fetched on a miss): loading → ready | error. */
  content$(messageId: string, options?: ContentReadOptions): Observable<ContentState<MessageContentData>>;
  /** Raw body text/HTML of a message, same states. */
  rawBody$(messageId: string, part?: RawPart | RawBodyReadOptions): Observable<ContentState<RawBodyData>>;
  /** A thread with its messages (undefined when the replica has no such thread). */
  thread$(id: string): Observable<ThreadWithMessages | undefined>;
  /** A thread with its messages and their clean content (`/threads/{id}/content`, paged), for a conversation view. */
  thread$(id: string, options: ThreadContentOptions & { withContent: true }): Observable<ThreadWithContent | undefined>;
  /** An attachment's bytes (Blob in browsers, Uint8Array in Node), resumed with Range after an interruption. */
  attachment(messageId: string, attachmentId: string): Promise<Blob | Uint8Array>;
  /**
   * Queues a send (durable at once, Idempotency-Key kept across retries and reloads);
   * resolves when queued. With `{ delayMs }` the outbox holds it that long (undo send:
   * `discardSend(seq)` while it waits, and the server never sees it); the delay
   * survives a reload.
   */
  send(draft: SendDraft, options?: SendOptions): Promise<{ seq: number; idempotency_key: string }>;
  /** Sends not yet delivered (pending, sending, failed), oldest first: the "Outbox". */
  readonly outbox$: Observable<OutboxSend[]>;
  /** Send outcomes as they happen (sent, linked to a submission, failed). */
  readonly sendOutcomes$: Observable<SendOutcome>;
  /** Puts a failed send back in the queue with the same Idempotency-Key. */
  retrySend(seq: number): Promise<void>;
  /** Drops a send that is not in flight: a failed one, or one its send delay still holds (undo send). False when in flight, sent or gone. */
  discardSend(seq: number): Promise<boolean>;
}

interface Parts {
  db: ContentDb;
  content: ReturnType<typeof createContentService>;
  sends: ReturnType<typeof createSendQueue>;
  prefetcher?: ReturnType<typeof createPrefetcher>;
  online: { unsubscribe(): void };
}

/** Name of the content cache database beside a replica database. */
export const contentDbName = contentDbNameOf;

export function attachContent(
  engine: Pick<SyncCoreParts, 'context'>,
  options: ContentOptions & { environment?: EnvironmentSignals; storage?: ReplicaStorage; indexedDB?: IDBFactory; IDBKeyRange?: typeof IDBKeyRange },
  stop$: Observable<unknown>,
  thread$: (id: string) => Observable<ThreadWithMessages | undefined>,
): {
  methods: MailboxContent;
  stop(): Promise<void>;
  deleteCache(): Promise<void>;
  /** Plain text of the cached bodies of `ids` (for local search); ids without one are left out. */
  bodyText(ids: readonly string[]): Promise<ReadonlyMap<string, string>>;
  /** Evicts every unpinned cached body and attachment (storage quota exhausted); bytes freed. */
  relieve(): Promise<number>;
} {
  let created: Parts | undefined;
  const ready: Promise<Parts> = engine.context.then(async (ctx) => {
    const env = options.environment ?? defaultEnvironment();
    const online$ = new BehaviorSubject<boolean>(env.isOnline());
    const unsubscribe = env.subscribe((event) => {
      if (event === 'online') online$.next(true);
      if (event === 'offline') online$.next(false);
    });
    const onError = (error: ContentError) =>
      ctx.reportError(new SyncError('content_failed', `content: ${error.message}`, { cause: error }));
    const db = new ContentDb(contentDbName(ctx.db.name), {
      ...(options.storage ? { storage: options.storage } : {}),
      ...(options.indexedDB ? { indexedDB: options.indexedDB } : {}),
      ...(options.IDBKeyRange ? { IDBKeyRange: options.IDBKeyRange } : {}),
    });
    await db.open();
    const content = createContentService({
      api: ctx.api,
      db,
      now: ctx.clock.now,
      onError,
      ...(options.bodyBudgetBytes !== undefined ? { bodyBudgetBytes: options.bodyBudgetBytes } : {}),
      ...(options.attachmentBudgetBytes !== undefined ? { attachmentBudgetBytes: options.attachmentBudgetBytes } : {}),
      attachmentOutput: options.attachmentOutput ?? (typeof Blob !== 'undefined' && 'document' in globalThis ? 'blob' : 'bytes'),
      lookupAttachment: async (m, a) => (await ctx.db.messages.get(m))?.attachments?.find((x) => x.id === a),
    });
    const sends = createSendQueue({
      outbox: ctx.db.outbox,
      api: ctx.api,
      leader$: ctx.leader$,
      // Paused by a 401 (until syncNow()) counts as offline for sends.
      online$: combineLatest([online$, ctx.paused$]).pipe(map(([online, paused]) => online && !paused)),
      onUnauthorized: (error) => ctx.unauthorized(error),
      now: ctx.clock.now,
      setTimeout: ctx.clock.setTimeout,
      clearTimeout: ctx.clock.clearTimeout,
      random: ctx.clock.random,
      pins: content,
      onError,
    });
    const policy = options.prefetch === undefined ? { newestUnread: { limit: 20 } } : options.prefetch;
    const prefetcher = policy ? createPrefetcher({ content, db: ctx.db, policy, leader$: ctx.leader$, online$ }) : undefined;
    created = { db, content, sends, ...(prefetcher ? { prefetcher } : {}), online: { unsubscribe } };
    return created;
  });
  ready.catch(() => undefined);

  const lazy = <T>(pick: (p: Parts) => Observable<T>): Observable<T> =>
    defer(() => from(ready)).pipe(switchMap(pick), takeUntil(stop$));

  function threadWith(id: string, options?: ThreadContentOptions & { withContent?: boolean }): Observable<ThreadWithMessages | ThreadWithContent | undefined> {
    if (!options?.withContent) return thread$(id);
    const { withContent: _withContent, ...pageOptions } = options;
    return combineLatest([thread$(id), lazy((p) => p.content.threadContent$(id, pageOptions))]).pipe(
      map(([thread, content]) => (thread ? { ...thread, content } : undefined)),
    );
  }

  const methods: MailboxContent = {
    content$: (id, opts) => lazy((p) => p.content.content$(id, opts)),
    rawBody$: (id, part) => lazy((p) => p.content.rawBody$(id, part ?? 'both')),
    thread$: threadWith as MailboxContent['thread$'],
    attachment: async (m, a) => (await ready).content.attachment(m, a),
    send: async (draft, options) => (await ready).sends.send(draft, options),
    outbox$: lazy((p) => p.sends.outbox$),
    sendOutcomes$: lazy((p) => p.sends.outcomes$),
    retrySend: async (seq) => (await ready).sends.retry(seq),
    discardSend: async (seq) => (await ready).sends.discard(seq),
  };

  async function stop(): Promise<void> {
    const p = created;
    if (!p) return;
    p.prefetcher?.stop();
    p.sends.stop();
    p.content.stop();
    p.online.unsubscribe();
    p.db.close();
  }

  async function deleteCache(): Promise<void> {
    const p = created ?? (await ready.catch(() => undefined));
    if (p) {
      await stop();
      await p.db.delete();
    }
  }

  async function bodyText(ids: readonly string[]): Promise<ReadonlyMap<string, string>> {
    const out = new Map<string, string>();
    const p = created;
    if (!p || ids.length === 0) return out;
    const rows = await p.db.bodies.where('message_id').anyOf([...ids]).toArray();
    for (const row of rows) {
      const body = row.data.body as { text?: string | null; html?: string | null } | null | undefined;
      // Text only: searching HTML would match markup. One variant per message is enough.
      const text = body?.text ?? '';
      if (text && !out.has(row.message_id)) out.set(row.message_id, text);
    }
    return out;
  }

  async function relieve(): Promise<number> {
    const p = created ?? (await ready.catch(() => undefined));
    return p ? p.content.relieve() : 0;
  }

  return { methods, stop, deleteCache, bodyText, relieve };
}
