// The mail client: folders | windowed message list | reading pane, with a status
// bar, toasts, compose, keyboard shortcuts and (on the simulator) the outside-world
// panel. Every view is an engine observable; every action is an optimistic engine
// mutation, so the UI never waits for the network. Views come from the package's
// React hooks (src/react) over the engine of <MailboxSyncProvider> (see main.tsx).
//
// The keyboard cursor, the selection and the open message are message ids, never
// row numbers: new mail shifts the rows, and an action must still hit the message
// the user was looking at.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { firstValueFrom } from 'rxjs';
import type { MailboxSync, MessagePatch, MessageQuery, MutationOutcome, SendDraft } from '../../src/index.js';
import { useFolders, useMailboxSync } from '../../src/react/index.js';
import type { DemoClientConfig, Folder, Identity, Message } from './types.js';
import { useEngineStatus } from './hooks.js';
import { FolderList } from './FolderList.js';
import { MessageList, type VisibleRange } from './MessageList.js';
import { ReadingPane, type ReplyMode } from './ReadingPane.js';
import { Compose, emptyDraft, type ComposeDraft } from './Compose.js';
import { StatusBar } from './StatusBar.js';
import { Toasts, type Toast, type ToastAction, type ToastKind } from './Toasts.js';
import { OutsideWorld } from './OutsideWorld.js';
import { HelpOverlay } from './HelpOverlay.js';
import { useMessageWindow } from './useMessageWindow.js';
import { isUnread } from './format.js';
import { highlightTerms, useSearch } from './useSearch.js';
import { Icon } from './Icon.js';
import { OutboxList } from './OutboxList.js';
import type { RecentFailure } from './connection.js';
import { replyDraft } from './replies.js';

let toastSeq = 0;

/** What an action applies to: ids, and the records of those that are loaded. */
interface Targets {
  ids: string[];
  known: Message[];
}

/** The rows the list shows (a folder's window, or search results), by position and by id. */
interface ListRows {
  total: number;
  rowAt(index: number): Message | undefined;
  idAt(index: number): string | undefined;
  indexOf(id: string): number;
}

interface ToastOptions {
  kind?: ToastKind;
  action?: ToastAction;
  /** Notices with the same key replace each other. Default: the text. */
  key?: string;
  /** How long it stays (not for errors, which stay until dismissed). Default 8 s with an action, else 4 s. */
  durationMs?: number;
}

const UNDO_MS = 8000;
/**
 * The undo window of a move to Trash and of a send: the engine holds the request
 * this long (`remove(ids, { delayMs, signal })`, `send(draft, { delayMs })`), and
 * Undo cancels it before the server sees it. After it, Trash is final: the API
 * cannot take a message out of Trash.
 */
export const UNDO_WINDOW_MS = 5000;
const NO_FOLDERS: Folder[] = [];

// errors$ codes the status bar reports (requests failing and retried); the rest of
// the retryable ones are shown where they happen (a body, a download) or not at all.
const SYNC_FAILURES = new Set(['changes_failed', 'bootstrap_failed', 'rate_limited']);

/** The patch that restores `m` to what it was before `patch` (only the fields `patch` touches). */
function revertPatch(m: Message, patch: MessagePatch): MessagePatch {
  const back: MessagePatch = {};
  if (patch.seen !== undefined) back.seen = m.flags.seen;
  if (patch.flagged !== undefined) back.flagged = m.flags.flagged;
  if (patch.keywords) {
    back.keywords = {};
    for (const k of Object.keys(patch.keywords)) back.keywords[k] = m.keywords.includes(k);
  }
  return back;
}

const samePatch = (a: MessagePatch, b: MessagePatch) => JSON.stringify(a) === JSON.stringify(b);

