// The three-pane mail client: folders | windowed message list | reading pane,
// with a status bar, toasts, compose, keyboard shortcuts and (on the simulator)
// the outside-world panel. Every view is an engine observable; every action is an
// optimistic engine mutation, so the UI never waits for the network.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { MailEngine, MailQuery, MutationOutcome } from './engine.js';
import type { DemoClientConfig, Message } from './types.js';
import { useObservable } from './hooks.js';
import { FolderList } from './FolderList.js';
import { MessageList, type VisibleRange } from './MessageList.js';
import { ReadingPane } from './ReadingPane.js';
import { Compose, type ComposeDraft } from './Compose.js';
import { StatusBar } from './StatusBar.js';
import { Toasts, type Toast, type ToastKind } from './Toasts.js';
import { OutsideWorld } from './OutsideWorld.js';
import { HelpOverlay } from './HelpOverlay.js';
import { useMessageWindow } from './useMessageWindow.js';
import { formatAddress, isUnread, senderName } from './format.js';
import { LOCAL_SCAN, useSearch } from './useSearch.js';
import { Icon } from './Icon.js';
import { OutboxList } from './OutboxList.js';

let toastSeq = 0;

/** What an action applies to. */
interface Targets {
  ids: string[];
  known: Message[];
}
const one = (m: Message): Targets => ({ ids: [m.id], known: [m] });

