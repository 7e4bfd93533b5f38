// Shared set-up of the React hook tests: a jsdom document for react-dom/client
// (installed on globalThis by hand, so Node's own fetch, AbortSignal and timers stay
// as the engine and the simulator expect them), an engine from createMailboxSync on
// fake-indexeddb, and an engine wrapper that counts the views' subscriptions.
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { JSDOM } from 'jsdom';
import { act, type ReactNode } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { defer, finalize, type Observable } from 'rxjs';
import { createMailboxSync, type MailboxSync, type MailboxSyncOptions } from '../../src/index.js';
import type { Simulator } from '../../src/sim/index.js';

const g = globalThis as Record<string, unknown>;

/** Installs a jsdom window and document on globalThis; returns the undo. */
export function installDom(): () => void {
  const dom = new JSDOM('<!doctype html><html><body></body></html>', { url: 'http://localhost/', pretendToBeVisual: true });
  const names = ['window', 'document', 'IS_REACT_ACT_ENVIRONMENT'] as const;
  const saved = names.map((n) => [n, Object.getOwnPropertyDescriptor(g, n)] as const);
  g.window = dom.window;
  g.document = dom.window.document;
  // Tells React that updates are driven through act() (no "not wrapped in act" warnings).
  g.IS_REACT_ACT_ENVIRONMENT = true;
  return () => {
    for (const [n, d] of saved) {
      if (d) Object.defineProperty(g, n, d);
      else delete g[n];
    }
    dom.window.close();
  };
}

/** A mounted React tree. */
export interface Mounted {
  container: HTMLElement;
  text(): string;
  rerender(node: ReactNode): Promise<void>;
  unmount(): Promise<void>;
}

const mounted = new Set<Mounted>();

/** Renders `node` into a fresh container with react-dom/client, inside act(). */
export async function render(node: ReactNode, options: { onCaughtError?: (error: unknown) => void } = {}): Promise<Mounted> {
  const document = g.document as Document;
  const container = document.createElement('div');
  document.body.append(container);
  const root: Root = createRoot(container, options.onCaughtError ? { onCaughtError: options.onCaughtError } : {});
  await act(async () => root.render(node));
  let alive = true;
  const m: Mounted = {
    container,
    text: () => container.textContent ?? '',
    rerender: async (next) => act(async () => root.render(next)),
    unmount: async () => {
      if (!alive) return;
      alive = false;
      mounted.delete(m);
      await act(async () => root.unmount());
      container.remove();
    },
  };
  mounted.add(m);
  return m;
}

/** Unmounts whatever a test left mounted. */
export async function unmountAll(): Promise<void> {
  for (const m of [...mounted]) await m.unmount();
}

/** Lets time pass inside act(), so the engine's emissions and React's renders are flushed. */
export async function pass(ms = 20): Promise<void> {
  await act(async () => {
    await new Promise((r) => setTimeout(r, ms));
  });
}

/** Waits (inside act) until `check` holds. */
export async function waitFor(check: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await pass(20);
  }
}

let dbCounter = 0;

/** An engine of the package's own factory against the simulator, on a fresh fake-indexeddb. */
export function reactEngine(s: Simulator, options: Partial<MailboxSyncOptions> = {}): MailboxSync {
  return createMailboxSync({
    apiKey: s.apiKey,
    baseUrl: s.url,
    indexedDB: new IDBFactory(),
    IDBKeyRange,
    dbName: `react-${++dbCounter}`,
    leader: 'always',
    poll: { visibleMs: 60_000, hiddenMs: 60_000, offlineBackoff: { baseMs: 50, maxMs: 200 } },
    apiOptions: { retry: { attempts: 4, baseDelayMs: 10, maxDelayMs: 100 }, rateLimit: false },
    content: { prefetch: false },
    ...options,
  });
}

/** Views whose subscriptions {@link counted} counts. */
type CountedView = 'messages$' | 'messageIds$' | 'count$' | 'folders$' | 'message$' | 'content$' | 'status$';

/**
 * The engine with its views wrapped: `made` counts the observables the hooks asked
 * for, `active` the subscriptions now open to them.
 */
export function counted(sync: MailboxSync) {
  const made: Record<string, number> = {};
  const active: Record<string, number> = {};
  const open = <T,>(name: CountedView, source: () => Observable<T>): Observable<T> =>
    defer(() => {
      active[name] = (active[name] ?? 0) + 1;
      return source().pipe(finalize(() => (active[name] = (active[name] ?? 0) - 1)));
    });
  const track = <T,>(name: CountedView, source: () => Observable<T>): Observable<T> => {
    made[name] = (made[name] ?? 0) + 1;
    return open(name, source);
  };
  const wrapped: MailboxSync = {
    ...sync,
    messages$: (q) => track('messages$', () => sync.messages$(q)),
    messageIds$: (q) => track('messageIds$', () => sync.messageIds$(q)),
    count$: (q) => track('count$', () => sync.count$(q)),
    folders$: () => track('folders$', () => sync.folders$()),
    message$: (id) => track('message$', () => sync.message$(id)),
    content$: (id, o) => track('content$', () => sync.content$(id, o)),
    status$: open('status$', () => sync.status$),
  };
  return { sync: wrapped, made, active };
}

/**
 * A fetch that holds every request `match` selects until `release()`: the server's
 * acknowledgement of a mutation can be kept back while the test looks at the UI.
 */
export function gatedFetch(match: (url: string, method: string) => boolean) {
  const waiting: Array<() => void> = [];
  let open = false;
  let held = 0;
  const gated: typeof fetch = async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (!open && match(url, (init?.method ?? 'GET').toUpperCase())) {
      held++;
      await new Promise<void>((resolve) => waiting.push(resolve));
    }
    return fetch(input, init);
  };
  return {
    fetch: gated,
    held: () => held,
    release() {
      open = true;
      for (const resolve of waiting.splice(0)) resolve();
    },
  };
}
