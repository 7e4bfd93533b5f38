// sendmux-sync: an offline-first replica of a Sendmux mailbox with RxJS views.
// The API client is the `sendmux-sync/api` subpath; the simulator is `sendmux-sync/sim`.
import { createSyncEngine, type MailboxSync, type MailboxSyncOptions } from './sync/engine.js';

/**
 * Creates the sync engine of one mailbox: a local IndexedDB replica kept equal to
 * the server (state tokens, `/mailbox/changes`, SSE and polling) with RxJS views.
 *
 * ```ts
 * const sync = createMailboxSync({ apiKey, baseUrl });
 * sync.messages$({ folderId: 'inbox', limit: 50 }).subscribe(render);
 * await sync.start();
 * ```
 */
export function createMailboxSync(options: MailboxSyncOptions): MailboxSync {
  return createSyncEngine(options).sync;
}

export type { MailboxSync, MailboxSyncOptions } from './sync/engine.js';
export type { MailboxViews } from './reactive/views.js';
export type { MessageQuery, MessageSortKey, ThreadQuery, ThreadWithMessages } from './store/queries.js';
export type { ReplicaSnapshot } from './store/snapshot.js';
export { SyncError, type SyncErrorCode } from './sync/errors.js';
export { initialStatus, reduceStatus, type PushState, type SyncAction, type SyncPhase, type SyncStatus } from './sync/status.js';
export type { EnvironmentEvent, EnvironmentSignals, PollOptions } from './sync/poll.js';
export type { LeaderMode } from './sync/leader.js';
export type { Address, Attachment, Folder, Identity, Message, Quota, Submission, Thread } from './api/index.js';
