// Shared setup of engine integration tests: a simulator over real HTTP/SSE and an
// engine on a fresh fake-indexeddb store.
import { testStore, type TestStore } from '../helpers/storage.js';
import { firstValueFrom, filter, timeout } from 'rxjs';
import { createSyncEngine, type MailboxSync, type MailboxSyncOptions, type SyncEngine } from '../../src/engine.js';
import type { SyncStatus } from '../../src/sync/status.js';
import type { EnvironmentEvent } from '../../src/sync/poll.js';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/sim/index.js';
import { mulberry32 } from '../../src/sim/random.js';

export type { Simulator };

export async function sim(options: SimulatorOptions = {}): Promise<Simulator> {
  return startSimulator({ port: 0, seed: 1, messages: 120, rateLimitPerMinute: 0, ...options });
}

export interface EngineHandle extends SyncEngine {
  sync: MailboxSync;
  store: TestStore;
}

/** An engine against `s`; pass `store` to reopen the same database (a reload). */
export function engine(s: Simulator, options: Partial<MailboxSyncOptions> & { store?: TestStore } = {}): EngineHandle {
  const { store = testStore(), ...rest } = options;
  const e = createSyncEngine({
    apiKey: s.apiKey,
    baseUrl: s.url,
    ...store.options,
    dbName: 'replica',
    leader: 'always',
    poll: { visibleMs: 60_000, hiddenMs: 60_000, offlineBackoff: { baseMs: 50, maxMs: 200 } },
    apiOptions: { retry: { attempts: 4, baseDelayMs: 10, maxDelayMs: 100 }, rateLimit: false },
    ...rest,
  });
  return { ...e, store };
}

/** Waits until status$ satisfies `pred` (default: live). */
export function waitStatus(sync: MailboxSync, pred: (s: SyncStatus) => boolean = (s) => s.phase === 'live', ms = 20_000): Promise<SyncStatus> {
  return firstValueFrom(sync.status$.pipe(filter(pred), timeout(ms)));
}

