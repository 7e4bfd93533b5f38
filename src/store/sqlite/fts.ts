// Full-text search of the SQLite replica: an FTS5 table over each message's subject,
// sender, recipients, preview and cached body, plus a `meta` column of marker tokens
// (read state, flag, attachment, folders), kept in the same transactions as the rows
// it indexes (write hooks on `messages` and on the content cache's `bodies`).
//
// Rows are ordered by time: a message's FTS rowid is its received time in ms times
// ORDER_SLOTS, plus a slot for messages received in the same ms. So "newest first,
// up to N" is FTS5's own reverse rowid walk that stops after N rows, and `before:` /
// `after:` are rowid bounds. FTS5 flushes its pending terms whenever a write's rowid
// is below the previous one (or a delete follows an insert), so each batch of writes
// is applied as its deletes, then its inserts, in ascending rowid order.
//
// A bulk write (a bootstrap's pages) does not index its new messages itself: their
// ids go to a queue in the same transaction (`pending`), and the filler
// (src/store/sqlite/fill.ts) indexes them in small write transactions once the
// writes stop. Tokenizing doubled a bootstrap's write time; this way the replica is
// live first and searchable a few seconds later, and a crash loses no queued id. A
// message queued and then changed, given a body or removed is indexed (or dropped)
// by that write as usual; the filler skips it.
//
// A search compiles the parsed query (src/store/searchSyntax.ts) to an FTS5 MATCH
// that returns a superset of the hits: words match from their start, field
// operators become column filters, `is:`/`has:`/`in:` become marker tokens, and what
// FTS cannot say (negation, dates inside OR) is left to the caller, which checks
// every candidate against the full query with the matcher the browser uses.
import type { Message } from '../../api/types.js';
import type { SearchNode, SearchQuery } from '../searchSyntax.js';
import type { Connection } from './file.js';

/** Rowids per received millisecond (ms × ORDER_SLOTS stays below 2^53 until 2109). */
export const ORDER_SLOTS = 2048;

/** Table names of a replica's full-text index. */
export interface FtsTables {
  /** The FTS5 table (rowid = docid). */
  fts: string;
  /**
   * docid → message id, keyed by docid alone (so written in time order, like the FTS
   * rows): a message's docid is found among the slots of its stored record's received
   * millisecond, never by a random-order index on the id.
   */
  docs: string;
  /** Ids of messages written but not indexed yet, in write order (seq). */
  pending: string;
  /** The replica's messages (a cached body's docid is found from its message). */
  messages: string;
  /** Tables of an earlier layout, dropped when found (the index is then rebuilt). */
  legacy: readonly string[];
}

function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function ftsTables(prefix: string): FtsTables {
  return {
    fts: quote(`${prefix}/fts3`),
    docs: quote(`${prefix}/fts3_docs`),
    pending: quote(`${prefix}/fts3_pending`),
    messages: quote(`${prefix}/messages`),
    legacy: [`${prefix}/fts`, `${prefix}/fts_docs`, `${prefix}/fts2`, `${prefix}/fts2_docs`],
  };
}

/** The columns free text is looked up in (not `meta`). */
const TEXT_COLUMNS = '{subject sender recipients_to recipients_cc preview body}';

/**
 * Creates the index tables when missing (inside the replica's set-up transaction) and
 * drops an earlier layout's. True when the index is new and must be filled.
 */
export function setupFts(conn: Connection, tables: FtsTables): boolean {
  const existed = conn.db.prepare(`SELECT 1 FROM sqlite_master WHERE name = ?`).get(tables.fts.slice(1, -1)) !== undefined;
  for (const name of tables.legacy) conn.db.exec(`DROP TABLE IF EXISTS ${quote(name)}`);
  conn.db.exec(
    `CREATE VIRTUAL TABLE IF NOT EXISTS ${tables.fts} USING fts5(subject, sender, recipients_to, recipients_cc, preview, body, meta, ` +
      `tokenize = 'unicode61 remove_diacritics 2')`,
  );
  conn.db.exec(`CREATE TABLE IF NOT EXISTS ${tables.docs} (docid INTEGER PRIMARY KEY, id TEXT NOT NULL)`);
  conn.db.exec(`CREATE TABLE IF NOT EXISTS ${tables.pending} (seq INTEGER PRIMARY KEY, id TEXT NOT NULL)`);
  return !existed;
}

