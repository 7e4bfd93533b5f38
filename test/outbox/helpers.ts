// Setup of outbox integration tests: a simulator over real HTTP, an engine on
// fake-indexeddb, and the outbox wired to the engine exactly as the engine wires it
// (see `wire`), plus a fetch wrapper that can hold requests and go offline.
import { testStore, type TestStore } from '../helpers/storage.js';
import { Subject, firstValueFrom, filter, timeout, type Observable } from 'rxjs';
import { createMutations, type MailboxMutations } from '../../src/reactive/mutations.js';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/sim/index.js';
import { createSyncEngine, type MailboxSync, type MailboxSyncOptions } from '../../src/engine.js';
import { createOutbox, type Outbox, type OutboxOptions } from '../../src/sync/mutations.js';
import type { EnvironmentEvent, EnvironmentSignals } from '../../src/sync/poll.js';

export type { Simulator };

export const BATCH_UPDATE = 'POST /mailbox/messages:batch-update';
export const BATCH_DELETE = 'POST /mailbox/messages:batch-delete';

export function sim(options: SimulatorOptions = {}): Promise<Simulator> {
  return startSimulator({ port: 0, seed: 7, messages: 120, rateLimitPerMinute: 0, ...options });
}

/** Requests of `key` (e.g. {@link BATCH_UPDATE}) the simulator has answered or failed. */
export function requests(s: Simulator, key: string): number {
  return s.stats().byPath[key] ?? 0;
}

/** One recorded request. */
export interface Call {
  method: string;
  path: string;
  body: unknown;
  /** HTTP status of the answer (0 while pending or when the network failed). */
  status: number;
}

/**
 * A fetch the test controls: `offline` makes every request fail like a lost network;
 * `hold(path)` parks the next request to a path until released (the request has not
 * reached the server while held).
 */
export function controlledFetch() {
  const calls: Call[] = [];
  const holds: { path: string; arrived: () => void; gate: Promise<void> }[] = [];
  const state = { offline: false };
  const wrapped: typeof fetch = async (input, init) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const method = (init?.method ?? 'GET').toUpperCase();
    const path = url.pathname.replace(/^.*\/api\/v1/, '');
    if (state.offline) throw new TypeError('fetch failed (offline in test)');
    const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as unknown) : undefined;
    const call: Call = { method, path, body, status: 0 };
    calls.push(call);
    const i = holds.findIndex((h) => h.path === path);
    if (i >= 0) {
      const [h] = holds.splice(i, 1);
      h?.arrived();
      await h?.gate;
    }
    const res = await fetch(input, init);
    call.status = res.status;
    return res;
  };
  return {
    fetch: wrapped,
    calls,
    state,
    /** Parks the next request to `path`; `arrived` resolves when it is parked. */
    hold(path: string) {
      let arrived!: () => void;
      let release!: () => void;
      const reached = new Promise<void>((r) => (arrived = r));
      const gate = new Promise<void>((r) => (release = r));
      holds.push({ path, arrived, gate });
      return { arrived: reached, release };
    },
    /** Requests to `path` the server answered with a 2xx. */
    succeeded(path: string): Call[] {
      return calls.filter((c) => c.path === path && c.status >= 200 && c.status < 300);
    },
    /** Bodies of the requests to `path`. */
    bodies(path: string): Record<string, unknown>[] {
      return calls.filter((c) => c.path === path).map((c) => c.body as Record<string, unknown>);
    },
  };
}

/** An engine with mutations, wired as the engine does it. */
export interface Wired extends MailboxMutations {
  sync: MailboxSync;
  outbox: Promise<Outbox>;
  store: TestStore;
  stop(): Promise<void>;
}

/** Creates an engine on `store` (default: a fresh one) with its outbox. */
export function wire(s: Simulator, options: Partial<MailboxSyncOptions> & { store?: TestStore; outbox?: OutboxOptions } = {}): Wired {
  const { store = testStore(), outbox: outboxOptions = {}, ...rest } = options;
  const engine = createSyncEngine({
    apiKey: s.apiKey,
    baseUrl: s.url,
    ...store.options,
    dbName: 'replica',
    leader: 'always',
    events: false,
    poll: { visibleMs: 60_000, hiddenMs: 60_000, offlineBackoff: { baseMs: 50, maxMs: 200 } },
    apiOptions: { retry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 20 }, rateLimit: false },
    ...rest,
  });
  // --- the wiring the engine adds (createSyncEngine) --------------------------------
  const stop$ = new Subject<void>();
  const outbox = engine.context.then((ctx) =>
    createOutbox(ctx, { backoff: { baseDelayMs: 10, maxDelayMs: 40 }, ...(rest.environment ? { environment: rest.environment } : {}), ...outboxOptions }),
  );
  outbox.catch(() => undefined);
  const mutations = createMutations(outbox, stop$);
  // -----------------------------------------------------------------------------------
  return {
    ...mutations,
    sync: engine.sync,
    outbox,
    store,
    async stop() {
      await engine.sync.stop(); // aborts the context signal: the outbox stops with it
      stop$.next();
      stop$.complete();
    },
  };
}

/** First value of `obs` that satisfies `pred`. */
export function until<T>(obs: Observable<T>, pred: (v: T) => boolean, ms = 20_000): Promise<T> {
  return firstValueFrom(obs.pipe(filter(pred), timeout(ms)));
}

/** Polls `check` until it returns true. */
export { eventually } from '../engine/helpers.js';

/** The first differing record of two snapshots (for readable failures). */
export function firstDiff(local: object, server: object): string | undefined {
  const a = local as Record<string, unknown[] | undefined>;
  const b = server as Record<string, unknown[] | undefined>;
  for (const key of Object.keys(b)) {
    const la = a[key] ?? [];
    const lb = b[key] ?? [];
    if (la.length !== lb.length) return `${key}: ${la.length} local vs ${lb.length} server`;
    for (let i = 0; i < lb.length; i++) {
      if (JSON.stringify(la[i]) !== JSON.stringify(lb[i])) return `${key}[${i}]: local ${JSON.stringify(la[i])}\nserver ${JSON.stringify(lb[i])}`;
    }
  }
  return undefined;
}

/** Pulls until the replica equals the simulator (the outbox must be empty). */
export async function converge(w: { sync: Pick<MailboxSync, 'syncNow' | 'snapshot'> }, s: Simulator): Promise<void> {
  let diff: string | undefined;
  for (let i = 0; i < 5; i++) {
    await w.sync.syncNow();
    diff = firstDiff(await w.sync.snapshot(), await s.snapshot());
    if (!diff) return;
  }
  throw new Error(`replica did not converge: ${diff}`);
}

/** Connectivity the test switches (an injected `EnvironmentSignals`). */
export function switchableEnvironment(): EnvironmentSignals & { set(online: boolean): void } {
  let online = true;
  const listeners = new Set<(e: EnvironmentEvent) => void>();
  return {
    isVisible: () => true,
    isOnline: () => online,
    subscribe(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    set(next: boolean) {
      online = next;
      for (const l of [...listeners]) l(next ? 'online' : 'offline');
    },
  };
}

// An in-process Web Locks manager shared with the engine tests.
export { fakeLocks } from '../engine/helpers.js';
