// The local replica of one mailbox: a Dexie database with a versioned schema.
//
// Record tables (`messages`, `threads`, `folders`, `identities`, `submissions`,
// `quotas`) hold records exactly as the API returns them (snake_case, no helper
// fields), so `snapshot()` can compare them with the server's field for field
// (DESIGN.md invariant 6). Everything the engine needs to find records fast lives in
// side tables (`folderIndex`), and everything it needs to keep "visible = server +
// pending" exact lives in `shadows`, `folderBases` and `threadBases` (overlay.ts).
import { Dexie, RangeSet, type DBCore, type DBCoreMutateRequest, type DBCoreMutateResponse, type IndexableType, type Table } from 'dexie';
import type { Folder, Identity, Message, Quota, Submission, Thread } from '../api/types.js';
import type { AuditEntry, LocalDraft } from './agentLog.js';
import { ALL_MESSAGES, FOLDER_INDEX, membershipsOf } from './memberships.js';
import type { PendingOp } from './pending.js';
import type { ReplicaStorage } from './storage.js';

/** From this batch size on, Dexie's observability records a "full range" instead of keys. */
const OBSERVED_BATCH = 50;

/**
 * The greatest key IndexedDB orders (arrays sort above every other key type, and no
 * compound key of this schema starts with an array): what Dexie's "full range" ends
 * at in browsers.
 */
const MAX_KEY: IndexableType = [[]];

/**
 * Works around a Dexie 4 bug outside browsers. Dexie memoizes its "max key" on the
 * first call, made at import time with `Dexie.dependencies.IDBKeyRange`; in Node that
 * is unset, so the max key stays the string "\uffff" for every database. A put/add of
 * 50 or more values is then recorded for liveQuery as the "full range" up to that
 * string, which leaves out array keys: views over compound indexes (every folder
 * view) never re-ran after a bootstrap page or a 100-id update. The observability
 * layer starts from `req.mutatedParts` when a request carries one, so this
 * middleware, above it, records there the full range a browser's Dexie records for
 * such a batch: every key of the primary key and of each index, up to the real max
 * key. (It used to record every key exactly, which cost Dexie's range trees about
 * half of a bootstrap's time in Node.) A `count()` over an index watches deletions
 * over that same wrong "full range", which never holds an array key, so a row
 * leaving a compound index range (a message marked read leaving the unread range)
 * did not re-run it; every smaller write and every delete therefore also marks the
 * minimum key as possibly deleted, which that range holds, as a browser's full range
 * holds any key. Only installed where the max key came out wrong.
 */
const observableBatches = {
  stack: 'dbcore' as const,
  name: 'sendmux-observable-batches',
  create(down: DBCore): DBCore {
    const dbName = down.schema.name;
    return {
      ...down,
      table(tableName: string) {
        const table = down.table(tableName);
        const names = ['', ':dels', ...table.schema.indexes.flatMap((index) => (index.name ? [index.name] : []))];
        return {
          ...table,
          mutate(req: DBCoreMutateRequest): Promise<DBCoreMutateResponse> {
            const withParts = req as DBCoreMutateRequest & { mutatedParts?: Record<string, RangeSet> };
            const parts = (withParts.mutatedParts ??= {});
            const rangeOf = (name: string) => (parts[`idb://${dbName}/${tableName}/${name}`] ??= new RangeSet());
            if ((req.type === 'put' || req.type === 'add') && req.values.length >= OBSERVED_BATCH) {
              for (const name of names) rangeOf(name).add({ from: down.MIN_KEY, to: MAX_KEY });
            } else {
              rangeOf(':dels').addKey(down.MIN_KEY);
            }
            return table.mutate(req);
          },
        };
      },
    };
  },
};

/** Prefix of the default database name; the mailbox id follows it. */
export const DB_NAME_PREFIX = 'sendmux-sync:';

/** The default database name of a mailbox: `sendmux-sync:<mailbox_id>`. */
export function defaultDbName(mailboxId: string): string {
  return `${DB_NAME_PREFIX}${mailboxId}`;
}

/**
 * A row of `folderIndex`: one per (folder, message) pair, plus one per message under
 * {@link ALL_MESSAGES} (folder_id ''), so "newest 50 of a 100k-message folder" is a
 * reverse walk of the primary key `[folder_id+received_key+id]`. Dexie cannot combine
 * a multi-entry index on `folder_ids` with a compound one, hence this table.
 * IndexedDB keys cannot be booleans or null: a null `received_at` sorts as -Infinity
 * (last in the default newest-first order).
 *
 * The key is in time order, so a bootstrap (newest first) appends to the end of one
 * folder's range instead of writing a random page of the B-tree per row. `unread` and
 * `flagged` are present only when true: the unread and flagged indexes hold only
 * those rows (a row with an absent key part is not indexed), so most rows cost one
 * B-tree write instead of four. "Read" and "unflagged" walk the folder's range.
 */
