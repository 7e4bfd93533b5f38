// Search: local results at once, server results merged as they arrive.
//
// With the engine's search$ (replica hits first, then the server's query window
// for the same text, de-duplicated) the whole mailbox is searched. Without it,
// the newest LOCAL_SCAN messages of the folder are filtered here by subject,
// sender and preview, and there are no server results.
import { useEffect, useMemo, useState } from 'react';
import type { MailEngine, SearchResult } from './engine.js';
import type { Message } from './types.js';
import { useObservable } from './hooks.js';

export const LOCAL_SCAN = 5000;

/** The words of a query worth highlighting: operators' values, not `is:`/`has:` flags. */
export function highlightTerms(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.match(/"[^"]*"|\S+/g) ?? []) {
    if (/^-/.test(raw) || /^(is|has|in|before|after|older|newer):/i.test(raw)) continue;
    const value = raw.replace(/^[a-z]+:/i, '').replace(/^"|"$/g, '').trim();
    if (value.length > 1) out.push(value);
  }
  return out;
}

export interface SearchResults {
  rows: Message[];
  summary: string;
  /** 'mailbox' with the engine's search$, else the folder. */
  scope: 'mailbox' | 'folder';
}

function matches(m: Message, terms: string[]): boolean {
  const hay = `${m.subject ?? ''} ${m.from?.name ?? ''} ${m.from?.email ?? ''} ${m.preview ?? ''}`.toLowerCase();
  return terms.every((t) => hay.includes(t));
}

export function useSearch(engine: MailEngine, text: string, folderId: string | undefined): SearchResults {
  const [debounced, setDebounced] = useState(text);
  useEffect(() => {
    const t = setTimeout(() => setDebounced(text), 150);
    return () => clearTimeout(t);
  }, [text]);
  const q = debounced.trim();
  const search$ = engine.search$;

  const engineResult = useObservable<SearchResult | null>(() => (q && search$ ? search$(q) : null), [search$, q], null);
  const scanned = useObservable(
    () =>
      q && !search$
        ? engine.messages$({ ...(folderId ? { folderId } : {}), sortBy: 'received_at', direction: 'desc', limit: LOCAL_SCAN })
        : null,
    [engine, search$, q !== '', folderId],
    [] as Message[],
  );

  return useMemo<SearchResults>(() => {
    if (!q) return { rows: [], summary: '', scope: search$ ? 'mailbox' : 'folder' };
    if (search$) {
      if (!engineResult) return { rows: [], summary: 'searching…', scope: 'mailbox' };
      const server = engineResult.hits.length - engineResult.localHits;
      // Local hits come from the replica (this browser's copy of the mailbox); the
      // server's full-text search adds the ones the replica could not match.
      const local = `${engineResult.localHits.toLocaleString()} in this mailbox`;
      const summary =
        engineResult.server === 'loading'
          ? `${local} · server search: searching…`
          : engineResult.server === 'ready'
            ? `${local} · server search: ${server.toLocaleString()} more`
            : local;
      return { rows: engineResult.hits, summary, scope: 'mailbox' };
    }
    const terms = q.toLowerCase().split(/\s+/);
    const local = scanned.filter((m) => matches(m, terms));
    return { rows: local, summary: `${local.length.toLocaleString()} in this folder`, scope: 'folder' };
  }, [q, search$, engineResult, scanned]);
}
