/**
 * `sendmux-sync`: an offline-first replica of a Sendmux mailbox with RxJS views and
 * optimistic, durable mutations. Start with {@link createMailboxSync}. The API client
 * is the `sendmux-sync/api` entry; the simulator is `sendmux-sync/sim`.
 *
 * @packageDocumentation
 */
import { ReplaySubject } from 'rxjs';
import { createAgentRecords, type MailboxAgentRecords } from './reactive/agent.js';
import { attachContent, type ContentOptions, type MailboxContent } from './reactive/content.js';
import { createMutations, type MailboxMutations } from './reactive/mutations.js';
import { attachWindows, type MailboxWindows, type WindowsOptions } from './reactive/windows.js';
import { createSyncEngine, type MailboxSync as EngineSync, type MailboxSyncOptions as EngineOptions } from './engine.js';
import { createOutbox, type OutboxOptions } from './sync/mutations.js';
import { startFolderOrder } from './sync/folderOrder.js';
import { createPartialReplica, type PartialReplica, type ReplicaMode } from './sync/partialReplica.js';
import { PendingEffects } from './store/effects.js';

/** Options of {@link createMailboxSync}: the engine's, plus the outbox's, content's and windows'. */
export interface MailboxSyncOptions extends EngineOptions, WindowsOptions {
  /** Outbox flusher settings (conflict policy, retry backoff). */
  outbox?: OutboxOptions;
  /** Body/attachment cache budgets and the prefetch policy. */
  content?: ContentOptions;
  /**
   * How much of the mailbox to hold. Default `{ mode: 'full' }` (every message).
   * `{ mode: 'windowed', perFolder: N }` holds the newest N messages of each folder,
   * plus any message an open window shows or with pending changes: for huge mailboxes
   * and small devices.
   */
  replica?: ReplicaMode;
}

/** A synced mailbox: lifecycle, status, read views, optimistic mutations, content, sends, windows and search. */
export interface MailboxSync extends Omit<EngineSync, 'thread$'>, MailboxMutations, MailboxContent, MailboxWindows, MailboxAgentRecords {}

const DEFAULT_WINDOW_ACTIVE_MS = 10 * 60_000;

/**
 * Creates the sync engine of one mailbox: a local IndexedDB replica kept equal to
 * the server (state tokens, `/mailbox/changes`, SSE and polling) with RxJS views
 * and optimistic, durable mutations. Nothing runs until {@link MailboxSync.start};
 * background failures go to `status$` and `errors$`, never to unhandled rejections.
 *
 * ```ts
 * const sync = createMailboxSync({ apiKey });            // Node: also { indexedDB, IDBKeyRange }
 * await sync.start();                                     // resolves once caught up
 * const inbox = (await firstValueFrom(sync.folders$())).find((f) => f.role === 'inbox');
 * sync.messages$({ folderId: inbox?.id, limit: 50 }).subscribe(render);
 * await sync.update([id], { seen: true });
 * ```
 *
 * @throws TypeError when `apiKey` (or `api`) is missing or an option is malformed.
 */