export interface Membership {
  folder_id: string;
  id: string;
  /** `Date.parse(received_at)`, or -Infinity when absent/unparseable. */
  received_key: number;
  /** 1 when unread; absent when read. */
  unread?: 1;
  /** 1 when flagged; absent otherwise. */
  flagged?: 1;
}

/** The primary key of a {@link Membership} row. */
export type MembershipKey = [folder_id: string, received_key: number, id: string];

export { ALL_MESSAGES };

/** Server copy of a message that has pending local mutations (DESIGN.md invariant 3). */
export interface Shadow {
  id: string;
  /** The latest server version; null when the server no longer has the message. */
  server: Message | null;
  /**
   * The server version the currently applied counter delta of this message was
   * computed against (overlay.ts keeps folders/threads = server + Σ delta exact even
   * when `server` is replaced before the next recompute). Internal to overlay.ts.
   */
  basis?: Message | null;
}

/** Counter change of a folder relative to its server version. */
export interface FolderDelta {
  total: number;
  unread: number;
}

/** Server copy of a folder whose visible counters include pending message changes. */
export interface FolderBase {
  id: string;
  server: Folder | null;
  delta: FolderDelta;
}

/** Counter change of a thread relative to its server version. */
export interface ThreadDelta {
  unread: number;
  count: number;
}

/** Server copy of a thread whose visible version includes pending message changes. */
export interface ThreadBase {
  id: string;
  server: Thread | null;
  delta: ThreadDelta;
}

/** Status of an outbox entry; only pending, sending and rebasing entries overlay records. */
export type OutboxStatus = 'pending' | 'sending' | 'rebasing' | 'acked' | 'failed';

/** Outbox statuses whose ops are part of the visible records. */
export const ACTIVE_OUTBOX_STATUSES: readonly OutboxStatus[] = ['pending', 'sending', 'rebasing'];

/**
 * A durable local mutation (DESIGN.md invariant 4). The outbox module owns its
 * lifecycle; it may add fields by module augmentation of this interface
 * (`declare module '../store/db.js' { interface OutboxEntry { ... } }`).
 */
export interface OutboxEntry {
  /** Auto-incremented; defines the order ops are applied in. */
  seq?: number;
  kind: 'update' | 'remove' | 'send';
  /** Message ids this entry touches (multi-entry index). */
  ids: string[];
  /** The op applied to each of `ids` (absent for sends). */
  op?: PendingOp;
  status: OutboxStatus;
  attempts: number;
  created_at: number;
}

/**
 * A server-ordered query window (issue 7): the ids of the first rows of a filtered,
 * sorted server listing, kept fresh with `messages/query-changes`. Owned by
 * src/sync/windows.ts.
 */
export interface WindowRow {
  /** Canonical JSON of filter + sort: one row per distinct query. */
  key: string;
  filter: Record<string, string | number | boolean>;
  sort: { by: string; direction: 'asc' | 'desc' };
  /** Ids in server order; `ids.length` ≤ `size`. */
  ids: string[];
  /** How many rows the window wants (grows with loadMore). */
  size: number;
  /** The query state `ids` corresponds to; null until first loaded. */
  query_state: string | null;
  total: number | null;
  has_more: boolean;
  /** Last time a view used the window (epoch ms); the leader refreshes recently used ones. */
  used_at: number;
  updated_at: number;
}

/** A key/value row of the `syncState` table. */
export interface SyncStateRow {
  key: string;
  value: unknown;
}

/** Options of {@link MailboxDb}. */
export interface MailboxDbOptions {
  /** IndexedDB factory; defaults to the global `indexedDB` (fake-indexeddb in Node). */
  indexedDB?: IDBFactory;
  /** IDBKeyRange constructor matching `indexedDB`. */
  IDBKeyRange?: typeof IDBKeyRange;
  /** The storage backend; when given, `indexedDB` and `IDBKeyRange` are its own. */
  storage?: ReplicaStorage;
}

/**
 * The Dexie database of one mailbox. Open it with `new MailboxDb(name, options)`;
 * schema changes go in a new `this.version(n).stores(...).upgrade(...)` block.
 */
export class MailboxDb extends Dexie {
  declare readonly messages: Table<Message, string>;
  declare readonly folderIndex: Table<Membership, MembershipKey>;
  declare readonly threads: Table<Thread, string>;
  declare readonly folders: Table<Folder, string>;
  declare readonly identities: Table<Identity, string>;
  declare readonly submissions: Table<Submission, string>;
  declare readonly quotas: Table<Quota, string>;
  declare readonly syncState: Table<SyncStateRow, string>;
  declare readonly outbox: Table<OutboxEntry, number>;
  declare readonly shadows: Table<Shadow, string>;
  declare readonly folderBases: Table<FolderBase, string>;
  declare readonly threadBases: Table<ThreadBase, string>;
  declare readonly windows: Table<WindowRow, string>;
  declare readonly audit: Table<AuditEntry, number>;
  declare readonly drafts: Table<LocalDraft, string>;

