// Windowed message list: only the rows in view (plus a small overscan) exist in
// the DOM, so a folder of 100k messages scrolls like one of 100. The parent owns
// the data: it tells us how many rows there are and gives us the ones it has
// loaded; we tell it which range is visible so it can fetch that page.
import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import type { Message } from './types.js';
import { highlightRuns, isUnread, labelsOf, longDate, senderName, shortDate } from './format.js';
import { Icon } from './Icon.js';

export const ROW_HEIGHT = 68;
const OVERSCAN = 8;

export interface VisibleRange {
  first: number;
  last: number;
}

export interface MessageListProps {
  total: number;
  rowAt: (index: number) => Message | undefined;
  cursor: number;
  openId: string | null;
  selection: ReadonlySet<string>;
  emptyText: string;
  /** Nothing to list yet because the engine is still starting: placeholder rows. */
  loading: boolean;
  /** Show the recipients ("To: …") instead of the sender (the Sent and Drafts folders). */
  showRecipients: boolean;
  /** Search terms to highlight in subject and preview. */
  highlight: readonly string[];
  /** The folder a row lives in, when the list spans folders (search); null otherwise. */
  folderOf: ((message: Message) => string | null) | null;
  onRange: (range: VisibleRange) => void;
  onOpen: (index: number, message: Message) => void;
  onToggleSelect: (message: Message, index: number, shift: boolean) => void;
  onToggleRead: (message: Message) => void;
  onToggleFlag: (message: Message) => void;
}

export function MessageList(props: MessageListProps) {
  const scroller = useRef<HTMLDivElement>(null);
  const [viewport, setViewport] = useState({ top: 0, height: 600 });
  const { total, onRange, cursor } = props;

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return undefined;
    const measure = () => setViewport({ top: el.scrollTop, height: el.clientHeight });
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  const first = Math.max(0, Math.floor(viewport.top / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(total - 1, Math.ceil((viewport.top + viewport.height) / ROW_HEIGHT) + OVERSCAN);

  useEffect(() => {
    onRange({ first, last: Math.max(first, last) });
  }, [first, last, onRange]);

  // Keep the keyboard cursor in view.
  useEffect(() => {
    const el = scroller.current;
    if (!el || cursor < 0) return;
    const top = cursor * ROW_HEIGHT;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + ROW_HEIGHT > el.scrollTop + el.clientHeight) el.scrollTop = top + ROW_HEIGHT - el.clientHeight;
  }, [cursor]);

  const rows = [];
  for (let i = first; i <= last; i++) {
    const m = props.rowAt(i);
    rows.push(
      m ? (
        <Row key={m.id} index={i} message={m} {...props} />
      ) : (
        <div key={`placeholder-${i}`} className="row placeholder" style={{ top: i * ROW_HEIGHT }} aria-hidden>
          <div className="skeleton" />
        </div>
      ),
    );
  }

  return (
    <div
      ref={scroller}
      className="list-scroller"
      data-testid="message-list"
      data-total={total}
      role="listbox"
      aria-multiselectable
      onScroll={(e) => setViewport({ top: e.currentTarget.scrollTop, height: e.currentTarget.clientHeight })}
    >
      {total === 0 && props.loading ? (
        <div className="list-spacer" data-testid="list-skeleton" aria-busy>
          {Array.from({ length: 12 }, (_, i) => (
            <div key={i} className="row placeholder" style={{ top: i * ROW_HEIGHT }} aria-hidden>
              <div className="skeleton" />
            </div>
          ))}
        </div>
      ) : total === 0 ? (
        <div className="muted pad" data-testid="message-list-empty">
          {props.emptyText}
        </div>
      ) : (
        <div className="list-spacer" style={{ height: total * ROW_HEIGHT }}>
          {rows}
        </div>
      )}
    </div>
  );
}

function Marked(props: { text: string; terms: readonly string[] }) {
  return (
    <>
      {highlightRuns(props.text, props.terms).map((run, i) =>
        run.hit ? (
          <mark key={i} data-testid="hit">
            {run.text}
          </mark>
        ) : (
          run.text
        ),
      )}
    </>
  );
}

function Row(props: MessageListProps & { index: number; message: Message }) {
  const { message: m, index } = props;
  const who = props.showRecipients
    ? `To: ${m.to.map((a) => senderName(a)).join(', ') || '(no recipients)'}`
    : senderName(m.from);
  const folder = props.folderOf?.(m) ?? null;
  const unread = isUnread(m);
  const selected = props.selection.has(m.id);
  const classes = ['row', unread ? 'unread' : '', m.id === props.openId ? 'open' : '', index === props.cursor ? 'cursor' : '', selected ? 'selected' : ''];
  return (
    <div
      className={classes.join(' ')}
      style={{ top: index * ROW_HEIGHT }}
      role="option"
      aria-selected={selected}
      data-testid="message-row"
      data-id={m.id}
      data-index={index}
      data-unread={unread ? 'true' : 'false'}
      data-flagged={m.flags.flagged ? 'true' : 'false'}
      onClick={(e) => {
        if (e.metaKey || e.ctrlKey || e.shiftKey) props.onToggleSelect(m, index, e.shiftKey);
        else props.onOpen(index, m);
      }}
    >
      <input
        type="checkbox"
        className="row-check"
        aria-label="Select"
        data-testid="row-select"
        checked={selected}
        onClick={(e) => e.stopPropagation()}
        onChange={(e) => props.onToggleSelect(m, index, (e.nativeEvent as MouseEvent).shiftKey === true)}
      />
      <button
        type="button"
        className={`dot ${unread ? 'on' : ''}`}
        title={unread ? 'Mark as read (u)' : 'Mark as unread (u)'}
        data-testid="toggle-read"
        onClick={(e) => {
          e.stopPropagation();
          props.onToggleRead(m);
        }}
      />
      <div className="row-main">
        <div className="row-top">
          <span className="from" data-testid="row-who">
            {who}
          </span>
          {folder && (
            <span className="row-folder" data-testid="row-folder">
              {folder}
            </span>
          )}
          <span className="date" data-testid="row-date" title={longDate(m.received_at)}>
            {shortDate(m.received_at)}
          </span>
        </div>
        <div className="subject">
          {m.has_attachments && (
            <span className="clip" title="Has attachments">
              <Icon name="clip" size={13} />
            </span>
          )}
          {labelsOf(m).map((l) => (
            <span key={l} className="label" data-testid="row-label">
              {l}
            </span>
          ))}
          <Marked text={m.subject || '(no subject)'} terms={props.highlight} />
        </div>
        <div className="preview">
          <Marked text={m.preview ?? ''} terms={props.highlight} />
        </div>
      </div>
      <button
        type="button"
        className={`star ${m.flags.flagged ? 'on' : ''}`}
        title="Flag (s)"
        data-testid="toggle-flag"
        onClick={(e) => {
          e.stopPropagation();
          props.onToggleFlag(m);
        }}
      >
        {m.flags.flagged ? '★' : '☆'}
      </button>
    </div>
  );
}
