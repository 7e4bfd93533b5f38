// Search: the engine's search$ (through the package's useSearch hook): replica hits
// at once, then the server's full-text hits for the same text, de-duplicated. The
// whole mailbox is searched, whichever folder is open.
import { useEffect, useMemo, useState } from 'react';
import { useSearch as useEngineSearch } from '../../src/react/index.js';
import type { Message } from './types.js';

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
}

const NO_ROWS: Message[] = [];
const OPTIONS = { limit: 200 };

export function useSearch(text: string): SearchResults {
  const [debounced, setDebounced] = useState(text);
  useEffect(() => {
    const t = setTimeout(() => setDebounced(text), 150);
    return () => clearTimeout(t);
  }, [text]);
  const q = debounced.trim();
  // Empty text matches nothing and asks the server nothing (search$ answers [] at once).
  const result = useEngineSearch(q, OPTIONS);

  return useMemo<SearchResults>(() => {
    if (!q) return { rows: NO_ROWS, summary: '' };
    if (!result || result.text !== q) return { rows: NO_ROWS, summary: 'searching…' };
    const server = result.hits.length - result.localHits;
    // Local hits come from the replica (this browser's copy of the mailbox); the
    // server's full-text search adds the ones the replica could not match.
    const local = `${result.localHits.toLocaleString()} in this mailbox`;
    const summary =
      result.server === 'loading'
        ? `${local} · server search: searching…`
        : result.server === 'ready'
          ? `${local} · server search: ${server.toLocaleString()} more`
          : local;
    return { rows: result.hits, summary };
  }, [q, result]);
}
