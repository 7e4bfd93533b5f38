// The engine's observable state as data plus a pure reducer (STYLE.md "State
// machines are data plus pure functions"). Phases:
//   idle → bootstrapping → catching_up → live ↔ offline, and error from any phase.
// A 401 pauses the network (phase error, `paused: 'unauthorized'`) until syncNow().
// Followers (tabs that are not the network leader) mirror the replica and stay
// `live` once it holds a complete sync; they never go offline on their own.
import { SyncError } from './errors.js';

/** Phase of the engine. */
export type SyncPhase = 'idle' | 'bootstrapping' | 'catching_up' | 'live' | 'offline' | 'error';

/** Why the engine holds the network still until `syncNow()` (null while it runs). */
export type PauseReason = 'unauthorized';

/** State of the SSE stream as the engine sees it. */
export type PushState = 'off' | 'connecting' | 'connected' | 'unavailable';

/** What `status$` emits. */
export interface SyncStatus {
  phase: SyncPhase;
  /** Bootstrap progress in messages (null outside bootstrap or before the total is known). */
  progress: { done: number; total: number | null } | null;
  /** Epoch ms of the last successful sync with the server (null before the first). */
  lastSyncedAt: number | null;
  /** ms between the last successful sync and this status (0 right after a sync). */
  lag: number | null;
  /** Outbox entries not yet acknowledged by the server. */
  pendingMutations: number;
  /** True while this engine is the network leader (DESIGN.md invariant 7). */
  leader: boolean;
  push: PushState;
  /** The error behind an `offline` or `error` phase. */
  error: SyncError | null;
  /**
   * Set while the network is paused: 'unauthorized' after a 401 (the sync loop, the
   * event stream, the outbox and sends wait; nothing is retried in the background)
   * until `syncNow()` tries again. Null otherwise.
   */
  paused: PauseReason | null;
}

/** Everything that changes the status. `at` is the engine clock (epoch ms). */
export type SyncAction =
  | { type: 'bootstrap_started'; at: number }
  | { type: 'bootstrap_progress'; at: number; done: number; total: number | null }
  | { type: 'catchup_started'; at: number }
  | { type: 'synced'; at: number }
  | { type: 'offline'; at: number; error: SyncError }
  | { type: 'failed'; at: number; error: SyncError }
  | { type: 'paused'; at: number; reason: PauseReason; error: SyncError }
  | { type: 'resumed'; at: number }
  | { type: 'leader'; at: number; leader: boolean }
  | { type: 'push'; at: number; state: PushState }
  | { type: 'pending'; at: number; count: number }
  | { type: 'mirror'; at: number; leaderStatus: LeaderStatus }
  | { type: 'stopped'; at: number };

/**
 * What the leader publishes in the shared database so follower tabs can show the
 * network state they do not see themselves (invariant 7: followers never fetch).
 */
export interface LeaderStatus {
  phase: SyncPhase;
  lastSyncedAt: number | null;
  push: PushState;
  error: { code: SyncError['code']; message: string } | null;
}

/** The part of a leader's status that followers mirror (pure). */
export function leaderStatusOf(status: SyncStatus): LeaderStatus {
  return {
    phase: status.phase,
    lastSyncedAt: status.lastSyncedAt,
    push: status.push,
    error: status.error ? { code: status.error.code, message: status.error.message } : null,
  };
}

/** The status of an engine that has not started. */
export const initialStatus: SyncStatus = {
  phase: 'idle',
  progress: null,
  lastSyncedAt: null,
  lag: null,
  pendingMutations: 0,
  leader: false,
  push: 'off',
  error: null,
  paused: null,
};

function withLag(status: SyncStatus, at: number): SyncStatus {
  return { ...status, lag: status.lastSyncedAt === null ? null : Math.max(0, at - status.lastSyncedAt) };
}

/** The pure status reducer. Unknown transitions keep the phase (never throw). */
export function reduceStatus(status: SyncStatus, action: SyncAction): SyncStatus {
  switch (action.type) {
    case 'bootstrap_started':
      return withLag({ ...status, phase: 'bootstrapping', progress: { done: 0, total: null }, error: null }, action.at);
    case 'bootstrap_progress':
      return withLag({ ...status, phase: 'bootstrapping', progress: { done: action.done, total: action.total } }, action.at);
    case 'catchup_started':
      // A live engine polling for changes stays live; only a fresh start, a
      // bootstrap or a recovery shows catching_up.
      if (status.phase === 'live') return withLag(status, action.at);
      return withLag({ ...status, phase: 'catching_up', progress: null }, action.at);
    case 'synced':
      return { ...status, phase: 'live', progress: null, lastSyncedAt: action.at, lag: 0, error: null, paused: null };
    case 'offline':
      return withLag({ ...status, phase: 'offline', error: action.error }, action.at);
    case 'failed':
      return withLag({ ...status, phase: 'error', error: action.error }, action.at);
    case 'paused':
      return withLag({ ...status, phase: 'error', error: action.error, paused: action.reason, progress: null }, action.at);
    case 'resumed':
      // Trying again: the phase moves on with the next cycle (catching_up, then live).
      return status.paused === null ? status : withLag({ ...status, paused: null }, action.at);
    case 'leader':
      return withLag({ ...status, leader: action.leader }, action.at);
    case 'push':
      return withLag({ ...status, push: action.state }, action.at);
    case 'pending':
      return withLag({ ...status, pendingMutations: action.count }, action.at);
    case 'mirror': {
      // A follower shows the leader's network state; a replica that never completed
      // a bootstrap stays in the follower's own (idle/bootstrapping) phase.
      const l = action.leaderStatus;
      const error = l.error ? new SyncError(l.error.code, l.error.message) : null;
      return withLag({ ...status, phase: l.phase, lastSyncedAt: l.lastSyncedAt, push: l.push, error, progress: null }, action.at);
    }
    case 'stopped':
      return withLag({ ...status, phase: 'idle', progress: null, push: 'off', leader: false }, action.at);
  }
}