export function App(props: { engine: MailEngine; config: DemoClientConfig }) {
  const { engine, config } = props;
  const folders = useObservable(() => engine.folders$(), [engine], []);
  const status = useObservable(() => engine.status$, [engine], null);
  const [folderId, setFolderId] = useState<string | null>(null);
  const [openId, setOpenId] = useState<string | null>(null);
  const [cursor, setCursor] = useState(-1);
  const [selection, setSelection] = useState<ReadonlySet<string>>(new Set());
  const [anchor, setAnchor] = useState<number | null>(null);
  const [search, setSearch] = useState('');
  const [range, setRange] = useState<VisibleRange>({ first: 0, last: 30 });
  const [compose, setCompose] = useState<ComposeDraft | null>(null);
  const [help, setHelp] = useState(false);
  const [outside, setOutside] = useState(config.simControlUrl !== null);
  const [toasts, setToasts] = useState<Toast[]>([]);
  const searchBox = useRef<HTMLInputElement>(null);

  // `key` groups related notices (e.g. one engine error code raised per record
  // type) into one toast with a count instead of a stack.
  const toast = useCallback((text: string, kind: ToastKind = 'info', retry?: () => void, key: string = text) => {
    const id = ++toastSeq;
    setToasts((ts) => {
      const same = ts.find((t) => t.key === key && t.kind === kind);
      if (same) return ts.map((t) => (t === same ? { ...t, id, text, count: t.count + 1, ...(retry ? { retry } : {}) } : t));
      return [...ts.slice(-3), { id, key, kind, text, count: 1, ...(retry ? { retry } : {}) }];
    });
    if (kind !== 'error') setTimeout(() => setToasts((ts) => ts.filter((t) => t.id !== id)), kind === 'info' ? 3500 : 10_000);
  }, []);
  const dismiss = useCallback((id: number) => setToasts((ts) => ts.filter((t) => t.id !== id)), []);

  useEffect(() => {
    const sending = engine.sending;
    if (!sending) return undefined;
    const sub = sending.failures$.subscribe((f) => toast(`Send failed: ${f.message}`, 'error', () => void sending.retry(f.seq)));
    return () => sub.unsubscribe();
  }, [engine, toast]);

  useEffect(() => {
    // Retryable background failures are warnings (the engine retries on its own;
    // Retry just does it now); the rest stay until dismissed.
    const sub = engine.errors$.subscribe((e) =>
      toast(e.message, e.retryable ? 'warn' : 'error', () => void engine.syncNow().catch(() => undefined), `engine:${e.code}`),
    );
    return () => sub.unsubscribe();
  }, [engine, toast]);

  // Default to the inbox once folders are known.
  const inbox = folders.find((f) => f.role === 'inbox') ?? folders[0];
  const currentFolderId = folderId ?? inbox?.id ?? null;
  const currentFolder = folders.find((f) => f.id === currentFolderId) ?? null;

  const baseQuery = useMemo<MailQuery | null>(
    () => (currentFolderId ? { folderId: currentFolderId, sortBy: 'received_at', direction: 'desc' } : null),
    [currentFolderId],
  );
  const page = useMessageWindow(engine, baseQuery, range);
  const searchResults = useSearch(engine, search, currentFolderId ?? undefined);

  const listTotal = search ? searchResults.rows.length : page.total;
  const rowAt = useCallback(
    (i: number) => (search ? searchResults.rows[i] : page.rowAt(i)),
    [search, searchResults.rows, page],
  );

  const selectFolder = (id: string) => {
    setFolderId(id);
    setOpenId(null);
    setCursor(-1);
    setSelection(new Set());
    setRange({ first: 0, last: 30 });
  };

  // ---- actions (apply to the selection when there is one, else the cursor row) ----
  // `known` are the targets whose records are loaded (a selection may include rows
  // scrolled out of the window); toggles decide from those, and act on every id.
  const targets = useCallback((): Targets => {
    if (selection.size > 0) {
      const known: Message[] = [];
      for (let i = range.first; i <= range.last; i++) {
        const m = rowAt(i);
        if (m && selection.has(m.id)) known.push(m);
      }
      return { ids: [...selection], known };
    }
    const m = cursor >= 0 ? rowAt(cursor) : undefined;
    return m ? one(m) : { ids: [], known: [] };
  }, [selection, cursor, rowAt, range]);

  const report = useCallback(
    (what: string, retry: () => Promise<void>) => (err: unknown) =>
      toast(`${what} failed: ${err instanceof Error ? err.message : String(err)}`, 'error', () => void retry().catch(report(what, retry))),
    [toast],
  );
  // Fire and forget: the views already show the change. Only a refusal (rolled
  // back, so the change visibly reverts) or a local failure is worth a toast.
  const act = useCallback(
    (what: string, run: (m: NonNullable<MailEngine['mutations']>) => Promise<MutationOutcome[]>) => {
      const mutations = engine.mutations;
      if (!mutations) {
        toast(`${what}: this engine build has no outbox (update/remove) yet`, 'error');
        return;
      }
      const go = async (): Promise<void> => {
        const outcomes = await run(mutations);
        const failed = outcomes.filter((o) => o.status === 'rolled_back');
        if (failed.length > 0) {
          const why = failed[0]?.error?.message ?? failed[0]?.reason ?? 'refused by the server';
          toast(`${what}: ${failed.length} change${failed.length === 1 ? '' : 's'} rolled back (${why})`, 'error', () => void go().catch(report(what, go)));
        }
      };
      go().catch(report(what, go));
    },
    [engine, report, toast],
  );

  const toggleRead = useCallback(
    ({ ids, known }: Targets) => {
      if (ids.length === 0) return;
      const seen = known.length === 0 || known.some(isUnread);
      act(seen ? 'Mark read' : 'Mark unread', (m) => m.update(ids, { seen }));
    },
    [act],
  );
  const toggleFlag = useCallback(
    ({ ids, known }: Targets) => {
      if (ids.length === 0) return;
      const flagged = known.length === 0 || known.some((m) => !m.flags.flagged);
      act(flagged ? 'Flag' : 'Unflag', (m) => m.update(ids, { flagged }));
    },
    [act],
  );
  const trash = useCallback(
    (ids: string[]) => {
      if (ids.length === 0) return;
      act('Move to trash', (m) => m.remove(ids));
      if (openId && ids.includes(openId)) setOpenId(null);
      setSelection(new Set());
      toast(ids.length === 1 ? 'Moved to trash' : `Moved ${ids.length} messages to trash`);
    },
    [act, openId, toast],
  );

  // A message opened from the conversation strip: it may live in another folder,
  // so the list cursor stays where it is.
  const openMessage = useCallback(
    (m: Message) => {
      setOpenId(m.id);
      if (isUnread(m)) act('Mark read', (mut) => mut.update([m.id], { seen: true }));
    },
    [act],
  );

  const open = useCallback(
    (index: number, m: Message) => {
      setCursor(index);
      setOpenId(m.id);
      if (isUnread(m)) act('Mark read', (mut) => mut.update([m.id], { seen: true }));
    },
    [act],
  );

  const toggleSelect = useCallback(
    (m: Message, index: number, shift: boolean) => {
      setSelection((prev) => {
        const next = new Set(prev);
        if (shift && anchor !== null) {
          const [a, b] = anchor < index ? [anchor, index] : [index, anchor];
          // Ids are known for every row (loaded or scrolled far away).
          for (let i = a; i <= b; i++) {
            const id = search ? rowAt(i)?.id : page.idAt(i);
            if (id) next.add(id);
          }
        } else if (next.has(m.id)) next.delete(m.id);
        else next.add(m.id);
        return next;
      });
      setAnchor(index);
      setCursor(index);
    },
    [anchor, rowAt, search, page],
  );

  const reply = useCallback((m: Message) => {
    setCompose({
      relatedId: m.id,
      to: m.from ? formatAddress(m.from) : '',
      cc: '',
      subject: m.subject?.startsWith('Re:') ? m.subject : `Re: ${m.subject ?? ''}`,
      body: `\n\nOn ${m.received_at ?? ''}, ${senderName(m.from)} wrote:\n> ${(m.preview ?? '').replace(/\n/g, '\n> ')}`,
    });
  }, []);

  // ---- keyboard shortcuts ----
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      const typing = t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.isContentEditable);
      if (typing) {
        if (e.key === 'Escape') t.blur();
        return;
      }
      if (compose || e.metaKey || e.ctrlKey || e.altKey) return;
      if (help && e.key !== 'Escape' && e.key !== '?') return;
      const move = (delta: number) => {
        const next = Math.max(0, Math.min(listTotal - 1, cursor + delta));
        setCursor(next);
        const m = rowAt(next);
        if (m && openId) open(next, m);
      };
      switch (e.key) {
        case 'j':
          move(1);
          break;
        case 'k':
          move(-1);
          break;
        case 'o':
        case 'Enter': {
          const m = rowAt(cursor);
          if (m) open(cursor, m);
          break;
        }
        case 'e':
        case '#':
          trash(targets().ids);
          break;
        case 's':
          toggleFlag(targets());
          break;
        case 'u':
          toggleRead(targets());
          break;
        case 'x': {
          const m = rowAt(cursor);
          if (m) toggleSelect(m, cursor, false);
          break;
        }
        case 'c':
          if (engine.sending) setCompose({ to: '', cc: '', subject: '', body: '' });
          break;
        case 'r': {
          const m = rowAt(cursor);
          if (m && engine.sending) reply(m);
          break;
        }
        case 'l':
          document.querySelector<HTMLInputElement>('[data-testid="label-input"]')?.focus();
          break;
        case '/':
          searchBox.current?.focus();
          break;
        case '?':
          setHelp((h) => !h);
          break;
        case 'Escape':
          if (help) setHelp(false);
          else if (selection.size) setSelection(new Set());
          else setOpenId(null);
          break;
        default:
          return;
      }
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [compose, help, cursor, listTotal, rowAt, openId, open, trash, targets, toggleFlag, toggleRead, toggleSelect, reply, selection]);

  const outsideTargets = selection.size > 0 ? [...selection] : openId ? [openId] : [];

  return (
    <div className="app">
      <header className="topbar">
        <div className="brand">
          <span className="logo">✉</span> sendmux <span className="muted">sync demo</span>
        </div>
        <input
          ref={searchBox}
          className="search"
          type="search"
          placeholder={engine.search$ ? 'Search all mail  ( / )' : `Search ${currentFolder?.name ?? 'mail'}  ( / )`}
          value={search}
          data-testid="search"
          onChange={(e) => {
            setSearch(e.target.value);
            setCursor(-1);
            setRange({ first: 0, last: 30 });
          }}
        />
        <div className="top-actions">
          <button type="button" className="primary" data-testid="compose-open" disabled={!engine.sending} title={engine.sending ? 'Compose (c)' : 'Sending is not available in this engine build'} onClick={() => setCompose({ to: '', cc: '', subject: '', body: '' })}>
            <Icon name="compose" size={14} /> Compose
          </button>
          {config.simControlUrl && (
            <button type="button" data-testid="outside-toggle" onClick={() => setOutside((o) => !o)}>
              <Icon name="globe" size={14} /> Outside world
            </button>
          )}
          <button type="button" className="ghost" data-testid="help-open" onClick={() => setHelp(true)} title="Keyboard shortcuts (?)">
            ?
          </button>
        </div>
      </header>
      <main className={`panes ${outside && config.simControlUrl ? 'with-outside' : ''}`}>
        <div className="sidebar">
          <FolderList folders={folders} selectedId={currentFolderId} onSelect={selectFolder} />
          {engine.sending && <OutboxList sending={engine.sending} />}
        </div>
        <section className="list">
          <div className="list-head">
            <strong>
              {search ? `“${search}” in ${searchResults.scope === 'mailbox' ? 'all mail' : currentFolder?.name ?? 'mail'}` : currentFolder?.name ?? 'Mail'}
            </strong>
            <span className="muted" data-testid="list-count" title={search && searchResults.scope === 'folder' ? `Local search scans the newest ${LOCAL_SCAN.toLocaleString()} messages of the folder` : undefined}>
              {search ? searchResults.summary : `${page.total.toLocaleString()} messages`}
            </span>
          </div>
          {selection.size > 0 && (
            <div className="bulkbar" data-testid="bulk-bar">
              <span>{selection.size} selected</span>
              <button type="button" onClick={() => toggleRead(targets())}>Read/unread</button>
              <button type="button" onClick={() => toggleFlag(targets())}>Flag</button>
              <button type="button" className="danger" data-testid="bulk-trash" onClick={() => trash([...selection])}>
                Trash
              </button>
              <button type="button" className="ghost" onClick={() => setSelection(new Set())}>
                Clear
              </button>
            </div>
          )}
          <MessageList
            total={listTotal}
            rowAt={rowAt}
            cursor={cursor}
            openId={openId}
            selection={selection}
            emptyText={search ? 'No matches.' : status && status.phase !== 'live' ? 'Syncing…' : 'No messages here.'}
            onRange={setRange}
            onOpen={open}
            onToggleSelect={toggleSelect}
            onToggleRead={(m) => toggleRead(one(m))}
            onToggleFlag={(m) => toggleFlag(one(m))}
          />
        </section>
        <ReadingPane
          engine={engine}
          messageId={openId}
          onReply={reply}
          onToast={toast}
          onTrash={trash}
          onToggleRead={(m) => toggleRead(one(m))}
          onToggleFlag={(m) => toggleFlag(one(m))}
          onLabel={(m, label, on) => act(on ? 'Add label' : 'Remove label', (mut) => mut.update([m.id], { keywords: { [label]: on } }))}
          onOpenMessage={openMessage}
        />
        {outside && config.simControlUrl && (
          <OutsideWorld controlUrl={config.simControlUrl} targetIds={outsideTargets} onToast={toast} onClose={() => setOutside(false)} />
        )}
      </main>
      <StatusBar status={status} mode={config.mode === 'simulator' ? 'simulator' : 'app.sendmux.ai'} />
      <Toasts toasts={toasts} onDismiss={dismiss} />
      {compose && (
        <Compose
          initial={compose}
          onClose={() => setCompose(null)}
          onSend={async (draft) => {
            if (!engine.sending) throw new Error('this engine build cannot send yet');
            await engine.sending.send(draft);
            toast('Message queued in the outbox');
          }}
        />
      )}
      {help && <HelpOverlay onClose={() => setHelp(false)} />}
    </div>
  );
}
