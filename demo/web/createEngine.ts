// Builds the UI's MailEngine from the real sync engine (`createMailboxSync`),
// configured by the dev server (GET /__demo/config).
import { combineLatest, firstValueFrom, fromEvent, map, merge, startWith, type Observable } from 'rxjs';
import { createMailboxSync, sanitizeHtml, type MailboxSync } from '../../src/index.js';
import type { ContentState, EngineStatus, MailEngine, OutboxItem } from './engine.js';
import type { DemoClientConfig } from './types.js';

export function createEngine(config: DemoClientConfig): { engine: MailEngine; sync: MailboxSync } {
  // Service mode: the base URL is relative to this origin (the dev-server proxy).
  const baseUrl = new URL(config.baseUrl, window.location.origin).toString().replace(/\/$/, '');
  const sync = createMailboxSync({
    apiKey: config.apiKey,
    baseUrl,
    ...(config.mailboxId ? { mailboxId: config.mailboxId } : {}),
    // A dropped event stream is reopened after 15 s instead of the default 60 s,
    // so the demo's "cut the network" recovers visibly; polling covers the gap.
    pushRetryMs: 15_000,
  });

  const outbox$: Observable<OutboxItem[]> = sync.outbox$.pipe(
    map((sends) =>
      sends.map((s) => ({
        seq: s.seq,
        status: s.status,
        subject: s.draft.subject,
        to: s.draft.to.map((a) => a.email).join(', '),
        error: s.error?.message ?? null,
      })),
    ),
  );

  // The engine pauses while the platform reports offline but keeps its last
  // phase until a request fails; the status bar shows the platform's signal too.
  const online$ = merge(fromEvent(window, 'online'), fromEvent(window, 'offline')).pipe(
    map(() => navigator.onLine),
    startWith(navigator.onLine),
  );
  const status$: Observable<EngineStatus> = combineLatest([sync.status$, online$, outbox$.pipe(startWith([]))]).pipe(
    map(([s, online, sends]) => ({
      phase: !online && s.phase === 'live' ? 'offline' : s.phase,
      push: s.push,
      error: s.error ? { code: s.error.code, message: s.error.message, retryable: s.error.retryable } : null,
      paused: s.paused,
      online,
      progress: s.progress,
      lastSyncedAt: s.lastSyncedAt,
      pendingMutations: s.pendingMutations,
      outbox: sends.length,
      role: s.phase === 'idle' ? null : s.leader ? 'leader' : 'follower',
    })),
  );

  const engine: MailEngine = {
    status$,
    errors$: sync.errors$.pipe(map((e) => ({ message: e.message, code: e.code, retryable: e.retryable }))),
    folders$: () => sync.folders$(),
    messages$: (query) => sync.messages$(query),
    message$: (id) => sync.message$(id).pipe(map((m) => m ?? null)),
    count$: (query) => sync.count$(query),
    messageIds$: (query) => sync.messageIds$(query),
    messagesById$: (ids) => sync.messagesById$(ids),
    threadMessages$: (threadId) => sync.messages$({ threadId, sortBy: 'received_at', direction: 'asc' }),
    mutations: {
      update: (ids, patch) => sync.update(ids, patch),
      remove: (ids, options) => sync.remove(ids, options),
    },
    content$: (id) =>
      sync.content$(id, { include_html: true }).pipe(
        map((s): ContentState => {
          if (s.status === 'loading') return { state: 'loading' };
          if (s.status === 'error') return { state: 'error', message: s.error.message };
          return { state: 'ready', html: s.content.body.html, text: s.content.body.text };
        }),
      ),
    attachment: async (messageId, attachmentId) => {
      const bytes = await sync.attachment(messageId, attachmentId);
      return bytes instanceof Blob ? bytes : new Blob([bytes as Uint8Array<ArrayBuffer>]);
    },
    sending: {
      send: async (draft) => (await sync.send(draft)).seq,
      outbox$,
      outcomes$: sync.sendOutcomes$.pipe(
        map((o) => (o.status === 'failed' ? { seq: o.seq, status: 'failed' as const, message: o.error.message } : { seq: o.seq, status: 'sent' as const })),
      ),
      retry: (seq) => sync.retrySend(seq),
      discard: (seq) => sync.discardSend(seq),
    },
    search$: (text) => sync.search$(text, { limit: 200 }).pipe(map((s) => ({ hits: s.hits, localHits: s.localHits, server: s.server }))),
    sanitize: (html, options = {}) =>
      sanitizeHtml(html, {
        ...(options.resolveCid ? { resolveCid: options.resolveCid } : {}),
        ...(options.allowRemoteImages ? { allowRemoteImages: true } : {}),
      }),
    identities: () => firstValueFrom(sync.identities$()),
    syncNow: () => sync.syncNow(),
    start: () => sync.start(),
    stop: () => sync.stop(),
  };
  return { engine, sync };
}
