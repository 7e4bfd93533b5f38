// Client-side rate limiter. docs/introduction.md: Mailbox API keys get 1800 requests
// per minute, reported in X-RateLimit-Limit/Remaining/Reset; a 429 carries
// Retry-After. DESIGN.md invariant 8: request rate within the key's budget.
//
// The core is pure data + functions (a sliding log of send times, the server's last
// word on the remaining quota, and a pause after 429) so tests can drive it without
// timers. `RateLimiter` is the thin shell: a two-level priority queue and one timer.
import { MAX_SERVER_WAIT_MS, resetToEpochMs, type HeaderReader } from './envelope.js';
import { MAX_TIMER_MS, abortError, type Clock } from './retry.js';

/** Pure limiter state. */
export interface RateLimitState {
  /** Requests allowed per window: the configured budget, lowered by X-RateLimit-Limit. */
  readonly limit: number;
  /** The configured budget (the ceiling the server's limit can only lower). */
  readonly configuredLimit: number;
  /** Window length in ms (one minute for the Mailbox API). */
  readonly windowMs: number;
  /** Send times (ms) inside the current window, ascending. */
  readonly sent: readonly number[];
  /** The server's remaining quota, minus what was sent since it said so. */
  readonly serverRemaining?: number;
  /** When the server's window resets (epoch ms). */
  readonly serverResetAt?: number;
  /** No sends before this time (after a 429's Retry-After). */
  readonly pausedUntil: number;
}

/** A fresh state for `requestsPerMinute` (window `windowMs`, default 60 000). */
export function createRateLimitState(requestsPerMinute: number, windowMs = 60_000): RateLimitState {
  if (!(requestsPerMinute >= 1)) throw new RangeError('rateLimit.requestsPerMinute must be >= 1');
  const limit = Math.floor(requestsPerMinute);
  return { limit, configuredLimit: limit, windowMs, sent: [], pausedUntil: 0 };
}

/** Milliseconds until one more request may be sent (0 = now). */
export function waitTime(state: RateLimitState, now: number): number {
  let wait = Math.max(0, state.pausedUntil - now);
  const inWindow = state.sent.filter((t) => t > now - state.windowMs);
  if (inWindow.length >= state.limit) {
    // The (len - limit)th send leaving the window frees exactly one slot.
    const freeing = inWindow[inWindow.length - state.limit] ?? now;
    wait = Math.max(wait, freeing + state.windowMs - now);
  }
  if (state.serverRemaining !== undefined && state.serverRemaining <= 0 && state.serverResetAt !== undefined && state.serverResetAt > now) {
    wait = Math.max(wait, state.serverResetAt - now);
  }
  return wait;
}

/** Records one send at `now`. */
export function recordSend(state: RateLimitState, now: number): RateLimitState {
  const sent = state.sent.filter((t) => t > now - state.windowMs);
  sent.push(now);
  const serverExpired = state.serverResetAt !== undefined && state.serverResetAt <= now;
  const next: RateLimitState = { ...state, sent };
  if (serverExpired) return withoutServer(next);
  if (state.serverRemaining !== undefined) return { ...next, serverRemaining: state.serverRemaining - 1 };
  return next;
}

function withoutServer(state: RateLimitState): RateLimitState {
  const { serverRemaining: _r, serverResetAt: _a, ...rest } = state;
  return rest;
}

/**
 * Folds a response's X-RateLimit-* headers into the state. `inFlightOthers` is how
 * many other requests were sent and not yet answered: the server counted its
 * Remaining before those, so they are subtracted (conservative).
 */
export function observeRateLimitHeaders(state: RateLimitState, headers: HeaderReader, now: number, inFlightOthers = 0): RateLimitState {
  let next = state;
  const limitHeader = Number(headers.get('x-ratelimit-limit'));
  if (headers.get('x-ratelimit-limit') !== null && Number.isFinite(limitHeader) && limitHeader >= 1) {
    next = { ...next, limit: Math.min(state.configuredLimit, Math.floor(limitHeader)) };
  }
  const remainingRaw = headers.get('x-ratelimit-remaining');
  const resetRaw = headers.get('x-ratelimit-reset');
  const remaining = Number(remainingRaw);
  const resetAt = resetRaw !== null ? resetToEpochMs(resetRaw, now) : undefined;
  if (remainingRaw !== null && Number.isFinite(remaining) && resetAt !== undefined && resetAt > now) {
    // Issue 19: a Reset a day ahead would hold every request for a day; the hold is
    // capped and the server's next answer says whether the quota is still exhausted.
    next = { ...next, serverRemaining: Math.max(0, Math.floor(remaining)) - inFlightOthers, serverResetAt: Math.min(resetAt, now + MAX_SERVER_WAIT_MS) };
  }
  return next;
}

