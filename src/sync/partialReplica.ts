// Partial replica mode (issue 7): `replica: { mode: 'windowed', perFolder: N }`.
//
// Instead of copying every message, the replica holds the newest N messages of each
// folder, any message shown by an open query window, and any message with pending
// local changes. Each folder's newest N is itself a query window (folder_id filter,
// received_at desc), so it stays fresh through query-changes like any window.
// Updates and destroys of held messages still come from `/mailbox/changes`: the
// changes loop asks `held()` which changed ids to fetch. Messages that leave every
// window are evicted.
import { live } from '../store/live.js';
import type { Subscription } from 'rxjs';
import { ACTIVE_OUTBOX_STATUSES } from '../store/db.js';
import { putServerMessages } from '../store/overlay.js';
import type { SyncContext } from './context.js';
import { SyncError } from './errors.js';
import type { WindowManager } from './windows.js';

/** How much of the mailbox the replica holds. */
export type ReplicaMode = { mode: 'full' } | { mode: 'windowed'; perFolder: number };

export interface PartialReplica {
  /** The subset of `ids` the replica holds or a window shows: what a changes pull should fetch. */
  held(ids: readonly string[]): Promise<string[]>;
  /** Evicts messages that are in no window and have no pending change; returns how many. */
  evict(): Promise<number>;
  stop(): void;
}

export interface PartialReplicaOptions {
  /** Newest messages held per folder. */
  perFolder: number;
  /** A window counts as open while used within this long (the window manager's activeForMs). */
  activeForMs: number;
}

export function createPartialReplica(ctx: SyncContext, windows: WindowManager, options: PartialReplicaOptions): PartialReplica {
  const { db } = ctx;
  const { perFolder } = options;

  /** Ids shown by every open window (folder windows and app windows alike). */
  async function windowIds(): Promise<Set<string>> {
    const ids = new Set<string>();
    const since = ctx.clock.now() - options.activeForMs;
    await db.windows.where('used_at').aboveOrEqual(since).each((row) => row.ids.forEach((id) => ids.add(id)));
    return ids;
  }
  const folderSubs = new Map<string, Subscription>();
  let evicting: Promise<number> | undefined;
  let again = false;

  async function held(ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const [local, shown] = await Promise.all([db.messages.bulkGet([...ids]), windowIds()]);
    return ids.filter((id, i) => local[i] !== undefined || shown.has(id));
  }

  async function evictOnce(): Promise<number> {
    return db.transaction('rw', [...db.overlayTables, db.windows], async () => {
      const keep = await windowIds();
      const pending = await db.outbox.where('status').anyOf([...ACTIVE_OUTBOX_STATUSES]).toArray();
      for (const entry of pending) entry.ids.forEach((id) => keep.add(id));
      const local = (await db.messages.toCollection().primaryKeys()) as string[];
      const gone = local.filter((id) => !keep.has(id));
      // Evicting is "the replica stops holding it", not "the server destroyed it":
      // folders and threads are server records and keep their counters.
      if (gone.length > 0) await putServerMessages(db, [], gone);
      return gone.length;
    });
  }

  /** Coalesced: one eviction at a time, re-run once if asked meanwhile. */
  function evict(): Promise<number> {
    if (evicting) {
      again = true;
      return evicting;
    }
    evicting = (async () => {
      let total = 0;
      try {
        do {
          again = false;
          total += await evictOnce();
        } while (again);
      } finally {
        evicting = undefined;
      }
      return total;
    })();
    return evicting;
  }

  // One newest-N window per folder, opened and closed as folders come and go.
  const folders = live(() => db.folders.toCollection().primaryKeys()).subscribe({
    next: (ids) => {
      const current = new Set(ids as string[]);
      for (const [id, sub] of folderSubs) {
        if (!current.has(id)) {
          sub.unsubscribe();
          folderSubs.delete(id);
        }
      }
      for (const id of current) {
        if (folderSubs.has(id)) continue;
        folderSubs.set(
          id,
          windows.window$({ folder_id: id }, { size: perFolder, sort: { by: 'received_at', direction: 'desc' } }).subscribe({
            error: (e: unknown) => ctx.reportError(new SyncError('window_failed', `Folder window ${id} failed`, { cause: e })),
          }),
        );
      }
    },
    error: (e: unknown) => ctx.reportError(new SyncError('storage_failed', 'Watching folders failed', { cause: e })),
  });

  // Whenever windows move (and this engine leads), drop what left all of them.
  const rows = live(() => db.windows.toArray()).subscribe({
    next: () => {
      if (!ctx.isLeader()) return;
      evict().catch((e: unknown) => ctx.reportError(new SyncError('storage_failed', 'Evicting messages failed', { cause: e })));
    },
  });

  function stop(): void {
    folders.unsubscribe();
    rows.unsubscribe();
    for (const sub of folderSubs.values()) sub.unsubscribe();
    folderSubs.clear();
  }

  return { held, evict, stop };
}
