// Local storage of message content: body and attachment caches, kept apart from the
// replica (src/store/db.ts) because they are a cache, not state — they can be
// evicted or dropped at any time without breaking convergence (DESIGN.md invariant
// 8: body cache within a budget). One database per mailbox, like the replica.
import { Dexie, type Table } from 'dexie';
import type { MessageContent, RawBody } from '../api/types.js';
import type { ReplicaStorage } from './storage.js';

/** Prefix of the default content database name; the mailbox id follows it. */
export const CONTENT_DB_NAME_PREFIX = 'sendmux-sync-content:';

/** What the content cache's database name adds to its replica's name. */
export const CONTENT_DB_SUFFIX = ':content';

/** The content database name of a replica database. */
export function contentDbNameOf(replicaName: string): string {
  return `${replicaName}${CONTENT_DB_SUFFIX}`;
}

/** The default content database name of a mailbox. */
export function defaultContentDbName(mailboxId: string): string {
  return `${CONTENT_DB_NAME_PREFIX}${mailboxId}`;
}

/** Which cache a {@link CacheIndexRow} belongs to; each has its own byte budget. */
export type CacheKind = 'body' | 'attachment';

/**
 * Small bookkeeping row per cached item, so budget checks and LRU ordering read
 * a few numbers per entry instead of the cached payloads.
 */
export interface CacheIndexRow {
  /** Same key as the payload row. */
  key: string;
  kind: CacheKind;
  message_id: string;
  /** Approximate stored size (UTF-8 JSON for bodies, raw length for attachments). */
  bytes: number;
  /** Last read or write (ms since epoch, injectable clock); the LRU order. */
  last_used: number;
}

/** One cached clean-content or raw-body answer for one (message, options) variant. */
export type BodyRow =
  | { key: string; message_id: string; kind: 'content'; data: NonNullable<MessageContent>; etag?: string; fetched_at: number }
  | { key: string; message_id: string; kind: 'raw'; data: NonNullable<RawBody>; etag?: string; fetched_at: number };

/** A fully downloaded attachment. */
export interface AttachmentRow {
  key: string;
  message_id: string;
  attachment_id: string;
  bytes: Uint8Array;
  content_type: string | null;
  filename: string | null;
  fetched_at: number;
}

/** Bytes of an interrupted download, kept so the next attempt resumes with `Range`. */
export interface PartialDownloadRow {
  key: string;
  bytes: Uint8Array;
  /** Total size announced by the server (Content-Range), when known. */
  total: number | null;
  /** Validator of the representation the bytes belong to, when the server sent one. */
  etag: string | null;
  updated_at: number;
}

/** Options of {@link ContentDb}. */
export interface ContentDbOptions {
  /** IndexedDB factory; defaults to the global `indexedDB` (fake-indexeddb in Node). */
  indexedDB?: IDBFactory;
  /** IDBKeyRange constructor matching `indexedDB`. */
  IDBKeyRange?: typeof IDBKeyRange;
  /** The storage backend; when given, `indexedDB` and `IDBKeyRange` are its own. */
  storage?: ReplicaStorage;
}

/** The content cache database of one mailbox. */
export class ContentDb extends Dexie {
  declare readonly cacheIndex: Table<CacheIndexRow, string>;
  declare readonly bodies: Table<BodyRow, string>;
  declare readonly attachments: Table<AttachmentRow, string>;
  declare readonly partialDownloads: Table<PartialDownloadRow, string>;

  constructor(name: string, given: ContentDbOptions = {}) {
    const driver = given.storage?.driver;
    const options = driver ? { indexedDB: driver.indexedDB, IDBKeyRange: driver.IDBKeyRange } : given;
    super(name, {
      ...(options.indexedDB ? { indexedDB: options.indexedDB } : {}),
      ...(options.IDBKeyRange ? { IDBKeyRange: options.IDBKeyRange } : {}),
    });
    this.version(1).stores({
      cacheIndex: 'key, [kind+last_used], message_id',
      bodies: 'key, message_id',
      attachments: 'key, message_id',
      partialDownloads: 'key',
    });
    driver?.attach?.(this);
  }
}

/** A payload table of the content cache (rows keyed like their index rows). */
export type PayloadTable = Table<{ key: string }, string>;
