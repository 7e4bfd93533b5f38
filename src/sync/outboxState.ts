// The life of one outbox entry as data plus a pure reducer (STYLE.md "State machines
// are data plus pure functions"):
//
//   pending ──send──▶ sending ──acked──▶ acked
//      ▲                 │ ├──conflict──▶ rebasing ──rebased──▶ pending
//      └──retry_later────┘ └──rejected──▶ failed
//
// plus the pure decisions the flusher takes on a failed send: what kind of failure
// it is (docs/errors.md: branch on `code`/`status`, honour Retry-After), what to do
// after a 409 under the configured conflict policy (DESIGN.md invariant 5), and how
// long to back off. The flusher (outbox.ts) is a thin shell that persists `status`
// and runs the effects these functions decide.
import { SendmuxApiError } from '../api/index.js';
import type { OutboxStatus } from '../store/db.js';

/**
 * What to do when a guarded write keeps conflicting after the bounded rebase attempts
 * (DESIGN.md invariant 5). Every policy first pulls changes, rebases the pending ops
 * on the new server records and retries with the new state `maxRebases` times.
 * - `'force'` (default): then send without `if_in_state`. Flag/keyword sets and
 *   moves to Trash are absolute, so the user's last intent wins.
 * - `'rebase'`: never overwrite; keep rebasing and retrying guarded, with backoff.
 * - `'fail'`: roll the mutation back and report it (`rolled_back`, reason `conflict`).
 */
export type ConflictPolicy = 'rebase' | 'force' | 'fail';

/** In-memory state of one outbox entry while a leader flushes it. */
export interface OutboxEntryState {
  status: OutboxStatus;
  /** 409 conflicts met so far. */
  conflicts: number;
  /** True once the entry was rebased at least once (its outcome is then `rebased`). */
  rebased: boolean;
  /** True when the next send omits `if_in_state` (policy `force` after the bounded rebases). */
  force: boolean;
}

/** Everything that changes an entry's state. */
export type OutboxAction =
  /** The entry goes out in a batch (pending → sending). */
  | { type: 'send' }
  /** The server applied it (sending → acked). */
  | { type: 'acked' }
  /** 409: the state moved; pull and rebase (sending → rebasing). */
  | { type: 'conflict'; policy: ConflictPolicy; maxRebases: number }
  /** The pull after a conflict committed; the entry is ready to retry (rebasing → pending). */
  | { type: 'rebased' }
  /** Network error, 5xx or 429 (or a failed pull while rebasing): back to pending. */
  | { type: 'retry_later' }
  /** 401: back to pending, the attempt not counted; the network pauses until syncNow(). */
  | { type: 'paused' }
  /** A permanent failure, or a conflict under policy `fail` after the bounded rebases. */
  | { type: 'rejected' }
  /** Found `sending`/`rebasing` by a new leader (a reload or a crash mid-send). */
  | { type: 'recovered' };

/** The state of a newly enqueued (or reloaded) entry. */
export function initialEntryState(status: OutboxStatus = 'pending'): OutboxEntryState {
  return { status, conflicts: 0, rebased: false, force: false };
}

/** True for statuses that end an entry's life (it no longer overlays records). */
export function isTerminal(status: OutboxStatus): boolean {
  return status === 'acked' || status === 'failed';
}

/**
 * The pure entry reducer. Transitions not in the diagram return the same object
 * (never throws), so a late answer for a settled entry is harmless.
 */
export function reduceEntry(state: OutboxEntryState, action: OutboxAction): OutboxEntryState {
  if (isTerminal(state.status)) return state;
  switch (action.type) {
    case 'send':
      if (state.status !== 'pending') return state;
      return { ...state, status: 'sending' };
    case 'acked':
      if (state.status !== 'sending') return state;
      return { ...state, status: 'acked' };
    case 'conflict': {
      if (state.status !== 'sending') return state;
      const conflicts = state.conflicts + 1;
      // The bounded guarded retries are spent: the policy decides (force / keep rebasing / fail).
      const exhausted = conflicts > action.maxRebases;
      if (exhausted && action.policy === 'fail') return { ...state, status: 'failed', conflicts };
      return {
        ...state,
        status: 'rebasing',
        conflicts,
        rebased: true,
        force: state.force || (exhausted && action.policy === 'force'),
      };
    }
    case 'rebased':
      if (state.status !== 'rebasing') return state;
      return { ...state, status: 'pending' };
    case 'retry_later':
      if (state.status !== 'sending' && state.status !== 'rebasing') return state;
      return { ...state, status: 'pending' };
    case 'paused':
      // Queued again as it was (the key, not the entry, failed).
      if (state.status !== 'sending' && state.status !== 'rebasing') return state;
      return { ...state, status: 'pending' };
    case 'rejected':
      return { ...state, status: 'failed' };
    case 'recovered':
      if (state.status !== 'sending' && state.status !== 'rebasing') return state;
      return { ...state, status: 'pending' };
  }
}

/** How the flusher treats a failed batch call. */
export type FailureKind =
  /** 409 `conflict`: the mailbox moved since `if_in_state` (docs/search-and-batch.md). */
  | 'conflict'
  /** Keep the entries queued and retry with backoff: network, timeout, 5xx, 429. */
  | 'transient'
  /**
   * 401: the key was rejected. Keep the entries queued, not counted as a failure, and
   * pause the network until syncNow() (a rejected key is the account's problem, not
   * the mutation's).
   */
  | 'unauthorized'
  /** Roll back: the server will never accept this request as it is (400, 403, 413, 422…). */
  | 'permanent'
  /** The engine is stopping: leave the entries as they are. */
  | 'aborted';

/** Classifies a batch-update/batch-delete failure (docs/errors.md "retryable"). */
export function classifyFailure(error: unknown): FailureKind {
  if (!(error instanceof SendmuxApiError)) return 'transient';
  if (error.code === 'aborted') return 'aborted';
  if (error.status === 409 && error.code !== 'idempotency_conflict') return 'conflict';
  if (error.status === 0) return 'transient';
  // A rejected or revoked key is an account problem, not the mutation's: keep the
  // user's intent queued until the credential works again.
  if (error.status === 401 || error.code === 'authentication_required') return 'unauthorized';
  if (error.status === 408 || error.status === 429 || error.status >= 500) return 'transient';
  return error.retryable ? 'transient' : 'permanent';
}

/** Backoff settings of the flusher (ms). */
export interface OutboxBackoff {
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_OUTBOX_BACKOFF: OutboxBackoff = { baseDelayMs: 1_000, maxDelayMs: 60_000 };

/**
 * Delay before retry number `failures` (1 = first): exponential with "equal jitter"
 * (half fixed, half random, so it never collapses to 0 and hammers a dead network),
 * never shorter than the server's Retry-After (docs/errors.md).
 */
export function outboxBackoff(failures: number, policy: OutboxBackoff, random: () => number, retryAfterMs?: number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, failures - 1));
  const delay = Math.floor(ceiling / 2 + random() * (ceiling / 2));
  return retryAfterMs !== undefined ? Math.max(retryAfterMs, delay) : delay;
}
