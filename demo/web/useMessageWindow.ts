// The rows of a folder the list is showing, at any depth, for any folder size:
// `messageIds$` gives the folder's order and length (index keys only, one read),
// and `messagesById$` loads the records of the visible slice, re-subscribing only
// when the slice crosses a page boundary or the order changes. Jumping to row
// 90,000 of 100,000 costs one slice of records, not a walk past 90,000 rows.
// Records already loaded stay on screen until the next slice arrives, so
// scrolling never flashes empty rows.
import { useEffect, useMemo, useState } from 'react';
import type { MailEngine, MailQuery } from './engine.js';
import type { Message } from './types.js';
import type { VisibleRange } from './MessageList.js';

const PAGE = 50;

export interface MessageWindow {
  /** Messages in the list (the query's length). */
  total: number;
  /** The id at a position (known for every row, loaded or not). */
  idAt(index: number): string | undefined;
  /** The record at a position, when its slice is loaded. */
  rowAt(index: number): Message | undefined;
  /** The position of a message in the list, -1 when it is not in it. */
  indexOf(id: string): number;
}

export function useMessageWindow(engine: MailEngine, query: MailQuery | null, range: VisibleRange): MessageWindow {
  const key = query ? JSON.stringify(query) : null;
  const [order, setOrder] = useState<{ key: string | null; ids: string[] }>({ key: null, ids: [] });
  const [loaded, setLoaded] = useState<{ key: string | null; byId: Map<string, Message> }>({ key: null, byId: new Map() });

  useEffect(() => {
    if (!query) return undefined;
    const sub = engine.messageIds$(query).subscribe({
      next: (ids) => setOrder({ key, ids }),
      error: (err: unknown) => console.error('demo: message order view failed', err),
    });
    return () => sub.unsubscribe();
    // `query` is represented by `key`.
  }, [engine, key]);

  const ids = order.key === key ? order.ids : [];
  const from = Math.max(0, Math.floor(range.first / PAGE) * PAGE - PAGE);
  const to = Math.min(ids.length, Math.ceil((range.last + 1) / PAGE) * PAGE + PAGE);
  const slice = useMemo(() => ids.slice(from, to), [ids, from, to]);
  const sliceKey = slice.join('\n');

  useEffect(() => {
    if (slice.length === 0) return undefined;
    const sub = engine.messagesById$(slice).subscribe({
      next: (records) => {
        const byId = new Map<string, Message>();
        for (const m of records) if (m) byId.set(m.id, m);
        setLoaded({ key, byId });
      },
      error: (err: unknown) => console.error('demo: message rows view failed', err),
    });
    return () => sub.unsubscribe();
    // `slice` is represented by `sliceKey`.
  }, [engine, key, sliceKey]);

  const byId = loaded.key === key ? loaded.byId : new Map<string, Message>();
  // Built once per order change, so the cursor can follow a message as rows shift.
  const positions = useMemo(() => new Map(ids.map((id, i) => [id, i])), [ids]);
  return {
    indexOf: (id) => positions.get(id) ?? -1,
    total: ids.length,
    idAt: (index) => ids[index],
    rowAt: (index) => {
      const id = ids[index];
      return id === undefined ? undefined : byId.get(id);
    },
  };
}
