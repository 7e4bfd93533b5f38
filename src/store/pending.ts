// "Visible = server + pending" (DESIGN.md invariant 3), as pure functions.
//
// A record the app sees is the latest server version with every not-yet-acknowledged
// local mutation re-applied in order. Counters derived from messages (folder
// total/unread, thread unread/count) move with those mutations: a visible folder is
// the server folder plus the summed counter delta (visible − server) of every message
// that has pending mutations. Keeping the delta derivable means a rollback is exact:
// drop the op, recompute, and the server numbers come back.
import type { components } from '../api/schema.js';

type Message = components['schemas']['MailboxMessageSummary'];
type Folder = components['schemas']['MailboxFolder'];
type Thread = components['schemas']['MailboxThreadSummary'];

/**
 * An absolute flag/keyword change, as `messages:batch-update` takes it. Absolute sets
 * make resending safe (DESIGN.md invariant 4).
 */
export interface MessagePatch {
  seen?: boolean;
  flagged?: boolean;
  /** keyword → true sets it, false clears it; names are normalised to lowercase. */
  keywords?: Record<string, boolean>;
}

/** One pending local mutation of one message. */
export type PendingOp =
  | { kind: 'update'; patch: MessagePatch }
  | { kind: 'remove'; permanent: boolean; trashFolderId: string | null };

// System keywords mirrored by `flags` (RFC 8621 §4.1.1 keywords; the API reports both).
const FLAG_KEYWORDS = { $seen: 'seen', $flagged: 'flagged', $answered: 'answered' } as const;
// Lifecycle keywords are read-only (BatchUpdateMailboxMessagesBody.keywords).
const READ_ONLY_KEYWORDS = new Set(['$draft']);

/**
 * Applies one absolute patch to a message; returns a new record, the input is untouched.
 * Keywords come out de-duplicated and sorted, as the server reports them, so that a
 * fast-forwarded record (server copy + acknowledged patch) equals the server's own.
 */
export function applyPatch(message: Message, patch: MessagePatch): Message {
  const flags = { ...message.flags };
  const keywords = new Set(message.keywords);
  const setKeyword = (name: string, on: boolean) => {
    if (on) keywords.add(name);
    else keywords.delete(name);
  };
  for (const [raw, on] of Object.entries(patch.keywords ?? {})) {
    const name = raw.toLowerCase();
    if (READ_ONLY_KEYWORDS.has(name)) continue;
    setKeyword(name, on);
    // Keyword names are data (issue 19): `constructor` must not find Object.prototype's.
    if (Object.hasOwn(FLAG_KEYWORDS, name)) flags[FLAG_KEYWORDS[name as keyof typeof FLAG_KEYWORDS]] = on;
  }
  // Explicit seen/flagged fields win over the same flag named in `keywords`.
  if (patch.seen !== undefined) {
    flags.seen = patch.seen;
    setKeyword('$seen', patch.seen);
  }
  if (patch.flagged !== undefined) {
    flags.flagged = patch.flagged;
    setKeyword('$flagged', patch.flagged);
  }
  return { ...message, flags, keywords: [...keywords].sort() };
}

/** Server record + ops in order → visible record; `undefined` when removed or absent. */
export function applyOps(server: Message | undefined, ops: readonly PendingOp[]): Message | undefined {
  let visible = server;
  for (const op of ops) {
    if (!visible) return undefined;
    if (op.kind === 'update') {
      visible = applyPatch(visible, op.patch);
    } else if (op.permanent) {
      visible = undefined;
    } else if (op.trashFolderId) {
      // batch-delete without `permanent` moves the message to Trash.
      visible = { ...visible, folder_ids: [op.trashFolderId] };
    }
  }
  return visible;
}

/** Per-folder and per-thread counter deltas (visible − server) of messages with pending ops. */
export interface CounterDelta {
  folders: Map<string, { total: number; unread: number }>;
  threads: Map<string, { unread: number; count: number }>;
}

export function emptyDelta(): CounterDelta {
  return { folders: new Map(), threads: new Map() };
}

function addContribution(into: CounterDelta, message: Message | undefined, sign: 1 | -1): void {
  if (!message) return;
  const unread = message.flags.seen ? 0 : 1;
  for (const folderId of new Set(message.folder_ids)) {
    const f = into.folders.get(folderId) ?? { total: 0, unread: 0 };
    f.total += sign;
    f.unread += sign * unread;
    into.folders.set(folderId, f);
  }
  if (message.thread_id) {
    const t = into.threads.get(message.thread_id) ?? { unread: 0, count: 0 };
    t.count += sign;
    t.unread += sign * unread;
    into.threads.set(message.thread_id, t);
  }
}

/** Adds (visible − server) of one message to `into`; returns `into`. */
export function addMessageDelta(into: CounterDelta, server: Message | undefined, visible: Message | undefined): CounterDelta {
  addContribution(into, visible, 1);
  addContribution(into, server, -1);
  return into;
}

/** Server folder + delta → visible folder. Exact arithmetic, so visible − delta = server. */
export function overlayFolder(server: Folder, delta: CounterDelta): Folder {
  const d = delta.folders.get(server.id);
  if (!d || (d.total === 0 && d.unread === 0)) return server;
  return {
    ...server,
    total_messages: server.total_messages + d.total,
    unread_messages: server.unread_messages + d.unread,
  };
}

/**
 * Server thread + delta → visible thread. `last_message` shows the visible version of
 * that message when it has pending ops; when it was removed locally the server's is
 * kept until the server reports the thread's new last message.
 */
export function overlayThread(
  server: Thread,
  delta: CounterDelta,
  visibleById?: ReadonlyMap<string, Message | undefined>,
): Thread {
  const d = delta.threads.get(server.id);
  const last = server.last_message;
  const lastVisible = last && visibleById?.has(last.id) ? visibleById.get(last.id) : undefined;
  if ((!d || (d.unread === 0 && d.count === 0)) && !lastVisible) return server;
  return {
    ...server,
    unread_count: server.unread_count + (d?.unread ?? 0),
    message_count: server.message_count + (d?.count ?? 0),
    last_message: lastVisible ?? last,
  };
}