/** No sends before `until` (epoch ms), e.g. after a 429 with Retry-After; at most {@link MAX_SERVER_WAIT_MS} after `now`. */
export function pauseUntil(state: RateLimitState, until: number, now: number): RateLimitState {
  const capped = Math.min(until, now + MAX_SERVER_WAIT_MS);
  return capped > state.pausedUntil ? { ...state, pausedUntil: capped } : state;
}

/** Limiter priority: 'user' requests are served before any queued 'background' one. */
export type Priority = 'user' | 'background';

interface Waiter {
  resolve: (release: () => void) => void;
  reject: (error: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

/** Options of the client-side rate limiter (`MailboxApiOptions.rateLimit`). */
export interface RateLimiterOptions {
  /** Budget per window. */
  requestsPerMinute: number;
  /** Window length in ms. Default 60 000. */
  windowMs?: number;
  /** Injected clock/timers. */
  clock: Clock;
}

/**
 * Priority queue in front of the network: `acquire()` resolves when a request may
 * be sent without exceeding the budget, user requests first, FIFO within a priority.
 * Call the returned `release()` when the response (or failure) arrives.
 */
export class RateLimiter {
  #state: RateLimitState;
  readonly #clock: Clock;
  readonly #queues: Record<Priority, Waiter[]> = { user: [], background: [] };
  #timer: unknown;
  #timerAt = Infinity;
  #inFlight = 0;

  constructor(options: RateLimiterOptions) {
    this.#state = createRateLimitState(options.requestsPerMinute, options.windowMs);
    this.#clock = options.clock;
  }

  /** Current pure state (for inspection and tests). */
  get state(): RateLimitState {
    return this.#state;
  }

  /** Requests waiting for a slot, by priority. */
  get queued(): { user: number; background: number } {
    return { user: this.#queues.user.length, background: this.#queues.background.length };
  }

  /** Requests sent and not yet released. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Waits for a slot. Rejects with an `aborted` SendmuxApiError when `signal` fires first. */
  acquire(priority: Priority = 'user', signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { resolve, reject };
      if (signal) {
        waiter.signal = signal;
        waiter.onAbort = () => {
          const q = this.#queues[priority];
          const i = q.indexOf(waiter);
          if (i >= 0) q.splice(i, 1);
          reject(abortError(signal));
          this.#pump();
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.#queues[priority].push(waiter);
      this.#pump();
    });
  }

  /** Folds a response's X-RateLimit-* headers into the budget. */
  observe(headers: HeaderReader): void {
    this.#state = observeRateLimitHeaders(this.#state, headers, this.#clock.now(), Math.max(0, this.#inFlight - 1));
    this.#pump();
  }

  /** Holds every send for `ms`, at most {@link MAX_SERVER_WAIT_MS} (a 429's Retry-After applies to the whole key). */
  pauseFor(ms: number): void {
    const now = this.#clock.now();
    this.#state = pauseUntil(this.#state, now + ms, now);
    this.#pump();
  }

  /** Rejects every queued request and clears the timer (client disposal). */
  dispose(reason: unknown): void {
    this.#clearTimer();
    for (const p of ['user', 'background'] as const) {
      for (const w of this.#queues[p].splice(0)) {
        if (w.onAbort) w.signal?.removeEventListener('abort', w.onAbort);
        w.reject(reason);
      }
    }
  }

  #next(): Waiter | undefined {
    return this.#queues.user.shift() ?? this.#queues.background.shift();
  }

  #pump(): void {
    for (;;) {
      if (this.#queues.user.length === 0 && this.#queues.background.length === 0) {
        this.#clearTimer();
        return;
      }
      const now = this.#clock.now();
      const wait = waitTime(this.#state, now);
      if (wait > 0) {
        this.#schedule(now + wait, wait);
        return;
      }
      const waiter = this.#next();
      if (!waiter) return;
      if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
      this.#state = recordSend(this.#state, now);
      this.#inFlight += 1;
      let released = false;
      waiter.resolve(() => {
        if (released) return;
        released = true;
        this.#inFlight -= 1;
      });
    }
  }

  #schedule(at: number, wait: number): void {
    if (this.#timer !== undefined && this.#timerAt <= at) return;
    this.#clearTimer();
    this.#timerAt = at;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      this.#pump();
    }, Math.min(wait, MAX_TIMER_MS));
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }
}