export function App(props: { config: DemoClientConfig }) {
  const { config } = props;
  const sync = useMailboxSync();
  const folders = useFolders() ?? NO_FOLDERS;
  const status = useEngineStatus();
  const [folderId, setFolderId] = useState<string | null>(null);
  const [openId, setOpenId] = useState<string | null>(null);
  const [cursorId, setCursorId] = useState<string | null>(null);
  const [selection, setSelection] = useState<ReadonlySet<string>>(new Set());
  const [anchorId, setAnchorId] = useState<string | null>(null);
  const [search, setSearch] = useState('');
  const [range, setRange] = useState<VisibleRange>({ first: 0, last: 30 });
  const [compose, setCompose] = useState<ComposeDraft | null>(null);
  const [identities, setIdentities] = useState<Identity[] | null>(null);
  const [help, setHelp] = useState(false);
  // Open by default where there is room for it beside the reading pane.
  const [outside, setOutside] = useState(config.simControlUrl !== null && window.innerWidth > 1100);
  const [toasts, setToasts] = useState<Toast[]>([]);
  const [lastFailure, setLastFailure] = useState<RecentFailure | null>(null);
  // The phone layout shows one pane at a time.
  const [view, setView] = useState<'list' | 'reading'>('list');
  const [foldersOpen, setFoldersOpen] = useState(false);
  const searchBox = useRef<HTMLInputElement>(null);
  // The last reversible action (read/unread, star, label, trash, send) and until when
  // it can be undone, for `z` and the toast's Undo.
  const undo = useRef<{ run: () => void; until: number } | null>(null);
  // `g` waits for its second key (g i, g s, g t).
  const goPrefix = useRef(0);

  const toast = useCallback((text: string, options: ToastOptions = {}) => {
    const { kind = 'info', action, key = text, durationMs = action ? UNDO_MS : 4000 } = options;
    const id = ++toastSeq;
    setToasts((ts) => {
      const same = ts.find((t) => t.key === key);
      const next: Toast = { id, key, kind, text, count: same && same.text === text ? same.count + 1 : 1, ...(action ? { action } : {}) };
      return same ? ts.map((t) => (t === same ? next : t)) : [...ts.slice(-3), next];
    });
    if (kind !== 'error') setTimeout(() => setToasts((ts) => ts.filter((t) => t.id !== id)), durationMs);
  }, []);
  const dismiss = useCallback((id: number) => setToasts((ts) => ts.filter((t) => t.id !== id)), []);

  // Sends: "Sending…" when queued (see onSend), then "Sent", or a final failure with Retry.
  // (Events, not state: every outcome is a toast, so this subscribes instead of using a hook.)
  useEffect(() => {
    const sub = sync.sendOutcomes$.subscribe((o) => {
      if (o.status !== 'failed') toast('Sent', { key: `send:${o.seq}` });
      else
        toast(`Couldn't send: ${o.error.message}`, {
          kind: 'error',
          key: `send:${o.seq}`,
          action: { label: 'Retry', run: () => void sync.retrySend(o.seq) },
        });
    });
    return () => sub.unsubscribe();
  }, [sync, toast]);

  // Background failures: what the engine retries by itself goes to the status bar;
  // a toast only for what needs the user.
  useEffect(() => {
    const sub = sync.errors$.subscribe((e) => {
      if (e.retryable) {
        if (SYNC_FAILURES.has(e.code)) setLastFailure({ at: Date.now(), kind: 'sync', message: e.message });
        else if (e.code === 'mutation_failed') setLastFailure({ at: Date.now(), kind: 'mutation', message: e.message });
        return;
      }
      if (e.code === 'unauthorized') {
        toast('The server rejected the API key, so syncing is paused.', {
          kind: 'error',
          key: 'engine:unauthorized',
          action: { label: 'Try again', run: () => void sync.syncNow().catch(() => undefined) },
        });
      } else if (e.code === 'storage_failed') {
        toast('This browser could not save mail locally (is the disk full?).', { kind: 'error', key: 'engine:storage' });
      }
      // Refused changes are reported by their outcome (see act); protocol errors are
      // refused responses the engine already ignored; content errors show in place.
    });
    return () => sub.unsubscribe();
  }, [sync, toast]);

  // Default to the inbox once folders are known.
  const inbox = folders.find((f) => f.role === 'inbox') ?? folders[0];
  const currentFolderId = folderId ?? inbox?.id ?? null;
  const currentFolder = folders.find((f) => f.id === currentFolderId) ?? null;
  const folderNames = useMemo(() => new Map(folders.map((f) => [f.id, f.name])), [folders]);

  const baseQuery = useMemo<MessageQuery | null>(
    () => (currentFolderId ? { folderId: currentFolderId, sortBy: 'received_at', direction: 'desc' } : null),
    [currentFolderId],
  );
  const page = useMessageWindow(baseQuery, range);
  const searchResults = useSearch(search);
  const searchRows = searchResults.rows;
  const searchIndex = useMemo(() => new Map(searchRows.map((m, i) => [m.id, i])), [searchRows]);

  const list: ListRows = useMemo(
    () =>
      search
        ? {
            total: searchRows.length,
            rowAt: (i) => searchRows[i],
            idAt: (i) => searchRows[i]?.id,
            indexOf: (id) => searchIndex.get(id) ?? -1,
          }
        : page,
    [search, searchRows, searchIndex, page],
  );

  // The cursor follows its message. When that message leaves the list (trashed
  // here or elsewhere), the cursor moves to whatever now holds its last position.
  const lastCursorIndex = useRef(-1);
  const found = cursorId ? list.indexOf(cursorId) : -1;
  const cursor = found >= 0 ? found : cursorId && list.total > 0 ? Math.min(lastCursorIndex.current, list.total - 1) : -1;
  if (found >= 0) lastCursorIndex.current = found;
  const cursorFallbackId = found < 0 && cursor >= 0 ? list.idAt(cursor) : undefined;
  useEffect(() => {
    if (cursorFallbackId) setCursorId(cursorFallbackId);
  }, [cursorFallbackId]);

  const resetList = () => {
    setOpenId(null);
    setCursorId(null);
    lastCursorIndex.current = -1;
    setSelection(new Set());
    setAnchorId(null);
    setRange({ first: 0, last: 30 });
    setView('list');
  };
  const selectFolder = (id: string) => {
    setFolderId(id);
    setSearch('');
    setFoldersOpen(false);
    resetList();
  };

  // Records for ids: the loaded ones at once, the rest from the replica.
  const recordsFor = useCallback(
    async (ids: readonly string[], known: readonly Message[]): Promise<Message[]> => {
      const byId = new Map(known.map((m) => [m.id, m]));
      const missing = ids.filter((id) => !byId.has(id));
      if (missing.length > 0) for (const m of await firstValueFrom(sync.messagesById$(missing))) if (m) byId.set(m.id, m);
      return ids.map((id) => byId.get(id)).filter((m): m is Message => m !== undefined);
    },
    [sync],
  );

  // ---- actions (apply to the selection when there is one, else the cursor row) ----
  const targets = useCallback((): Targets => {
    if (selection.size > 0) {
      const known: Message[] = [];
      for (let i = range.first; i <= range.last; i++) {
        const m = list.rowAt(i);
        if (m && selection.has(m.id)) known.push(m);
      }
      return { ids: [...selection], known };
    }
    const m = cursor >= 0 ? list.rowAt(cursor) : undefined;
    return m ? { ids: [m.id], known: [m] } : { ids: [], known: [] };
  }, [selection, cursor, list, range]);

  const report = useCallback(
    (what: string, retry: () => Promise<void>) => (err: unknown) =>
      toast(`Couldn't ${what}: ${err instanceof Error ? err.message : String(err)}`, {
        kind: 'error',
        key: `failed:${what}`,
        action: { label: 'Try again', run: () => void retry().catch(report(what, retry)) },
      }),
    [toast],
  );
  // Fire and forget: the views already show the change. Only a refusal (rolled
  // back, so the change visibly reverts) or a local failure is worth a toast; an
  // undo the user asked for (reason 'cancelled') is not a refusal. `settled` sees
  // the outcomes of the first attempt.
  const act = useCallback(
    (what: string, run: (s: MailboxSync) => Promise<MutationOutcome[]>, settled?: (outcomes: MutationOutcome[]) => void) => {
      let first = true;
      const go = async (): Promise<void> => {
        const outcomes = await run(sync);
        if (first) settled?.(outcomes);
        first = false;
        const failed = outcomes.filter((o) => o.status === 'rolled_back' && o.reason !== 'cancelled');
        if (failed.length > 0) {
          const n = failed.length;
          toast(`Couldn't ${what} (${n} message${n === 1 ? '' : 's'}): the server refused, so the change was undone.`, {
            kind: 'error',
            key: `refused:${what}`,
            action: { label: 'Try again', run: () => void go().catch(report(what, go)) },
          });
        }
      };
      go().catch(report(what, go));
    },
    [sync, report, toast],
  );

  /**
   * A reversible change: applied at once, with a toast offering Undo (also `z`).
   * Undo writes each message's previous values back through update() (absolute
   * values, so it is exact whatever the outbox has sent so far).
   */
  const change = useCallback(
    (what: string, done: string, ids: string[], known: Message[], patch: MessagePatch) => {
      if (ids.length === 0) return;
      void recordsFor(ids, known)
        .then((before) => {
          act(what, (m) => m.update(ids, patch));
          const groups = new Map<string, { patch: MessagePatch; ids: string[] }>();
          for (const m of before) {
            const back = revertPatch(m, patch);
            if (samePatch(back, patch)) continue; // already so: nothing to restore
            const key = JSON.stringify(back);
            groups.set(key, { patch: back, ids: [...(groups.get(key)?.ids ?? []), m.id] });
          }
          const revert = () => {
            for (const g of groups.values()) act(`undo ${what}`, (m) => m.update(g.ids, g.patch));
            undo.current = null;
            toast('Undone', { key: 'undo' });
          };
          undo.current = { run: revert, until: Date.now() + 60_000 };
          toast(ids.length === 1 ? done : `${done} (${ids.length} messages)`, { key: 'undo', action: { label: 'Undo', run: revert } });
        })
        .catch(report(what, async () => undefined));
    },
    [act, recordsFor, report, toast],
  );

  const setRead = useCallback(
    ({ ids, known }: Targets, seen: boolean) => change(seen ? 'mark as read' : 'mark as unread', seen ? 'Marked as read' : 'Marked as unread', ids, known, { seen }),
    [change],
  );
  const toggleRead = useCallback(
    (t: Targets) => {
      if (t.ids.length > 0) setRead(t, t.known.length === 0 || t.known.some(isUnread));
    },
    [setRead],
  );
  const toggleFlag = useCallback(
    ({ ids, known }: Targets) => {
      if (ids.length === 0) return;
      const flagged = known.length === 0 || known.some((m) => !m.flags.flagged);
      change(flagged ? 'star' : 'unstar', flagged ? 'Starred' : 'Star removed', ids, known, { flagged });
    },
    [change],
  );
  const setLabel = useCallback(
    (m: Message, label: string, on: boolean) =>
      change(on ? 'add the label' : 'remove the label', on ? `Label “${label}” added` : `Label “${label}” removed`, [m.id], [m], { keywords: { [label]: on } }),
    [change],
  );

  /**
   * Move to Trash, with Undo (also `z`) for UNDO_WINDOW_MS: the messages leave the
   * list at once, the engine holds the request that long, and Undo aborts it, so the
   * messages come back exactly as they were and the server never sees it. After the
   * window the request is sent, and the API has no way to take a message out of Trash.
   */
  const trash = useCallback(
    (ids: string[]) => {
      if (ids.length === 0) return;
      const gone = new Set(ids);
      // The cursor moves on to the next message that stays.
      if (cursorId && gone.has(cursorId)) {
        let next: string | undefined;
        for (let i = cursor + 1; i < list.total && !next; i++) if (!gone.has(list.idAt(i) ?? '')) next = list.idAt(i);
        for (let i = cursor - 1; i >= 0 && !next; i--) if (!gone.has(list.idAt(i) ?? '')) next = list.idAt(i);
        setCursorId(next ?? null);
      }
      const controller = new AbortController();
      let undoAsked = false;
      const revert = () => {
        if (undo.current?.run === revert) undo.current = null;
        undoAsked = true;
        controller.abort();
      };
      act(
        'move to Trash',
        (s) => s.remove(ids, { delayMs: UNDO_WINDOW_MS, signal: controller.signal }),
        (outcomes) => {
          if (!undoAsked) return;
          if (outcomes.every((o) => o.status === 'rolled_back' && o.reason === 'cancelled')) toast('Undone', { key: 'undo' });
          else toast("Too late to undo: it is in Trash, and the Sendmux API can't take messages out of Trash.", { kind: 'warn', key: 'undo' });
        },
      );
      if (openId && gone.has(openId)) {
        setOpenId(null);
        setView('list');
      }
      setSelection(new Set());
      undo.current = { run: revert, until: Date.now() + UNDO_WINDOW_MS };
      toast(ids.length === 1 ? 'Moved to Trash' : `Moved ${ids.length} messages to Trash`, {
        key: 'undo',
        action: { label: 'Undo', run: revert },
        durationMs: UNDO_WINDOW_MS,
      });
    },
    [act, cursor, cursorId, list, openId, toast],
  );

  const markOpened = useCallback(
    (m: Message) => {
      if (isUnread(m)) act('mark as read', (mut) => mut.update([m.id], { seen: true }));
    },
    [act],
  );
  // A message opened from the conversation strip: it may live in another folder,
  // so the list cursor stays where it is.
  const openMessage = useCallback(
    (m: Message) => {
      setOpenId(m.id);
      markOpened(m);
    },
    [markOpened],
  );
  const open = useCallback(
    (_index: number, m: Message) => {
      setCursorId(m.id);
      setOpenId(m.id);
      setView('reading');
      markOpened(m);
    },
    [markOpened],
  );

  const toggleSelect = useCallback(
    (m: Message, index: number, shift: boolean) => {
      setSelection((prev) => {
        const next = new Set(prev);
        const anchor = anchorId ? list.indexOf(anchorId) : -1;
        if (shift && anchor >= 0) {
          const [a, b] = anchor < index ? [anchor, index] : [index, anchor];
          // Ids are known for every row (loaded or scrolled far away).
          for (let i = a; i <= b; i++) {
            const id = list.idAt(i);
            if (id) next.add(id);
          }
        } else if (next.has(m.id)) next.delete(m.id);
        else next.add(m.id);
        return next;
      });
      setAnchorId(m.id);
      setCursorId(m.id);
    },
    [anchorId, list],
  );

  const loadIdentities = useCallback(() => {
    if (identities !== null) return;
    firstValueFrom(sync.identities$())
      .then(setIdentities)
      .catch(() => setIdentities([]));
  }, [sync, identities]);

  const startCompose = useCallback(
    (draft: ComposeDraft) => {
      loadIdentities();
      setCompose(draft);
    },
    [loadIdentities],
  );
  const reply = useCallback(
    (m: Message, mode: ReplyMode) => {
      loadIdentities();
      void replyDraft(sync, m, mode, identities).then(setCompose);
    },
    [sync, identities, loadIdentities],
  );

  /**
   * Send, with Undo (also `z`) for UNDO_WINDOW_MS: the engine holds the send that
   * long; Undo discards it before the server sees it and reopens the draft. Too late
   * (already sent, or on its way) and the toast says so.
   */
  const send = useCallback(
    async (draft: SendDraft, edited: ComposeDraft) => {
      const { seq } = await sync.send(draft, { delayMs: UNDO_WINDOW_MS });
      const key = `send:${seq}`;
      const revert = () => {
        if (undo.current?.run === revert) undo.current = null;
        sync.discardSend(seq).then(
          (discarded) => {
            if (!discarded) {
              toast('Too late to undo: the message was already sent.', { kind: 'warn', key });
              return;
            }
            toast('Sending undone', { key });
            setCompose((open) => open ?? edited);
          },
          (err: unknown) => toast(`Couldn't undo the send: ${err instanceof Error ? err.message : String(err)}`, { kind: 'error', key }),
        );
      };
      undo.current = { run: revert, until: Date.now() + UNDO_WINDOW_MS };
      toast(status?.online === false ? 'Sending… (when you are back online)' : 'Sending…', {
        key,
        action: { label: 'Undo', run: revert },
        durationMs: UNDO_WINDOW_MS,
      });
    },
    [sync, status?.online, toast],
  );

  const goTo = useCallback(
    (role: string) => {
      const f = folders.find((x) => x.role === role);
      if (f) selectFolder(f.id);
    },
    // selectFolder only sets state.
    [folders],
  );

  const focusLabelInput = () => {
    let tries = 0;
    const attempt = () => {
      const input = document.querySelector<HTMLInputElement>('[data-testid="label-input"]');
      if (input) input.focus();
      else if (tries++ < 30) requestAnimationFrame(attempt);
    };
    attempt();
  };

  // ---- keyboard shortcuts (Gmail's, where the API allows them) ----
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      const typing = t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable);
      if (typing) {
        if (e.key === 'Escape') t.blur();
        return;
      }
      if (compose || e.metaKey || e.ctrlKey || e.altKey) return;
      if (help && e.key !== 'Escape' && e.key !== '?') return;
      const current = cursor >= 0 ? list.rowAt(cursor) : undefined;
      const move = (delta: number) => {
        const next = Math.max(0, Math.min(list.total - 1, cursor + delta));
        const id = list.idAt(next);
        if (!id) return;
        setCursorId(id);
        const m = list.rowAt(next);
        if (m && openId) open(next, m);
      };
      if (Date.now() - goPrefix.current < 1500) {
        goPrefix.current = 0;
        const role = { i: 'inbox', s: 'sent', t: 'trash' }[e.key];
        if (role) {
          goTo(role);
          e.preventDefault();
          return;
        }
      }
      switch (e.key) {
        case 'j':
          move(1);
          break;
        case 'k':
          move(-1);
          break;
        case 'o':
        case 'Enter':
          if (current) open(cursor, current);
          break;
        case '#':
          trash(targets().ids);
          break;
        case 'e':
          // Gmail archives with `e`; the API has no way to move a message out of the
          // inbox (batch-update takes flags and keywords only), so nothing happens.
          toast("Archive isn't available: the Sendmux API can't move messages between folders.", { kind: 'warn', key: 'archive' });
          break;
        case 's':
          toggleFlag(targets());
          break;
        case 'u':
          toggleRead(targets());
          break;
        case 'I':
          setRead(targets(), true);
          break;
        case 'U':
          setRead(targets(), false);
          break;
        case 'z':
          if (undo.current && Date.now() < undo.current.until) undo.current.run();
          else toast('Nothing to undo. (A move to Trash can be undone for 5 seconds; after that the API has no restore.)', { key: 'undo' });
          break;
        case 'x':
          if (current) toggleSelect(current, cursor, false);
          break;
        case 'c':
          startCompose(emptyDraft());
          break;
        case 'r':
        case 'a':
        case 'f':
          if (current) reply(current, e.key === 'r' ? 'reply' : e.key === 'a' ? 'reply-all' : 'forward');
          break;
        case 'l':
          if (!current && !openId) break;
          if (current && openId !== current.id) open(cursor, current);
          focusLabelInput();
          break;
        case 'g':
          goPrefix.current = Date.now();
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
          else if (view === 'reading') setView('list');
          else setOpenId(null);
          break;
        default:
          return;
      }
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [compose, help, cursor, list, openId, open, trash, targets, toggleFlag, toggleRead, setRead, toggleSelect, reply, startCompose, goTo, selection, view, toast]);

  const outsideTargets = selection.size > 0 ? [...selection] : openId ? [openId] : [];
  const starting = status === null || status.phase === 'idle' || status.phase === 'bootstrapping' || status.phase === 'catching_up';
  const terms = useMemo(() => (search ? highlightTerms(search) : []), [search]);
  const sentLike = !search && (currentFolder?.role === 'sent' || currentFolder?.role === 'drafts');

  return (
    <div className="app">
      <header className="topbar">
        <button type="button" className="ghost narrow-only" data-testid="folders-toggle" aria-label="Folders" onClick={() => setFoldersOpen((o) => !o)}>
          ☰
        </button>
        <div className="brand">
          <span className="logo">✉</span> sendmux <span className="muted wide-only">sync demo</span>
        </div>
        <input
          ref={searchBox}
          className="search"
          type="search"
          placeholder="Search all mail  ( / )"
          value={search}
          data-testid="search"
          onChange={(e) => {
            setSearch(e.target.value);
            resetList();
          }}
        />
        <div className="top-actions">
          <button type="button" className="primary" data-testid="compose-open" title="Compose (c)" onClick={() => startCompose(emptyDraft())}>
            <Icon name="compose" size={14} /> <span className="wide-only">Compose</span>
          </button>
          {config.simControlUrl && (
            <button type="button" data-testid="outside-toggle" onClick={() => setOutside((o) => !o)} title="Outside world (simulator control)">
              <Icon name="globe" size={14} /> <span className="wide-only">Outside world</span>
            </button>
          )}
          <button type="button" className="ghost" data-testid="help-open" onClick={() => setHelp(true)} title="Keyboard shortcuts (?)">
            ?
          </button>
        </div>
      </header>
      <main
        className={`panes ${outside && config.simControlUrl ? 'with-outside' : ''} ${foldersOpen ? 'folders-open' : ''}`}
        data-testid="panes"
        data-view={view}
      >
        <div className="sidebar" data-testid="sidebar">
          <FolderList folders={folders} selectedId={currentFolderId} onSelect={selectFolder} />
          <OutboxList />
        </div>
        <section className="list" data-testid="list-pane">
          <div className="list-head">
            <strong data-testid="list-title">{search ? `Search: “${search}”` : currentFolder?.name ?? 'Mail'}</strong>
            <span className="muted" data-testid="list-count">
              {search ? searchResults.summary : starting && page.total === 0 ? '' : `${page.total.toLocaleString()} messages`}
            </span>
          </div>
          {selection.size > 0 && (
            <div className="bulkbar" data-testid="bulk-bar">
              <span>{selection.size} selected</span>
              <button type="button" onClick={() => toggleRead(targets())}>Read/unread</button>
              <button type="button" onClick={() => toggleFlag(targets())}>Star</button>
              <button type="button" className="danger" data-testid="bulk-trash" onClick={() => trash([...selection])}>
                Trash
              </button>
              <button type="button" className="ghost" onClick={() => setSelection(new Set())}>
                Clear
              </button>
            </div>
          )}
          <MessageList
            total={list.total}
            rowAt={list.rowAt}
            cursor={cursor}
            openId={openId}
            selection={selection}
            loading={!search && starting}
            showRecipients={sentLike}
            highlight={terms}
            folderOf={search ? (m) => m.folder_ids.map((id) => folderNames.get(id)).filter(Boolean).join(', ') || null : null}
            emptyText={search ? 'No matches.' : 'No messages here.'}
            onRange={setRange}
            onOpen={open}
            onToggleSelect={toggleSelect}
            onToggleRead={(m) => toggleRead({ ids: [m.id], known: [m] })}
            onToggleFlag={(m) => toggleFlag({ ids: [m.id], known: [m] })}
          />
        </section>
        <ReadingPane
          messageId={openId}
          onReply={reply}
          onBack={() => setView('list')}
          onToast={(text, kind) => toast(text, kind ? { kind } : {})}
          onTrash={trash}
          onToggleRead={(m) => toggleRead({ ids: [m.id], known: [m] })}
          onToggleFlag={(m) => toggleFlag({ ids: [m.id], known: [m] })}
          onLabel={setLabel}
          onOpenMessage={openMessage}
        />
        {outside && config.simControlUrl && (
          <OutsideWorld controlUrl={config.simControlUrl} targetIds={outsideTargets} onToast={(text, kind) => toast(text, kind ? { kind } : {})} onClose={() => setOutside(false)} />
        )}
      </main>
      <StatusBar status={status} lastFailure={lastFailure} mode={config.mode === 'simulator' ? 'simulator' : 'app.sendmux.ai'} />
      <Toasts toasts={toasts} onDismiss={dismiss} />
      {compose && (
        <Compose
          initial={compose}
          identities={identities}
          onClose={() => setCompose(null)}
          onSend={send}
        />
      )}
      {help && <HelpOverlay onClose={() => setHelp(false)} />}
    </div>
  );
}
