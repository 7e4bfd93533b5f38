// Adaptive polling of `/mailbox/changes` (DESIGN.md "live"): SSE carries only
// received mail, so flag changes, moves and deletes made elsewhere arrive by polling.
// Faster while the app is visible/focused, slower when hidden, immediately on
// `online` or focus; after network failures, exponential backoff with jitter.
import type { EngineClock } from './context.js';

/** Polling intervals. */
export interface PollOptions {
  /** Interval while visible/focused (ms). Default 15 000. */
  visibleMs?: number;
  /** Interval while hidden (ms). Default 120 000. */
  hiddenMs?: number;
  /** Backoff after failures: base × 2^(failures−1), capped, full jitter. */
  offlineBackoff?: { baseMs?: number; maxMs?: number };
}

/** Events of the app environment that change the polling pace. */
export type EnvironmentEvent = 'visible' | 'hidden' | 'online' | 'offline' | 'focus';

/**
 * Where visibility and connectivity come from. The default reads `document` and
 * `window` in browsers; in Node (no DOM) the app is always visible and online.
 * Tests and Electron apps inject their own.
 */
export interface EnvironmentSignals {
  /** True while the app is visible (polling runs faster). */
  isVisible(): boolean;
  /** False when the platform knows there is no network (no request is tried). */
  isOnline(): boolean;
  /** Subscribes to changes; returns the unsubscribe function. */
  subscribe(listener: (event: EnvironmentEvent) => void): () => void;
}

interface DomLike {
  document?: { visibilityState?: string; addEventListener(t: string, f: () => void): void; removeEventListener(t: string, f: () => void): void };
  addEventListener?(t: string, f: () => void): void;
  removeEventListener?(t: string, f: () => void): void;
  navigator?: { onLine?: boolean };
}

/** Environment signals of a browser (document visibility, focus, online/offline). */
export function browserEnvironment(global: DomLike = globalThis as unknown as DomLike): EnvironmentSignals {
  return {
    isVisible: () => global.document?.visibilityState !== 'hidden',
    isOnline: () => global.navigator?.onLine !== false,
    subscribe(listener) {
      const onVisibility = () => listener(global.document?.visibilityState === 'hidden' ? 'hidden' : 'visible');
      const onFocus = () => listener('focus');
      const onOnline = () => listener('online');
      const onOffline = () => listener('offline');
      global.document?.addEventListener('visibilitychange', onVisibility);
      global.addEventListener?.('focus', onFocus);
      global.addEventListener?.('online', onOnline);
      global.addEventListener?.('offline', onOffline);
      return () => {
        global.document?.removeEventListener('visibilitychange', onVisibility);
        global.removeEventListener?.('focus', onFocus);
        global.removeEventListener?.('online', onOnline);
        global.removeEventListener?.('offline', onOffline);
      };
    },
  };
}

/** Always visible and online, no events (Node agents and servers). */
export const staticEnvironment: EnvironmentSignals = {
  isVisible: () => true,
  isOnline: () => true,
  subscribe: () => () => undefined,
};

/** The default environment: browser signals when a DOM exists, else static. */
export function defaultEnvironment(): EnvironmentSignals {
  const g = globalThis as unknown as DomLike;
  return g.document && typeof g.addEventListener === 'function' ? browserEnvironment(g) : staticEnvironment;
}

/** Inputs of {@link nextPollDelay}. */
export interface PollState {
  visible: boolean;
  /** Consecutive failed pulls (0 after a success). */
  failures: number;
}

/** Resolved defaults of {@link PollOptions}. */
export function resolvePollOptions(options: PollOptions = {}): Required<Pick<PollOptions, 'visibleMs' | 'hiddenMs'>> & { baseMs: number; maxMs: number } {
  return {
    visibleMs: options.visibleMs ?? 15_000,
    hiddenMs: options.hiddenMs ?? 120_000,
    baseMs: options.offlineBackoff?.baseMs ?? 1_000,
    maxMs: options.offlineBackoff?.maxMs ?? 60_000,
  };
}

/**
 * Delay before the next poll (pure). Without failures: the visible or hidden
 * interval. After n consecutive failures: a jittered delay in
 * [ceiling/2, ceiling] with ceiling = min(maxMs, baseMs × 2^(n−1)).
 */
export function nextPollDelay(state: PollState, options: PollOptions, random: () => number): number {
  const o = resolvePollOptions(options);
  const regular = state.visible ? o.visibleMs : o.hiddenMs;
  if (state.failures <= 0) return regular;
  const ceiling = Math.min(o.maxMs, o.baseMs * 2 ** Math.min(30, state.failures - 1));
  // "Equal jitter" (AWS Architecture Blog, Exponential Backoff and Jitter): spreads
  // reconnecting clients while keeping at least half the ceiling between attempts.
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * Timer shell around {@link nextPollDelay}: `schedule()` arms one timer; `trigger()`
 * runs now. At most one timer is armed; nothing runs after `stop()`.
 */
export class Poller {
  private timer: unknown;
  private stopped = false;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly clock: EngineClock,
    private readonly options: PollOptions,
    private readonly env: EnvironmentSignals,
    private readonly run: (reason: string) => void,
  ) {
    this.unsubscribe = env.subscribe((event) => {
      if (this.stopped) return;
      // docs: immediately on `online`/focus; becoming visible also refreshes.
      if (event === 'online' || event === 'focus' || event === 'visible') this.trigger(event);
    });
  }

  /** Arms the next poll after the delay for the current state. */
  schedule(failures: number): void {
    if (this.stopped) return;
    this.cancel();
    const delay = nextPollDelay({ visible: this.env.isVisible(), failures }, this.options, () => this.clock.random());
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      if (!this.stopped) this.run('poll');
    }, delay);
  }

  /** Runs a poll now (the next one is armed when it finishes). */
  trigger(reason: string): void {
    if (this.stopped) return;
    this.cancel();
    this.run(reason);
  }

  private cancel(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  stop(): void {
    this.stopped = true;
    this.cancel();
    this.unsubscribe();
  }
}