  constructor(name: string, given: MailboxDbOptions = {}) {
    const driver = given.storage?.driver;
    const options = driver ? { indexedDB: driver.indexedDB, IDBKeyRange: driver.IDBKeyRange } : given;
    // Dexie's liveQuery silently never runs while `Dexie.dependencies.indexedDB` is
    // unset (Node has no global indexedDB). Without a global one, the first injected
    // factory becomes Dexie's default so views work in Node; databases still use
    // the factory they were given.
    if (!Dexie.dependencies.indexedDB && options.indexedDB) {
      Dexie.dependencies.indexedDB = options.indexedDB;
      if (options.IDBKeyRange) Dexie.dependencies.IDBKeyRange = options.IDBKeyRange;
    }
    super(name, {
      ...(options.indexedDB ? { indexedDB: options.indexedDB } : {}),
      ...(options.IDBKeyRange ? { IDBKeyRange: options.IDBKeyRange } : {}),
    });
    this.version(1).stores({
      messages: 'id, thread_id',
      memberships:
        '[folder_id+id], id, [folder_id+received_key], [folder_id+unread+received_key], [folder_id+flagged+received_key]',
      threads: 'id, *folder_ids',
      folders: 'id',
      identities: 'id',
      submissions: 'id',
      quotas: 'id',
      syncState: 'key',
      outbox: '++seq, status, *ids',
      shadows: 'id',
      folderBases: 'id',
      threadBases: 'id',
    });
    if (typeof Dexie.maxKey === 'string') this.use(observableBatches);
    // v2: query windows (issue 7). Additive: existing replicas keep their data.
    this.version(2).stores({ windows: 'key, used_at' });
    // v3: memberships lose the `id` index (rows are derived from the visible record,
    // so the old rows are known without it); one index fewer per row written.
    this.version(3).stores({
      memberships: '[folder_id+id], [folder_id+received_key], [folder_id+unread+received_key], [folder_id+flagged+received_key]',
    });
    // v4: threads indexed by their last message's received_at, so the newest threads
    // are a reverse index walk. An index on the record itself (not a side table), so
    // every writer of `threads` keeps it current.
    this.version(4).stores({ threads: 'id, *folder_ids, last_message.received_at' });
    // v5: what agents did (the audit log) and local drafts (the API keeps no drafts).
    // Additive; the sync never reads or writes them (agentLog.ts does).
    this.version(5).stores({ audit: '++seq, at', drafts: 'id, updated_at' });
    // v6: `memberships` becomes `folderIndex`: keyed in time order, with sparse unread
    // and flagged indexes (see Membership). A primary key cannot change in place: the
    // new table starts empty and is rebuilt from the visible messages once the
    // database is open (below), which every storage backend runs as an ordinary
    // transaction (an upgrade function runs inside IndexedDB's versionchange one).
    this.version(6).stores({ memberships: null, folderIndex: `${FOLDER_INDEX.byTime}, ${FOLDER_INDEX.unread}, ${FOLDER_INDEX.flagged}` });
    this.on('ready', (db) => rebuildFolderIndex(db as MailboxDb));
    driver?.attach?.(this);
  }

  /**
   * Every table `recomputeVisible` and the server-apply functions touch: open a
   * `'rw'` transaction over these (plus any other tables you need) around them.
   */
  get overlayTables(): Table[] {
    return [
      this.messages,
      this.folderIndex,
      this.folders,
      this.threads,
      this.shadows,
      this.outbox,
      this.folderBases,
      this.threadBases,
    ];
  }

  /** The overlay tables plus the small record tables and `syncState`: what one committed sync page touches. */
  get serverTables(): Table[] {
    return [...this.overlayTables, this.identities, this.submissions, this.quotas, this.syncState];
  }
}

/**
 * Fills an empty `folderIndex` from the messages (after the v6 upgrade, or a crash
 * during the rebuild): every message has at least its ALL_MESSAGES row, so an empty
 * index beside stored messages is one that was never built. Runs before the
 * database's first operation; a replica whose index exists costs one keyed read.
 */
async function rebuildFolderIndex(db: MailboxDb): Promise<void> {
  await db.transaction('rw', [db.messages, db.folderIndex], async () => {
    const [indexed, stored] = await Promise.all([db.folderIndex.limit(1).primaryKeys(), db.messages.limit(1).primaryKeys()]);
    if (indexed.length > 0 || stored.length === 0) return;
    let after: string | undefined;
    for (;;) {
      const page: Message[] = await (after === undefined ? db.messages.orderBy('id') : db.messages.where('id').above(after)).limit(REBUILD_PAGE).toArray();
      if (page.length === 0) return;
      await db.folderIndex.bulkPut(page.flatMap(membershipsOf));
      after = page.at(-1)!.id;
    }
  });
}

/** Messages read per step of {@link rebuildFolderIndex}. */
const REBUILD_PAGE = 2_000;

/** The outbox table (mutations and sends share it). */
export type OutboxTable = MailboxDb['outbox'];
