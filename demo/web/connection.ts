// What the status bar says about the connection, in the user's words, derived from
// the engine's status$ (phase, push, error, paused) and the platform's online
// signal. Pure, so the rules read in one place:
//
//   live      the replica is caught up and the event stream is connected
//   syncing   downloading, catching up, or (re)connecting the event stream
//   offline   no network (the platform says so, or requests cannot reach the server)
//   degraded  the server answers with errors and the engine is retrying, or the event
//             stream is down and new mail arrives only by polling
//   error     needs the user: the key was rejected, or a failure the engine will not retry
//
// Never "live" while the stream is cut or requests fail.
import type { PushState, SyncPhase } from '../../src/index.js';

/** What the status bar shows (the engine's `status$`, plus the platform's online signal); see hooks.ts useEngineStatus. */
export interface EngineStatus {
  phase: SyncPhase;
  push: PushState;
  /** The error behind an offline or error phase. */
  error: { code: string; message: string; retryable: boolean } | null;
  /** 'unauthorized' while a rejected key holds the network until syncNow(). */
  paused: 'unauthorized' | null;
  /** The platform's signal (navigator.onLine). */
  online: boolean;
  progress: { done: number; total: number | null } | null;
  lastSyncedAt: number | null;
  pendingMutations: number;
  /** Sends waiting in the outbox. */
  outbox: number;
  role: 'leader' | 'follower' | null;
}

export type ConnectionState = 'starting' | 'syncing' | 'live' | 'offline' | 'degraded' | 'error';

export interface ConnectionView {
  state: ConnectionState;
  /** Short label for the status bar. */
  label: string;
  /** One sentence for the tooltip: what is going on and what the engine does about it. */
  detail: string;
}

/** A retryable failure of requests, seen on errors$ (epoch ms). */
export interface RecentFailure {
  at: number;
  /** 'mutation': the outbox could not send a change; 'sync': a pull or the session failed. */
  kind: 'sync' | 'mutation';
  message: string;
}

/** How long a failed request keeps the status "degraded" unless a sync succeeds after it. */
export const FAILURE_WINDOW_MS = 20_000;

export function connectionView(
  s: EngineStatus | null,
  lastFailure: RecentFailure | null = null,
  now: number = Date.now(),
): ConnectionView {
  if (!s || s.phase === 'idle') return { state: 'starting', label: 'Starting…', detail: 'Opening the local replica.' };
  if (!s.online) return { state: 'offline', label: 'Offline', detail: 'No network. Changes are kept and sent when the connection is back.' };
  if (s.paused === 'unauthorized') {
    return { state: 'error', label: 'Key rejected', detail: 'The server rejected the API key; syncing is paused until you try again.' };
  }
  switch (s.phase) {
    case 'bootstrapping':
      return { state: 'syncing', label: 'Downloading mailbox', detail: 'First download of the mailbox into this browser.' };
    case 'catching_up':
      return { state: 'syncing', label: 'Syncing', detail: 'Fetching what changed on the server.' };
    case 'offline':
      return { state: 'offline', label: 'Offline', detail: 'The server cannot be reached. Retrying; changes are kept and sent later.' };
    case 'error':
      return s.error && !s.error.retryable
        ? { state: 'error', label: 'Sync stopped', detail: s.error.message }
        : { state: 'degraded', label: 'Server errors · retrying', detail: 'Requests to the server fail; the engine retries them by itself.' };
    case 'live':
      break;
  }
  // A recent failed request that nothing has made good since: a pull not followed by
  // a successful sync, or a change the outbox still holds (e.g. an update answered 5xx).
  const unresolved =
    lastFailure !== null &&
    now - lastFailure.at < FAILURE_WINDOW_MS &&
    (lastFailure.kind === 'mutation' ? s.pendingMutations > 0 : s.lastSyncedAt === null || lastFailure.at > s.lastSyncedAt);
  if (lastFailure && unresolved) {
    return { state: 'degraded', label: 'Server errors · retrying', detail: `Requests fail and are retried: ${lastFailure.message}` };
  }
  if (s.push === 'unavailable') {
    return { state: 'degraded', label: 'Polling', detail: 'The live event stream is down; new mail arrives by polling until it reconnects.' };
  }
  if (s.push === 'connecting') return { state: 'syncing', label: 'Connecting', detail: 'Opening the live event stream.' };
  return { state: 'live', label: 'Live', detail: 'Up to date; new mail arrives as it is received.' };
}
