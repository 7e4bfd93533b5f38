// Retry policy: exponential backoff with full jitter (AWS Architecture Blog,
// "Exponential Backoff and Jitter"), never shorter than the server's Retry-After
// (docs/errors.md: honour Retry-After on 429 and 503). Timers are injected.
import { SendmuxApiError } from './errors.js';

/** Injectable clock, timers and randomness. Defaults read the globals at call time (fake timers work). */
export interface Clock {
  /** Current time in epoch ms. */
  now(): number;
  /** Runs `fn` after `ms`; returns a handle for {@link Clock.clearTimeout}. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a timer armed by {@link Clock.setTimeout}. */
  clearTimeout(handle: unknown): void;
  /** A number in [0, 1) (jitter). */
  random(): number;
}

/** Retry settings (see `MailboxApiOptions.retry`). */
export interface RetryPolicy {
  /** Total attempts including the first. Default 4. */
  attempts: number;
  /** First backoff ceiling in ms. Default 500. */
  baseDelayMs: number;
  /** Backoff ceiling in ms. Default 30 000. */
  maxDelayMs: number;
  /** A Retry-After longer than this is not waited for: the error is thrown. Default 120 000. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 500, maxDelayMs: 30_000, maxRetryAfterMs: 120_000 };

/** The default clock: `Date.now`, global timers, `Math.random`. */
export function systemClock(overrides: Partial<Clock> = {}): Clock {
  return {
    now: overrides.now ?? (() => Date.now()),
    setTimeout: overrides.setTimeout ?? ((fn, ms) => globalThis.setTimeout(fn, ms)),
    clearTimeout: overrides.clearTimeout ?? ((h) => globalThis.clearTimeout(h as ReturnType<typeof globalThis.setTimeout>)),
    random: overrides.random ?? (() => Math.random()),
  };
}

/**
 * Delay before retry number `retry` (1 = first retry): full jitter,
 * `random() * min(maxDelayMs, baseDelayMs * 2^(retry-1))`, raised to `retryAfterMs`
 * when the server asked for a wait.
 */
export function backoffDelay(retry: number, policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>, random: () => number, retryAfterMs?: number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  const jittered = Math.floor(random() * ceiling);
  return retryAfterMs !== undefined ? Math.max(retryAfterMs, jittered) : jittered;
}

/** The error a cancelled call or wait rejects with. */
export function abortError(signal?: AbortSignal): SendmuxApiError {
  const reason: unknown = signal?.reason;
  const isTimeout = reason instanceof Error && reason.name === 'TimeoutError';
  return new SendmuxApiError({
    status: 0,
    code: isTimeout ? 'timeout' : 'aborted',
    message: isTimeout ? 'The request timed out' : 'The request was aborted',
    retryable: isTimeout,
  });
}

/** setTimeout's largest delay (a signed 32-bit ms count); a longer one fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Waits `ms` on the injected clock (at most {@link MAX_TIMER_MS}); rejects with an `aborted` SendmuxApiError when `signal` fires. */
export function sleep(ms: number, clock: Clock, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortError(signal));
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clock.clearTimeout(handle);
      reject(abortError(signal));
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.min(Math.max(0, ms), MAX_TIMER_MS));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
