// sendmux-sync: an offline-first replica of a Sendmux mailbox with RxJS views and
// optimistic mutations. The API client is the `sendmux-sync/api` subpath; the
// simulator is `sendmux-sync/sim`.
import { Subject } from 'rxjs';
import { createMutations, type MailboxMutations } from './reactive/mutations.js';
import { createSyncEngine, type MailboxSync as EngineSync, type MailboxSyncOptions as EngineOptions } from './sync/engine.js';
import { createOutbox, type OutboxOptions } from './sync/mutations.js';

/** Options of {@link createMailboxSync}: the engine's, plus the outbox flusher's. */
export interface MailboxSyncOptions extends EngineOptions {
  /** Outbox flusher settings (conflict policy, retry backoff). */
  outbox?: OutboxOptions;
}

/** A synced mailbox: lifecycle, status, read views and optimistic mutations. */
export interface MailboxSync extends EngineSync, MailboxMutations {}

/**
 * Creates the sync engine of one mailbox: a local IndexedDB replica kept equal to
 * the server (state tokens, `/mailbox/changes`, SSE and polling) with RxJS views
 * and optimistic, durable mutations.
 *
 * ```ts
 * const sync = createMailboxSync({ apiKey, baseUrl });
 * sync.messages$({ folderId: 'inbox', limit: 50 }).subscribe(render);
 * await sync.start();
 * await sync.update([id], { seen: true });
 * ```
 */
export function createMailboxSync(options: MailboxSyncOptions): MailboxSync {
  const { outbox: outboxOptions, ...engineOptions } = options;
  const engine = createSyncEngine(engineOptions);
  const stop$ = new Subject<void>();
  const outbox = engine.context.then((ctx) => createOutbox(ctx, outboxOptions ?? {}));
  outbox.catch(() => undefined);
  const mutations = createMutations(outbox, stop$);
  const core = engine.sync;
  const stop = async () => {
    await core.stop(); // aborts the context signal: the outbox flusher stops with it
    if (!stop$.closed) {
      stop$.next();
      stop$.complete();
    }
  };
  return {
    ...core,
    ...mutations,
    stop,
    async clear() {
      await stop();
      await core.clear();
    },
  };
}

export type { MailboxViews } from './reactive/views.js';
export type { MessagePatch, MutationErrorDetail, MutationOutcome, MutationReason, RemoveOptions } from './reactive/mutations.js';
export type { OutboxOptions } from './sync/mutations.js';
export type { MessageQuery, MessageSortKey, ThreadQuery, ThreadWithMessages } from './store/queries.js';
export type { ReplicaSnapshot } from './store/snapshot.js';
export { SyncError, type SyncErrorCode } from './sync/errors.js';
export { initialStatus, reduceStatus, type PushState, type SyncAction, type SyncPhase, type SyncStatus } from './sync/status.js';
export type { EnvironmentEvent, EnvironmentSignals, PollOptions } from './sync/poll.js';
export type { LeaderMode, LockManagerLike } from './sync/leader.js';
export type { Address, Attachment, Folder, Identity, Message, Quota, Submission, Thread } from './api/index.js';