const people = (list: Message['to'] | undefined): string => (list ?? []).map((a) => `${a.name ?? ''} ${a.email}`).join(' ');

/** The marker token of a folder (unicode61 keeps letters and digits only). */
const folderToken = (id: string): string => `zin${id.replace(/[^\p{L}\p{N}]/gu, '')}`;

/** The `meta` column: markers every `is:`, `has:` and `in:` can be looked up by. */
function metaOf(m: Message): string {
  return [
    'zall',
    m.flags?.seen ? 'zread' : 'zunread',
    m.flags?.flagged ? 'zflagged' : 'zunflagged',
    ...(m.has_attachments ? ['zattach'] : []),
    ...(m.folder_ids ?? []).map(folderToken),
  ].join(' ');
}

/** The first rowid of a received time (ms since the epoch; 0 when the message has none). */
function baseOf(message: Message): number {
  const at = message.received_at ? Date.parse(message.received_at) : NaN;
  return (Number.isNaN(at) ? 0 : Math.floor(at)) * ORDER_SLOTS;
}

const sameMs = (docid: number, base: number) => docid >= base && docid < base + ORDER_SLOTS;

/** One message to (re-)index: its stored version before the write, and after it (undefined: removed). */
export interface IndexChange {
  id: string;
  previous: Message | undefined;
  next: Message | undefined;
  /** The body text of a message that has no index row yet (a re-indexed one keeps its own). */
  body?: string;
}

/** New messages in one write from which indexing is left to the filler. */
export const DEFER_MIN = 64;

/** The docid a stored message is indexed under: one of its received millisecond's slots. */
function docOf(conn: Connection, tables: FtsTables, id: string, stored: Message): number | undefined {
  const base = baseOf(stored);
  const row = conn.statement(`SELECT docid FROM ${tables.docs} WHERE docid >= ? AND docid < ? AND id = ?`).get(base, base + ORDER_SLOTS, id) as
    | { docid: number }
    | undefined;
  return row?.docid;
}

/**
 * Applies a batch of message writes to the index: every changed message's old row is
 * deleted, then the new rows are inserted, each phase in ascending rowid order. A
 * cached body survives a re-index. With `defer`, a batch of at least DEFER_MIN new
 * messages queues them for the filler instead (returns how many it queued).
 */
