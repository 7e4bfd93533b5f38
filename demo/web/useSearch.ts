// Search: local results at once, server results merged as they arrive.
//
// Local: the newest LOCAL_SCAN messages of the folder from the replica
// (messages$), filtered here by subject, sender and preview. Server: the
// engine's query window for the same text when it offers one (serverSearch$),
// appended after the local hits without duplicates.
import { useEffect, useMemo, useState } from 'react';
import type { MailEngine } from './engine.js';
import type { Message } from './types.js';
import { useObservable } from './hooks.js';

export const LOCAL_SCAN = 5000;

export interface SearchResults {
  rows: Message[];
  summary: string;
}

function matches(m: Message, terms: string[]): boolean {
  const hay = `${m.subject ?? ''} ${m.from?.name ?? ''} ${m.from?.email ?? ''} ${m.preview ?? ''}`.toLowerCase();
  return terms.every((t) => hay.includes(t));
}

export function useSearch(engine: MailEngine, text: string, folderId: string | undefined): SearchResults {
  const [debounced, setDebounced] = useState(text);
  useEffect(() => {
    const t = setTimeout(() => setDebounced(text), 120);
    return () => clearTimeout(t);
  }, [text]);
  const q = debounced.trim();

  const scanned = useObservable(
    () => (q ? engine.messages$({ ...(folderId ? { folderId } : {}), sortBy: 'received_at', direction: 'desc', limit: LOCAL_SCAN }) : null),
    [engine, q !== '', folderId],
    [] as Message[],
  );
  const server = useObservable(
    () => (q && engine.serverSearch$ ? engine.serverSearch$(q, folderId) : null),
    [engine, q, folderId],
    null as Message[] | null,
  );

  return useMemo(() => {
    if (!q) return { rows: [], summary: '' };
    const terms = q.toLowerCase().split(/\s+/);
    const local = scanned.filter((m) => matches(m, terms));
    const seen = new Set(local.map((m) => m.id));
    const extra = (server ?? []).filter((m) => !seen.has(m.id));
    const rows = [...local, ...extra];
    const summary = !engine.serverSearch$
      ? `${local.length} local`
      : server === null
        ? `${local.length} local · server…`
        : `${local.length} local + ${extra.length} server`;
    return { rows, summary };
  }, [q, scanned, server, engine]);
}
