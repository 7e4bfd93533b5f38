// search$(text): local hits at once, server hits merged as they arrive (issue 7).
//
// Local search reads the replica newest first in bounded chunks (subject, sender,
// preview and, when the app has them cached, bodies) so a keystroke costs a few
// index pages, never a scan of a 100k-message table. The server side is an ordinary
// query window on `q`, so it stays fresh with query-changes and resumes after a
// reload like any window.
import { live } from '../store/live.js';
import { Observable, combineLatest, distinctUntilChanged, map, of, startWith, takeUntil } from 'rxjs';
import type { Message } from '../api/index.js';
import { ALL_MESSAGES, type MailboxDb } from '../store/db.js';
import { sameRecord } from '../store/overlay.js';
import type { WindowOptions, WindowState } from '../sync/windows.js';
import type { WindowFilter } from '../sync/queryWindow.js';

/** Options of `search$`. */
export interface SearchOptions {
  /** Maximum hits shown (default 50). */
  limit?: number;
  /** How many of the newest messages local search reads at most (default 5,000). */
  scanLimit?: number;
  /** Ask the server too (default true); false searches the replica only. */
  server?: boolean;
}

/** What search$ emits. */
export interface SearchState {
  text: string;
  /** Local hits first (newest first), then server hits not found locally, de-duplicated. */
  hits: Message[];
  /** How many of `hits` came from the replica. */
  localHits: number;
  /** The server window's progress ('off' when not asked). */
  server: 'loading' | 'ready' | 'off';
}

export interface SearchViews {
  search$(text: string, options?: SearchOptions): Observable<SearchState>;
}

export interface SearchDeps {
  db: Promise<MailboxDb>;
  /** The engine's server windows. */
  window$(filter: WindowFilter, options?: WindowOptions): Observable<WindowState>;
  /** Plain text of cached bodies of some messages (ids without one are left out). */
  bodyText?(ids: readonly string[]): Promise<ReadonlyMap<string, string>>;
  until: Observable<unknown>;
}

const CHUNK = 500;

/** Lower-cased terms; every term must occur somewhere in a message (AND). */
export function searchTerms(text: string): string[] {
  return text.toLowerCase().split(/\s+/).filter((t) => t.length > 0);
}

/** The text local search looks at for one message. */
export function haystack(message: Message, body?: string): string {
  const from = message.from ? `${message.from.name ?? ''} ${message.from.email}` : '';
  return `${message.subject ?? ''}\n${from}\n${message.preview ?? ''}\n${body ?? ''}`.toLowerCase();
}

/** Newest-first local search over at most `scanLimit` messages. */
export async function searchLocal(
  db: MailboxDb,
  text: string,
  options: { limit: number; scanLimit: number; bodyText?: SearchDeps['bodyText'] },
): Promise<Message[]> {
  const terms = searchTerms(text);
  if (terms.length === 0) return [];
  const hits: Message[] = [];
  let upper = Infinity;
  let lastId: string | undefined;
  let scanned = 0;
  while (hits.length < options.limit && scanned < options.scanLimit) {
    // Reverse walk of the all-messages index, resuming below the last key seen.
    const rows = await db.memberships
      .where('[folder_id+received_key]')
      .between([ALL_MESSAGES, -Infinity], [ALL_MESSAGES, upper], true, true)
      .reverse()
      .limit(CHUNK + 1)
      .toArray();
    const fresh = lastId === undefined ? rows : rows.slice(rows.findIndex((r) => r.id === lastId) + 1);
    if (fresh.length === 0) break;
    const chunk = fresh.slice(0, CHUNK);
    scanned += chunk.length;
    const messages = (await db.messages.bulkGet(chunk.map((r) => r.id))).filter((m): m is Message => m !== undefined);
    const bodies = options.bodyText ? await options.bodyText(messages.map((m) => m.id)) : undefined;
    for (const m of messages) {
      const h = haystack(m, bodies?.get(m.id));
      if (terms.every((t) => h.includes(t))) hits.push(m);
      if (hits.length >= options.limit) break;
    }
    const last = chunk.at(-1)!;
    upper = last.received_key;
    lastId = last.id;
    // Fewer rows than asked for: the index is exhausted.
    if (rows.length <= CHUNK) break;
  }
  return hits;
}

export function createSearchViews(deps: SearchDeps): SearchViews {
  function search$(text: string, options: SearchOptions = {}): Observable<SearchState> {
    const limit = options.limit ?? 50;
    const scanLimit = options.scanLimit ?? 5_000;
    const trimmed = text.trim();
    const local$ = new Observable<Message[]>((subscriber) => {
      let inner: { unsubscribe(): void } | undefined;
      let closed = false;
      deps.db.then(
        (db) => {
          if (closed) return;
          inner = live(() => searchLocal(db, trimmed, { limit, scanLimit, ...(deps.bodyText ? { bodyText: deps.bodyText } : {}) })).subscribe({
            next: (v) => subscriber.next(v),
            error: (e: unknown) => subscriber.error(e),
          });
        },
        (e: unknown) => subscriber.error(e),
      );
      return () => {
        closed = true;
        inner?.unsubscribe();
      };
    });
    const askServer = (options.server ?? true) && trimmed.length > 0;
    const server$: Observable<WindowState | undefined> = askServer
      ? deps.window$({ q: trimmed }, { size: limit }).pipe(startWith(undefined))
      : of(undefined);
    return combineLatest([local$, server$]).pipe(
      map(([local, server]): SearchState => {
        const seen = new Set(local.map((m) => m.id));
        const fromServer = server?.status === 'ready' ? server.records.filter((m) => !seen.has(m.id)) : [];
        return {
          text: trimmed,
          hits: [...local, ...fromServer].slice(0, Math.max(limit, local.length)),
          localHits: local.length,
          server: !askServer ? 'off' : server?.status === 'ready' ? 'ready' : 'loading',
        };
      }),
      distinctUntilChanged<SearchState>(sameRecord),
      takeUntil(deps.until),
    );
  }
  return { search$ };
}
