// The network as chaos schedules see it: one shared link that can go offline (every
// request fails like a lost connection, SSE included since the API client opens its
// stream through the same fetch), and per-tab plugs that a "crash" pulls for good.
import type { EnvironmentEvent, EnvironmentSignals } from '../../src/index.js';

/** A failure shaped like undici's "fetch failed" (what the API client maps to network_error). */
export function networkFailure(why: string): TypeError {
  return new TypeError(`fetch failed (${why})`);
}

/** Shared connectivity of every tab of one schedule. */
export class ChaosNetwork {
  offline = false;
  /** Requests refused while offline (for the summary). */
  refused = 0;
  private readonly listeners = new Set<(e: EnvironmentEvent) => void>();

  /** A fetch for one tab; once `alive()` turns false it fails forever (a crashed tab). */
  fetchFor(alive: () => boolean, base: typeof fetch = fetch): typeof fetch {
    return (input, init) => {
      if (!alive()) return Promise.reject(networkFailure('tab crashed'));
      if (this.offline) {
        this.refused += 1;
        return Promise.reject(networkFailure('offline'));
      }
      // CHAOS_DEBUG=1: trace mutation traffic (the outbox's side of a failing seed).
      const url = String(input instanceof Request ? input.url : input);
      if (process.env.CHAOS_DEBUG && (init?.method === 'POST' || url.includes('/mailbox/changes'))) {
        const t0 = Date.now();
        return base(input, init).then(async (res) => {
          const text = await res.clone().text().catch(() => '');
          console.warn('NET', t0, url.split('/api/v1')[1], String(init?.body).slice(0, 200), '->', res.status, text.slice(0, 600));
          return res;
        }, (e: unknown) => { console.warn('NET', t0, url.split('/api/v1')[1], String(init?.body).slice(0, 200), '-> ERR', String(e)); throw e; });
      }
      return base(input, init);
    };
  }

  /** Environment signals shared by the tabs (always visible; online follows `offline`). */
  readonly environment: EnvironmentSignals = {
    isVisible: () => true,
    isOnline: () => !this.offline,
    subscribe: (listener) => {
      this.listeners.add(listener);
      return () => this.listeners.delete(listener);
    },
  };

  setOffline(offline: boolean): void {
    if (this.offline === offline) return;
    this.offline = offline;
    for (const l of [...this.listeners]) l(offline ? 'offline' : 'online');
  }
}
