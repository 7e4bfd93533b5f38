// Errors of the sync engine. Background failures are reported on `errors$` and
// reflected in `status$`; they are never thrown into the void (STYLE.md).
import { SendmuxApiError } from '../api/index.js';

/** Machine-readable codes of {@link SyncError}. */
export type SyncErrorCode =
  /** Listing the mailbox during bootstrap failed. */
  | 'bootstrap_failed'
  /** A `/mailbox/changes` pull (or the fetches it implies) failed. */
  | 'changes_failed'
  /** A type's state token was rejected or expired; the type is being re-listed. */
  | 'invalid_state'
  /** The SSE stream failed or is unavailable; the engine polls instead. */
  | 'push_unavailable'
  /** The event stream sent more events than the intake takes (a flood); the stream is closed for a while and the engine polls. */
  | 'push_flood'
  /** The network is unreachable; the engine retries with backoff. */
  | 'offline'
  /** The credential was rejected (401/403); syncing pauses until `syncNow()`. */
  | 'unauthorized'
  /** A local database operation failed. */
  | 'storage_failed'
  /** The engine was stopped while the operation ran. */
  | 'stopped'
  /** The API broke its contract (unexpected response shape). */
  | 'protocol_error'
  /** Loading or refreshing a server query window failed; retried on the next trigger. */
  | 'window_failed'
  /** Fetching or caching message content, an attachment, or sending failed (`cause` is a ContentError). */
  | 'content_failed'
  /** The server imposed a long wait (Retry-After, X-RateLimit-Reset); the engine waits at most five minutes, then retries on its own backoff. */
  | 'rate_limited'
  /** Flushing optimistic mutations failed (they stay queued, or were rolled back and reported on outcomes$). */
  | 'mutation_failed';

/** An engine error. `cause` holds the underlying error (often a `SendmuxApiError`). */
export class SyncError extends Error {
  override readonly name = 'SyncError';
  readonly code: SyncErrorCode;
  /** True when the engine retries on its own. */
  readonly retryable: boolean;

  /** `retryable` defaults to true (the engine retries on its own). */
  constructor(code: SyncErrorCode, message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? true;
  }
}

/** True for failures that mean "no network" rather than "the server said no". */
export function isNetworkFailure(error: unknown): boolean {
  return error instanceof SendmuxApiError && (error.code === 'network_error' || error.code === 'timeout');
}

/** True when IndexedDB refused a write for lack of space (also when Dexie wraps the DOMException). */
export function isQuotaError(error: unknown): boolean {
  for (let e = error, depth = 0; e && depth < 5; depth++) {
    const x = e as { name?: string; inner?: unknown; cause?: unknown };
    if (x.name === 'QuotaExceededError') return true;
    e = x.inner ?? x.cause;
  }
  return false;
}

/** True for a rejected credential. */
export function isAuthFailure(error: unknown): boolean {
  return error instanceof SendmuxApiError && (error.status === 401 || error.code === 'authentication_required');
}

/** Wraps any failure of a sync step into a {@link SyncError} with the right code. */
export function toSyncError(code: SyncErrorCode, step: string, error: unknown): SyncError {
  if (error instanceof SyncError) return error;
  if (isNetworkFailure(error)) return new SyncError('offline', `${step}: network unreachable`, { cause: error });
  if (isQuotaError(error)) return new SyncError('storage_failed', `${step}: the device's storage quota is exhausted`, { cause: error });
  if (isAuthFailure(error)) return new SyncError('unauthorized', `${step}: the API key was rejected`, { cause: error, retryable: false });
  const detail = error instanceof Error ? error.message : String(error);
  return new SyncError(code, `${step}: ${detail}`, { cause: error });
}