export function indexMessages(conn: Connection, tables: FtsTables, changes: readonly IndexChange[], options: { defer?: boolean } = {}): number {
  // Per id: the version stored before the batch (what the index holds) and the last one.
  const byId = new Map<string, { previous: Message | undefined; next: Message | undefined; body: string }>();
  for (const c of changes) {
    const seen = byId.get(c.id);
    if (seen) seen.next = c.next;
    else byId.set(c.id, { previous: c.previous, next: c.next, body: c.body ?? '' });
  }
  let deferred = 0;
  if (options.defer) {
    const fresh = [...byId].filter(([, c]) => c.previous === undefined && c.next !== undefined);
    if (fresh.length >= DEFER_MIN) {
      const queue = conn.statement(`INSERT INTO ${tables.pending} (id) VALUES (?)`);
      for (const [id] of fresh) {
        queue.run(id);
        byId.delete(id);
      }
      deferred = fresh.length;
    }
  }
  const readBody = conn.statement(`SELECT body FROM ${tables.fts} WHERE rowid = ?`);
  const dropDoc = conn.statement(`DELETE FROM ${tables.docs} WHERE docid = ?`);
  const deletes: number[] = [];
  const inserts: Array<{ docid: number; message: Message; body: string }> = [];
  const unplaced: Array<{ id: string; message: Message; body: string }> = [];
  for (const [id, { previous, next, body: given }] of byId) {
    const docid = previous ? docOf(conn, tables, id, previous) : undefined;
    // A re-indexed message keeps its cached body.
    const body = docid !== undefined && next ? (((readBody.get(docid) as { body: string | null } | undefined)?.body ?? '') as string) : given;
    if (docid !== undefined) deletes.push(docid);
    if (docid !== undefined && next && sameMs(docid, baseOf(next))) {
      inserts.push({ docid, message: next, body });
      continue;
    }
    if (docid !== undefined) dropDoc.run(docid);
    if (next) unplaced.push({ id, message: next, body });
  }
  // New rowids: the next free slot of the received millisecond.
  const lastInMs = conn.statement(`SELECT max(docid) AS last FROM ${tables.docs} WHERE docid >= ? AND docid < ?`);
  const taken = conn.statement(`SELECT 1 FROM ${tables.docs} WHERE docid = ?`);
  const addDoc = conn.statement(`INSERT INTO ${tables.docs} (docid, id) VALUES (?, ?)`);
  for (const { id, message, body } of unplaced) {
    const base = baseOf(message);
    const last = (lastInMs.get(base, base + ORDER_SLOTS) as { last: number | null }).last;
    let docid = last === null ? base : last + 1;
    while (taken.get(docid) !== undefined) docid += 1;
    addDoc.run(docid, id);
    inserts.push({ docid, message, body });
  }
  const remove = conn.statement(`DELETE FROM ${tables.fts} WHERE rowid = ?`);
  for (const docid of deletes.sort((a, b) => a - b)) remove.run(docid);
  const insert = conn.statement(
    `INSERT INTO ${tables.fts} (rowid, subject, sender, recipients_to, recipients_cc, preview, body, meta) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  for (const { docid, message: m, body } of inserts.sort((a, b) => a.docid - b.docid)) {
    insert.run(docid, m.subject ?? '', m.from ? `${m.from.name ?? ''} ${m.from.email}` : '', people(m.to), people(m.cc), m.preview ?? '', body, metaOf(m));
  }
  return deferred;
}

/** Whether messages wait for the filler (the index cannot answer a search meanwhile). */
export function hasPending(conn: Connection, tables: FtsTables): boolean {
  return conn.statement(`SELECT 1 FROM ${tables.pending} LIMIT 1`).get() !== undefined;
}

/** How many messages wait for the filler, over every replica in the file. */
export function pendingInFile(conn: Connection): number {
  const queues = conn.db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%/fts3_pending'`).pluck().all() as string[];
  return queues.reduce((sum, name) => sum + (conn.db.prepare(`SELECT count(*) FROM ${quote(name)}`).pluck().get() as number), 0);
}

/**
 * Indexes up to `max` queued messages, oldest queued first, and takes them off the
 * queue. One already indexed (changed or given a body since) or gone is skipped.
 * True when more wait.
 */
export function drainPending(conn: Connection, tables: FtsTables, max: number, message: (id: string) => Message | undefined): boolean {
  const rows = conn.statement(`SELECT seq, id FROM ${tables.pending} ORDER BY seq LIMIT ?`).all(max) as { seq: number; id: string }[];
  if (rows.length === 0) return false;
  const changes: IndexChange[] = [];
  for (const { id } of rows) {
    const stored = message(id);
    if (stored && docOf(conn, tables, id, stored) === undefined) changes.push({ id, previous: undefined, next: stored });
  }
  indexMessages(conn, tables, changes);
  conn.statement(`DELETE FROM ${tables.pending} WHERE seq <= ?`).run(rows[rows.length - 1]!.seq);
  return hasPending(conn, tables);
}

/**
 * Sets (or clears, with null) the body text of indexed messages, and indexes a
 * message still queued for the filler with its body. `message(id)` reads a message
 * from the replica (its received time places its docid).
 */
export function indexBodies(
  conn: Connection,
  tables: FtsTables,
  bodies: readonly { id: string; text: string | null }[],
  message: (id: string) => Message | undefined,
): void {
  const found: Array<{ docid: number; text: string | null }> = [];
  const unindexed: IndexChange[] = [];
  for (const { id, text } of bodies) {
    const stored = message(id);
    const docid = stored ? docOf(conn, tables, id, stored) : undefined;
    if (docid !== undefined) found.push({ docid, text });
    else if (stored) unindexed.push({ id, previous: undefined, next: stored, body: text ?? '' });
  }
  if (unindexed.length > 0) indexMessages(conn, tables, unindexed);
  const update = conn.statement(`UPDATE ${tables.fts} SET body = ? WHERE rowid = ?`);
  for (const { docid, text } of found.sort((a, b) => a.docid - b.docid)) update.run(text ?? '', docid);
}

