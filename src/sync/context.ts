// The engine's internal context: what the sync steps (bootstrap, changes, push,
// poll) and the outbox flusher share. Not part of the public API (never re-exported
// from src/index.ts); the outbox module receives it from the engine.
import type { Observable } from 'rxjs';
import type { MailboxApi } from '../api/index.js';
import type { MailboxDb } from '../store/db.js';
import type { SyncError } from './errors.js';
import type { SyncAction } from './status.js';

/** Injectable time, timers and randomness (STYLE.md "Inject time and I/O"). */
export interface EngineClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  random(): number;
}

/** Page sizes the engine uses, already clamped to the session's limits (invariant 8). */
export interface EngineLimits {
  /** `limit` of list calls (session `list_limit_max`, or the `pageSize` option if smaller). */
  listLimit: number;
  /** `limit` of `/mailbox/changes` (session `changes_limit_max`). */
  changesLimit: number;
  /** Ids per `messages:batch-get` / batch-update / batch-delete (session `batch_ids_max`, ≤ 100). */
  batchIds: number;
}

/**
 * Shared by every part of one engine. The outbox module uses:
 * - `db` (enqueue in a rw transaction over `db.overlayTables`, then `recomputeVisible`),
 * - `api` (batch-update / batch-delete / send with `priority: 'user'`),
 * - `pullChanges()` before rebasing on a 409,
 * - `messageState()` for `if_in_state` (fast-forwards go through `settleMutations`),
 * - `isLeader()` / `leader$` (only the leader flushes; invariant 7),
 * - `reportError()` and `dispatch()` (errors$ / status$),
 * - `unauthorized()` on a 401, and `isPaused()` / `paused$` (no requests while paused),
 * - `stopped` (an AbortSignal that fires on `stop()`).
 */
export interface SyncContext {
  readonly db: MailboxDb;
  readonly api: MailboxApi;
  readonly clock: EngineClock;
  /** Aborted when the engine stops; pass it to API calls and waits. */
  readonly stopped: AbortSignal;
  /** Current limits (defaults until the session is known). */
  limits(): EngineLimits;
  /** True while this engine holds the network leadership. */
  isLeader(): boolean;
  /** Emits the leadership state (current value first). */
  readonly leader$: Observable<boolean>;
  /**
   * Pulls `/mailbox/changes` now (coalesced with any pull in flight: resolves after a
   * pull that started after this call). Leader only; rejects with a SyncError when
   * the pull fails (the failure is also reported on errors$).
   */
  pullChanges(reason?: string): Promise<void>;
  /** The replica's committed message state token (the `if_in_state` to send). */
  messageState(): Promise<string | undefined>;
  /** Applies a status action (status$). */
  dispatch(action: SyncAction): void;
  /** Reports a background failure on errors$ (never throws). */
  reportError(error: SyncError): void;
  /**
   * A part got a 401: pauses the network (sync loop, event stream, outbox, sends)
   * until `syncNow()`, reports the error once and shows it on status$. The caller
   * keeps its work queued (a 401 is neither transient nor a rejection).
   */
  unauthorized(error: unknown): void;
  /** True while paused by a rejected credential (see {@link unauthorized}); current value first. */
  readonly paused$: Observable<boolean>;
  /** True while paused by a rejected credential. */
  isPaused(): boolean;
  /**
   * Partial replica mode (issue 7): which messages the replica holds. Absent = every
   * message (a full replica). Given by the composition root ({@link CoreWiring}):
   * bootstrap then lists no messages (folder windows fill the replica) and catch-up
   * fetches only held messages.
   */
  readonly messageScope?: MessageScope;
  /**
   * Frees local storage when IndexedDB's quota is exhausted (DESIGN.md invariant 8:
   * the body cache gives way to the replica). Given by the composition root to evict
   * cached message content; resolves with the bytes freed.
   */
  readonly relieveStorage?: () => Promise<number>;
}

/**
 * What the composition root hands the sync core at construction for parts built on
 * top of it (the content cache, the partial replica). They are called only after
 * `start()`, so they may close over parts created after the core.
 */
export type CoreWiring = Partial<Pick<SyncContext, 'messageScope' | 'relieveStorage'>>;

/** Which messages a partial replica holds (see src/sync/partialReplica.ts). */
export interface MessageScope {
  /** The subset of `ids` the replica holds or a window shows: what a changes pull fetches. */
  held(ids: readonly string[]): Promise<string[]>;
}
