// The rows of a folder the list is showing, at any depth, for any folder size:
// `useMessageIds` gives the folder's order and length (index keys only, one read),
// and `messagesById$` loads the records of the visible slice, re-subscribing only
// when the slice crosses a page boundary or the order changes. Jumping to row
// 90,000 of 100,000 costs one slice of records, not a walk past 90,000 rows.
// Records already loaded stay on screen until the next slice arrives, so
// scrolling never flashes empty rows.
import { useMemo, useRef } from 'react';
import { useMailboxObservable, useMailboxSync, useMessageIds } from '../../src/react/index.js';
import type { MessageQuery } from '../../src/index.js';
import type { Message } from './types.js';
import type { VisibleRange } from './MessageList.js';

const PAGE = 50;
const NO_IDS: string[] = [];

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

export function useMessageWindow(query: MessageQuery | null, range: VisibleRange): MessageWindow {
  const sync = useMailboxSync();
  // No folder yet (folders load first): a null query reads nothing, shown as empty.
  const ids = useMessageIds(sync, query) ?? NO_IDS;
  const shown = query ? ids : NO_IDS;
  const from = Math.max(0, Math.floor(range.first / PAGE) * PAGE - PAGE);
  const to = Math.min(shown.length, Math.ceil((range.last + 1) / PAGE) * PAGE + PAGE);
  const slice = useMemo(() => shown.slice(from, to), [shown, from, to]);
  const records = useMailboxObservable(sync, ['messagesById', slice], (s) => s.messagesById$(slice));

  // The last loaded records of this query stay until the next slice arrives.
  const queryKey = JSON.stringify(query);
  const kept = useRef<{ key: string; byId: Map<string, Message> }>({ key: queryKey, byId: new Map() });
  const byId = useMemo(() => {
    if (!records) return null;
    const map = new Map<string, Message>();
    for (const m of records) if (m) map.set(m.id, m);
    return map;
  }, [records]);
  if (kept.current.key !== queryKey) kept.current = { key: queryKey, byId: new Map() };
  if (byId) kept.current.byId = byId;
  const loaded = kept.current.byId;

  // Built once per order change, so the cursor can follow a message as rows shift.
  const positions = useMemo(() => new Map(shown.map((id, i) => [id, i])), [shown]);
  return {
    indexOf: (id) => positions.get(id) ?? -1,
    total: shown.length,
    idAt: (index) => shown[index],
    rowAt: (index) => {
      const id = shown[index];
      return id === undefined ? undefined : loaded.get(id);
    },
  };
}
