// External stores over the engine's observables, in the shape React's
// useSyncExternalStore wants (issue 18): a stable `subscribe` and a `getSnapshot`
// that returns the same reference until the observable emits. One store per
// (engine, key) is shared by every component that asks for it, reference counted:
// the first subscriber subscribes to the observable, the last one unsubscribes.
// Nothing here imports React, so the cache can be tested on its own.
import type { Observable, Subscription } from 'rxjs';

/** What a store holds: nothing yet, the latest value, or the error the observable ended with. */
export type StoreSnapshot<T> =
  | { readonly kind: 'waiting' }
  | { readonly kind: 'value'; readonly value: T }
  | { readonly kind: 'error'; readonly error: unknown };

/** One shared subscription to an observable. */
export interface ObservableStore<T> {
  /** Adds a listener; the first one subscribes to the observable. Returns the unsubscribe (the last one unsubscribes). */
  subscribe(onChange: () => void): () => void;
  /** The current snapshot: the same object until the observable emits or fails. */
  getSnapshot(): StoreSnapshot<T>;
  /** Listeners now attached. */
  readonly listeners: number;
}

/** The snapshot of a store nobody subscribed to yet (also what server rendering sees). */
export const WAITING: StoreSnapshot<never> = Object.freeze({ kind: 'waiting' });

/** Idle stores (created by a render that never committed) kept per engine before the oldest is dropped. */
const MAX_IDLE = 64;

interface Hooks {
  active(): void;
  idle(): void;
}

function createStore<T>(make: () => Observable<T>, hooks: Hooks): ObservableStore<T> {
  let snapshot: StoreSnapshot<T> = WAITING;
  const listeners = new Set<() => void>();
  let subscription: Subscription | undefined;
  const set = (next: StoreSnapshot<T>) => {
    snapshot = next;
    for (const listener of [...listeners]) listener();
  };
  const start = () => {
    try {
      subscription = make().subscribe({
        next: (value) => set({ kind: 'value', value }),
        error: (error: unknown) => set({ kind: 'error', error }),
      });
    } catch (error) {
      // A view that throws on creation (misuse such as an empty id) fails like one that errors.
      set({ kind: 'error', error });
    }
  };
  return {
    subscribe(onChange) {
      listeners.add(onChange);
      if (listeners.size === 1 && subscription === undefined) {
        hooks.active();
        start();
      }
      return () => {
        if (!listeners.delete(onChange) || listeners.size > 0) return;
        const s = subscription;
        subscription = undefined;
        // A later subscriber starts afresh: no stale value, and a failed view is retried.
        snapshot = WAITING;
        s?.unsubscribe();
        hooks.idle();
      };
    },
    getSnapshot: () => snapshot,
    get listeners() {
      return listeners.size;
    },
  };
}

/**
 * The stores of each engine, by key. A render looks its store up (creating it
 * without subscribing: rendering has no side effects); the store subscribes when a
 * committed component subscribes to it, and leaves the cache when its last
 * subscriber leaves. A store created by a render that never committed stays idle;
 * at most {@link MAX_IDLE} of those are kept per engine.
 */
export class StoreCache {
  private readonly owners = new WeakMap<object, { stores: Map<string, ObservableStore<unknown>>; idle: Set<string> }>();

  /** The store of (owner, key), created with `make` when there is none. */
  get<T>(owner: object, key: string, make: () => Observable<T>): ObservableStore<T> {
    let entry = this.owners.get(owner);
    if (!entry) {
      entry = { stores: new Map(), idle: new Set() };
      this.owners.set(owner, entry);
    }
    const { stores, idle } = entry;
    const found = stores.get(key);
    if (found) return found as ObservableStore<T>;
    const store: ObservableStore<T> = createStore(make, {
      active: () => {
        idle.delete(key);
        // Back after its last subscriber left (StrictMode re-runs effects): rejoin the
        // cache unless another store took the key meanwhile.
        if (!stores.has(key)) stores.set(key, store);
      },
      idle: () => {
        if (stores.get(key) === store) stores.delete(key);
      },
    });
    stores.set(key, store);
    idle.add(key);
    if (idle.size > MAX_IDLE) {
      const oldest = idle.values().next().value as string;
      idle.delete(oldest);
      stores.delete(oldest);
    }
    return store;
  }

  /** How many stores an owner has (for tests and diagnostics). */
  size(owner: object): number {
    return this.owners.get(owner)?.stores.size ?? 0;
  }
}

/**
 * A stable serialisation of a hook's arguments: object keys sorted, `undefined`
 * members left out (so `{ folderId: undefined }` and `{}` are the same query), and
 * values with `toJSON` (dates) serialised by it. A query written as a fresh object
 * literal on every render therefore keeps its key.
 */
export function stableKey(value: unknown): string {
  return JSON.stringify(normalise(value)) ?? 'undefined';
}

function normalise(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  const withJson = value as { toJSON?: () => unknown };
  if (typeof withJson.toJSON === 'function') return normalise(withJson.toJSON());
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : normalise(v)));
  // Null prototype: a `__proto__` key is data here, not a prototype write.
  const out = Object.create(null) as Record<string, unknown>;
  for (const key of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[key];
    if (v !== undefined) out[key] = normalise(v);
  }
  return out;
}
