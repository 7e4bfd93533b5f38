// Builds the UI's MailEngine from the real sync engine (`createMailboxSync`),
// configured by the dev server (GET /__demo/config).
import { combineLatest, fromEvent, map, merge, startWith, type Observable } from 'rxjs';
import { createMailboxSync, type MailboxSync } from '../../src/index.js';
import { sanitizeHtml } from '../../src/content/sanitize.js';
import type { EngineStatus, MailEngine } from './engine.js';
import type { DemoClientConfig } from './types.js';

export function createEngine(config: DemoClientConfig): { engine: MailEngine; sync: MailboxSync } {
  // Service mode: the base URL is relative to this origin (the dev-server proxy).
  const baseUrl = new URL(config.baseUrl, window.location.origin).toString().replace(/\/$/, '');
  const sync = createMailboxSync({
    apiKey: config.apiKey,
    baseUrl,
    ...(config.mailboxId ? { mailboxId: config.mailboxId } : {}),
  });

  // The engine pauses while the platform reports offline but keeps its last
  // phase until a request fails; show the platform's signal right away.
  const online$ = merge(fromEvent(window, 'online'), fromEvent(window, 'offline')).pipe(
    map(() => navigator.onLine),
    startWith(navigator.onLine),
  );
  const status$: Observable<EngineStatus> = combineLatest([sync.status$, online$]).pipe(
    map(([s, online]) => ({
      phase: !online && s.phase === 'live' ? 'offline' : s.phase,
      progress: s.progress,
      lastSyncedAt: s.lastSyncedAt,
      pendingMutations: s.pendingMutations,
      outbox: null,
      role: s.phase === 'idle' ? null : s.leader ? 'leader' : 'follower',
    })),
  );

  const engine: MailEngine = {
    status$,
    errors$: sync.errors$.pipe(
      map((e) => ({
        message: e.message,
        code: e.code,
        retryable: e.retryable,
      })),
    ),
    folders$: () => sync.folders$(),
    messages$: (query) => sync.messages$(query),
    message$: (id) => sync.message$(id).pipe(map((m) => m ?? null)),
    count$: (query) => sync.count$(query),
    mutations: {
      update: (ids, patch) => sync.update(ids, patch),
      remove: (ids, options) => sync.remove(ids, options),
    },
    content$: null,
    attachment: null,
    sending: null,
    search$: null,
    sanitize: (html) => sanitizeHtml(html),
    syncNow: () => sync.syncNow(),
    start: () => sync.start(),
    stop: () => sync.stop(),
  };
  return { engine, sync };
}