/** Polls `check` until it returns true (for effects of background work). */
export async function eventually(check: () => Promise<boolean> | boolean, ms = 20_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Deep-equality helper for convergence messages: the first differing record. */
export function firstDiff(a: Record<string, { id: string }[]>, b: Record<string, { id: string }[]>): string | undefined {
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

/** Seeded PRNG (mulberry32). */
export const rng: (seed: number) => () => number = mulberry32;

const pick = <T>(r: () => number, xs: readonly T[]): T | undefined => xs[Math.floor(r() * xs.length)];

/**
 * `n` random remote changes of every kind: deliveries (sometimes into a created
 * folder or an existing thread), flag/keyword changes, trash, destroy, folder
 * create/rename/delete, identity edits. Returns a log of what was done.
 */
let nameCounter = 0;

export async function randomRemoteChanges(s: Simulator, r: () => number, n: number): Promise<string[]> {
  const log: string[] = [];
  const created: string[] = (await s.snapshot()).folders.filter((f) => f.role === null).map((f) => f.id);
  for (let k = 0; k < n; k++) {
    const i = nameCounter++;
    const snap = await s.snapshot();
    const ids = snap.messages.map((m) => m.id);
    const some = () => [...new Set(Array.from({ length: 1 + Math.floor(r() * 4) }, () => pick(r, ids)).filter((x): x is string => !!x))];
    const roll = r();
    if (roll < 0.2) {
      const thread = r() < 0.3 ? pick(r, snap.threads)?.id : undefined;
      const folder = r() < 0.3 ? pick(r, created) : undefined;
      const { id } = await s.control.deliver({ subject: `random ${i}`, text: `body ${i}`, ...(thread ? { thread_id: thread } : {}), ...(folder ? { folder_id: folder } : {}) });
      log.push(`deliver ${id}`);
    } else if (roll < 0.5) {
      const target = some();
      const patch = { ...(r() < 0.6 ? { seen: r() < 0.5 } : {}), ...(r() < 0.4 ? { flagged: r() < 0.5 } : {}), ...(r() < 0.3 ? { keywords: { [`label${Math.floor(r() * 3)}`]: r() < 0.6 } } : {}) };
      await s.control.setFlags(target, patch);
      log.push(`setFlags ${target.join(',')} ${JSON.stringify(patch)}`);
    } else if (roll < 0.6) {
      const target = some();
      await s.control.trash(target);
      log.push(`trash ${target.join(',')}`);
    } else if (roll < 0.7) {
      const target = some();
      await s.control.destroy(target);
      log.push(`destroy ${target.join(',')}`);
    } else if (roll < 0.8) {
      const { id } = await s.control.createFolder(`Folder ${i}`);
      created.push(id);
      log.push(`createFolder ${id}`);
    } else if (roll < 0.88 && created.length > 0) {
      const id = pick(r, created) as string;
      await s.control.renameFolder(id, `Renamed ${i}`);
      log.push(`renameFolder ${id}`);
    } else if (roll < 0.95 && created.length > 0) {
      const id = pick(r, created) as string;
      try {
        await s.control.deleteFolder(id);
        created.splice(created.indexOf(id), 1);
        log.push(`deleteFolder ${id}`);
      } catch {
        log.push(`deleteFolder ${id} refused (not empty)`);
      }
    } else {
      await s.control.updateIdentity({ text_signature: `sig ${i}` });
      log.push('updateIdentity');
    }
  }
  return log;
}

/**
 * A fetch that records every request URL and can "die": once `dead` returns true for
 * a request, that request and every later one fail like a lost network. Used to cut
 * an engine off at an exact point (a crash, as far as the replica is concerned).
 */
export function killableFetch(dead: (url: string, method: string, calls: string[]) => boolean = () => false) {
  const calls: string[] = [];
  let killed = false;
  const wrapped: typeof fetch = async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const method = (init?.method ?? 'GET').toUpperCase();
    if (!killed && dead(url, method, calls)) killed = true;
    if (killed) throw new TypeError('fetch failed (killed by test)');
    calls.push(`${method} ${url}`);
    return fetch(input, init);
  };
  return { fetch: wrapped, calls, isKilled: () => killed };
}

/** Request count of `method path` (path relative to the API base, no query) in `calls`. */
export function countCalls(calls: readonly string[], method: string, path: string): number {
  return calls.filter((c) => {
    const [m, url] = c.split(' ');
    return m === method && new URL(url as string).pathname.endsWith(path);
  }).length;
}

/** Manually driven timers: nothing fires until the test says so. */
export function manualTimers() {
  let next = 1;
  const timers = new Map<number, { fn: () => void; ms: number }>();
  return {
    setTimeout: (fn: () => void, ms: number): unknown => {
      const id = next++;
      timers.set(id, { fn, ms });
      return id;
    },
    clearTimeout: (id: unknown) => {
      timers.delete(id as number);
    },
    /** Delays of the armed timers. */
    armed: () => [...timers.values()].map((t) => t.ms),
    /** Fires (once) every armed timer whose delay is `ms`; returns how many fired. */
    fire(ms: number): number {
      let n = 0;
      for (const [id, t] of [...timers]) {
        if (t.ms !== ms) continue;
        timers.delete(id);
        t.fn();
        n++;
      }
      return n;
    },
  };
}

/** An environment whose visibility and connectivity the test controls. */
export function controlledEnvironment() {
  let visible = true;
  let online = true;
  const listeners = new Set<(e: EnvironmentEvent) => void>();
  return {
    isVisible: () => visible,
    isOnline: () => online,
    subscribe(l: (e: EnvironmentEvent) => void) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    emit(e: EnvironmentEvent) {
      if (e === 'visible') visible = true;
      if (e === 'hidden') visible = false;
      if (e === 'online') online = true;
      if (e === 'offline') online = false;
      for (const l of listeners) l(e);
    },
  };
}

/**
 * An in-process Web Locks `LockManager` (exclusive locks, FIFO queue, abortable
 * waits): several engines in one test behave like tabs of one origin.
 */
export function fakeLocks() {
  const queues = new Map<string, Array<() => void>>();
  return {
    request(name: string, options: { signal?: AbortSignal }, cb: (lock: unknown) => Promise<void>): Promise<unknown> {
      return new Promise<void>((resolve, reject) => {
        const q = queues.get(name) ?? [];
        queues.set(name, q);
        const grant = () => {
          void cb({ name }).finally(() => {
            q.shift();
            q[0]?.();
            resolve();
          });
        };
        options.signal?.addEventListener('abort', () => {
          const i = q.indexOf(grant);
          if (i > 0) {
            q.splice(i, 1);
            reject(new Error('AbortError'));
          }
        });
        q.push(grant);
        if (q.length === 1) grant();
      });
    },
  };
}