const COLUMN: Record<string, string> = { from: 'sender', to: 'recipients_to', cc: 'recipients_cc', subject: 'subject' };

/** Words as FTS5 sees them (unicode61 splits on everything but letters and digits). */
function words(text: string): string[] {
  return text.split(/[^\p{L}\p{N}]+/u).filter((w) => w.length > 0);
}

const phrase = (tokens: readonly string[]) => `"${tokens.join(' ').replaceAll('"', '""')}"`;
const marker = (token: string) => `{meta} : ${phrase([token])}`;

const IS_TOKEN: Record<string, string> = { unread: 'zunread', read: 'zread', flagged: 'zflagged', unflagged: 'zunflagged' };

/** How `in:` names resolve to folder ids (src/reactive/search.ts folderResolver). */
export type FolderIds = (nameOrRole: string) => string[];

/** The FTS5 expression a node needs, or null when FTS cannot narrow it (anything may match). */
function compile(node: SearchNode, folderIds: FolderIds | undefined): string | null {
  switch (node.kind) {
    case 'text': {
      const tokens = words(node.value);
      if (tokens.length === 0) return null;
      // A word matches the words it starts. A phrase's words match as words do (the
      // records check their order): in the browser's matching a phrase's words may
      // also end or start inside a word ("update" in "updates"), which an FTS5 phrase
      // of whole tokens would miss.
      const expr = tokens.map((t) => `${phrase([t])}*`).join(' AND ');
      return `${node.field ? `{${COLUMN[node.field]}}` : TEXT_COLUMNS} : (${expr})`;
    }
    case 'is':
      return marker(IS_TOKEN[node.what] as string);
    case 'has':
      return marker('zattach');
    case 'in': {
      const ids = folderIds?.(node.folder) ?? [];
      // An unknown folder: the records decide (they match nothing).
      return ids.length > 0 ? `(${ids.map((id) => marker(folderToken(id))).join(' OR ')})` : null;
    }
    case 'and': {
      const parts = node.nodes.map((n) => compile(n, folderIds)).filter((p): p is string => p !== null);
      return parts.length > 0 ? `(${parts.join(' AND ')})` : null;
    }
    case 'or': {
      const parts = node.nodes.map((n) => compile(n, folderIds));
      return parts.some((p) => p === null) ? null : `(${parts.join(' OR ')})`;
    }
    default:
      // Dates (bounds of the rowid, at the top level) and negations are checked on the records.
      return null;
  }
}

/** What the index is asked: an FTS5 MATCH and the rowid bounds of top-level dates. */
export interface FtsQuery {
  match: string;
  /** Smallest rowid (inclusive), from `after:`. */
  min: number;
  /** Largest rowid (exclusive), from `before:`. */
  max: number;
}

/** The index query of a parsed search: never null, `zall` when no item narrows it. */
export function toFtsQuery(query: SearchQuery, folderIds?: FolderIds): FtsQuery {
  const parts = query.items.map((n) => compile(n, folderIds)).filter((p): p is string => p !== null);
  let min = Number.MIN_SAFE_INTEGER;
  let max = Number.MAX_SAFE_INTEGER;
  for (const item of query.items) {
    if (item.kind !== 'date') continue;
    if (item.op === 'after') min = Math.max(min, item.ms * ORDER_SLOTS);
    else max = Math.min(max, item.ms * ORDER_SLOTS);
  }
  return { match: parts.length > 0 ? parts.join(' AND ') : marker('zall'), min, max };
}

/** One page of candidates: ids, newest first. */
export function ftsCandidates(conn: Connection, tables: FtsTables, query: FtsQuery, options: { limit: number; offset: number }): string[] {
  const rowids = conn
    .statement(`SELECT rowid FROM ${tables.fts} WHERE ${tables.fts} MATCH ? AND rowid >= ? AND rowid < ? ORDER BY rowid DESC LIMIT ? OFFSET ?`)
    .pluck()
    .all(query.match, query.min, query.max, options.limit, options.offset) as number[];
  const idOf = conn.statement(`SELECT id FROM ${tables.docs} WHERE docid = ?`).pluck();
  return rowids.map((rowid) => idOf.get(rowid) as string | undefined).filter((id): id is string => id !== undefined);
}