export function createMailboxSync(options: MailboxSyncOptions): MailboxSync {
  const { outbox: outboxOptions, content: contentOptions, windowActiveMs, replica, ...engineOptions } = options;
  if (replica?.mode === 'windowed' && !(Number.isInteger(replica.perFolder) && replica.perFolder > 0)) {
    throw new TypeError('createMailboxSync: replica.perFolder must be a positive integer, e.g. { mode: "windowed", perFolder: 200 }');
  }
  // The parts built on the core (content, the partial replica) are handed to it now
  // as calls; they run only after start(), when every part exists.
  let partial: Promise<PartialReplica> | undefined;
  // This engine's update() calls, shown by its views before their commit lands.
  const effects = new PendingEffects();
  const engine = createSyncEngine(engineOptions, {
    // Out of storage, the engine evicts cached content before giving up.
    relieveStorage: () => content.relieve(),
    ...(replica?.mode === 'windowed'
      ? { messageScope: { held: async (ids: readonly string[]) => (await (partial as Promise<PartialReplica>)).held(ids) } }
      : {}),
  }, effects);
  // Replays the stop so outcomes$ subscribed after stop() completes at once.
  const stop$ = new ReplaySubject<void>(1);
  const outbox = engine.context.then((ctx) =>
    createOutbox(ctx, { ...(options.environment ? { environment: options.environment } : {}), ...outboxOptions }),
  );
  outbox.catch(() => undefined);
  const mutations = createMutations(outbox, stop$, effects);
  const core = engine.sync;
  const content = attachContent(
    engine,
    {
      ...contentOptions,
      ...(options.environment ? { environment: options.environment } : {}),
      ...(options.storage ? { storage: options.storage } : {}),
      ...(options.indexedDB ? { indexedDB: options.indexedDB } : {}),
      ...(options.IDBKeyRange ? { IDBKeyRange: options.IDBKeyRange } : {}),
    },
    stop$,
    core.thread$,
  );
  const windows = attachWindows(engine, windowActiveMs !== undefined ? { windowActiveMs } : {}, stop$, content.bodyText, options.storage?.textSearch);
  // The server's folder-list order, kept by the leader (folders/query-changes).
  let stopFolderOrder: (() => void) | undefined;
  void engine.context.then((ctx) => (stopFolderOrder = startFolderOrder(ctx)), () => undefined);
  if (replica?.mode === 'windowed') {
    partial = Promise.all([engine.context, windows.manager]).then(([ctx, m]) =>
      createPartialReplica(ctx, m, { perFolder: replica.perFolder, activeForMs: windowActiveMs ?? DEFAULT_WINDOW_ACTIVE_MS }),
    );
    partial.catch(() => undefined);
  }
  const stop = async () => {
    await core.stop(); // aborts the context signal: the outbox flusher stops with it
    (await partial?.catch(() => undefined))?.stop();
    stopFolderOrder?.();
    await content.stop();
    if (!stop$.closed) {
      stop$.next();
      stop$.complete();
    }
  };
  return {
    ...core,
    ...mutations,
    ...content.methods,
    ...windows.methods,
    ...createAgentRecords(engine.context, options.now ?? (() => Date.now())),
    stop,
    async clear() {
      await stop();
      await core.clear();
      await content.deleteCache();
    },
  };
}

export type { MailboxViews } from './reactive/views.js';
export type { AuditLog, LocalDrafts, MailboxAgentRecords } from './reactive/agent.js';
export type { AuditEntry, DraftAddress, LocalDraft } from './store/agentLog.js';
export type { ContentOptions, MailboxContent, ThreadWithContent } from './reactive/content.js';
export type { MailboxWindows, WindowsOptions } from './reactive/windows.js';
export type { ReplicaMode } from './sync/partialReplica.js';
export type { SearchOptions, SearchState } from './reactive/search.js';
export { parseSearch } from './store/searchSyntax.js';
export type {
  SearchAnd,
  SearchDate,
  SearchField,
  SearchHas,
  SearchIn,
  SearchIs,
  SearchNode,
  SearchNot,
  SearchOr,
  SearchQuery,
  SearchSnippet,
  SearchText,
} from './store/searchSyntax.js';
export type { MessageWindow, WindowOptions, WindowState } from './sync/windows.js';
export type { WindowFilter, WindowSort, WindowSortKey } from './sync/queryWindow.js';
export { sanitizeHtml, resolveInlineImages, ContentError } from './content/index.js';
export type {
  ContentErrorCode,
  ContentReadOptions,
  ContentState,
  InlineImages,
  MessageContentData,
  OutboxSend,
  PrefetchPolicy,
  RawBodyData,
  RawBodyReadOptions,
  RawPart,
  SanitizeOptions,
  SanitizeResult,
  SendDraft,
  SendOptions,
  SendOutcome,
  ThreadContentOptions,
  ThreadContentState,
} from './content/index.js';
export type { MessagePatch, MutationErrorDetail, MutationOutcome, MutationReason, RemoveOptions } from './reactive/mutations.js';
export type { OutboxOptions } from './sync/mutations.js';
export type { MessageQuery, MessageSortKey, ThreadQuery, ThreadWithMessages } from './store/queries.js';
export type { ReplicaSnapshot } from './store/snapshot.js';
export { indexedDBStorage, type ReplicaStorage, type StorageDriver, type TextSearch } from './store/storage.js';
export { SyncError, type SyncErrorCode } from './sync/errors.js';
export { initialStatus, reduceStatus, type PushState, type SyncAction, type SyncPhase, type SyncStatus } from './sync/status.js';
export type { EnvironmentEvent, EnvironmentSignals, PollOptions } from './sync/poll.js';
export type { LeaderMode, LockManagerLike } from './sync/leader.js';
export type { Address, Attachment, Folder, Identity, Message, Quota, Submission, Thread } from './api/index.js';
