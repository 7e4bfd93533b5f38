// Fetches the page of a folder the list is showing: messages$ with offset/limit
// around the visible range, re-subscribing only when the range crosses a page
// boundary. The previous page stays on screen until the next one arrives, so
// scrolling never flashes empty rows.
import { useEffect, useState } from 'react';
import type { MailEngine, MailQuery } from './engine.js';
import type { Message } from './types.js';
import type { VisibleRange } from './MessageList.js';

const PAGE = 50;

export interface MessageWindow {
  offset: number;
  rows: Message[];
  rowAt(index: number): Message | undefined;
}

export function useMessageWindow(engine: MailEngine, query: MailQuery | null, range: VisibleRange): MessageWindow {
  const offset = Math.max(0, Math.floor(range.first / PAGE) * PAGE - PAGE);
  const limit = Math.ceil((range.last + 1 - offset) / PAGE) * PAGE + PAGE;
  const key = query ? JSON.stringify(query) : null;
  const [state, setState] = useState<{ key: string | null; offset: number; rows: Message[] }>({ key, offset: 0, rows: [] });

  useEffect(() => {
    if (!query) return undefined;
    const sub = engine.messages$({ ...query, offset, limit }).subscribe({
      next: (rows) => setState({ key, offset, rows }),
      error: (err: unknown) => console.error('demo: message list view failed', err),
    });
    return () => sub.unsubscribe();
    // `query` is represented by `key`.
  }, [engine, key, offset, limit]);

  const current = state.key === key ? state : { key, offset: 0, rows: [] as Message[] };
  return {
    offset: current.offset,
    rows: current.rows,
    rowAt: (index) => current.rows[index - current.offset],
  };
}
