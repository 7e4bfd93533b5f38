// Full-text search of the SQLite replica: an FTS5 table over each message's subject,
// sender, recipients, preview and cached body, kept in the same transactions as the
// rows it indexes (write hooks on `messages` and on the content cache's `bodies`).
//
// A search compiles the parsed query (src/store/searchSyntax.ts) to an FTS5 MATCH
// that returns a superset of the hits, newest first: words match from their start,
// field operators become column filters, and whatever FTS cannot say (is:, has:,
// in:, dates, negation) is left to the caller, which checks every candidate against
// the full query with the same matcher the browser uses.
import type { Message } from '../../api/types.js';
import type { SearchNode, SearchQuery, SearchSnippet } from '../searchSyntax.js';
import type { Connection } from './file.js';

/** Table names of a replica's full-text index. */
export interface FtsTables {
  /** The FTS5 table (rowid = docid). */
  fts: string;
  /** message id → docid, and the newest-first order key. */
  docs: string;
}

function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function ftsTables(prefix: string): FtsTables {
  return { fts: quote(`${prefix}/fts`), docs: quote(`${prefix}/fts_docs`) };
}

/** Creates the index tables when missing (inside the replica's set-up transaction). */
export function setupFts(conn: Connection, tables: FtsTables): boolean {
  const existed = conn.db.prepare(`SELECT 1 FROM sqlite_master WHERE name = ?`).get(tables.fts.slice(1, -1)) !== undefined;
  conn.db.exec(
    `CREATE VIRTUAL TABLE IF NOT EXISTS ${tables.fts} USING fts5(subject, sender, recipients_to, recipients_cc, preview, body, ` +
      `tokenize = 'unicode61 remove_diacritics 2')`,
  );
  conn.db.exec(
    `CREATE TABLE IF NOT EXISTS ${tables.docs} (id TEXT PRIMARY KEY NOT NULL, docid INTEGER NOT NULL, received REAL NOT NULL)`,
  );
  conn.db.exec(`CREATE INDEX IF NOT EXISTS ${quote(`${tables.docs.slice(1, -1)}/received`)} ON ${tables.docs} (received DESC)`);
  return !existed;
}

const people = (list: Message['to'] | undefined): string => (list ?? []).map((a) => `${a.name ?? ''} ${a.email}`).join(' ');

function received(message: Message): number {
  const at = message.received_at ? Date.parse(message.received_at) : NaN;
  return Number.isNaN(at) ? -Infinity : at;
}

/** Indexes, re-indexes or (with `next` undefined) removes one message. */
export function indexMessage(conn: Connection, tables: FtsTables, id: string, next: Message | undefined): void {
  const doc = conn.statement(`SELECT docid FROM ${tables.docs} WHERE id = ?`).get(id) as { docid: number } | undefined;
  if (!next) {
    if (!doc) return;
    conn.statement(`DELETE FROM ${tables.fts} WHERE rowid = ?`).run(doc.docid);
    conn.statement(`DELETE FROM ${tables.docs} WHERE id = ?`).run(id);
    return;
  }
  const fields = [
    next.subject ?? '',
    next.from ? `${next.from.name ?? ''} ${next.from.email}` : '',
    people(next.to),
    people(next.cc),
    next.preview ?? '',
  ];
  if (doc) {
    conn
      .statement(`UPDATE ${tables.fts} SET subject = ?, sender = ?, recipients_to = ?, recipients_cc = ?, preview = ? WHERE rowid = ?`)
      .run(...fields, doc.docid);
    conn.statement(`UPDATE ${tables.docs} SET received = ? WHERE id = ?`).run(received(next), id);
    return;
  }
  const info = conn
    .statement(`INSERT INTO ${tables.fts} (subject, sender, recipients_to, recipients_cc, preview, body) VALUES (?, ?, ?, ?, ?, '')`)
    .run(...fields);
  conn.statement(`INSERT INTO ${tables.docs} (id, docid, received) VALUES (?, ?, ?)`).run(id, Number(info.lastInsertRowid), received(next));
}

/** Sets (or clears, with null) the body text of an indexed message. */
export function indexBody(conn: Connection, tables: FtsTables, id: string, text: string | null): void {
  const doc = conn.statement(`SELECT docid FROM ${tables.docs} WHERE id = ?`).get(id) as { docid: number } | undefined;
  if (doc) conn.statement(`UPDATE ${tables.fts} SET body = ? WHERE rowid = ?`).run(text ?? '', doc.docid);
}

const COLUMN: Record<string, string> = { from: 'sender', to: 'recipients_to', cc: 'recipients_cc', subject: 'subject' };

/** Words as FTS5 sees them (unicode61 splits on everything but letters and digits). */
function words(text: string): string[] {
  return text.split(/[^\p{L}\p{N}]+/u).filter((w) => w.length > 0);
}

const phrase = (tokens: readonly string[]) => `"${tokens.join(' ').replaceAll('"', '""')}"`;

/** The FTS5 expression a node needs, or null when FTS cannot narrow it (anything may match). */
function compile(node: SearchNode): string | null {
  switch (node.kind) {
    case 'text': {
      const tokens = words(node.value);
      if (tokens.length === 0) return null;
      // A word matches the words it starts. A phrase's words match as words do (the
      // records check their order): in the browser's matching a phrase's words may
      // also end or start inside a word ("update" in "updates"), which an FTS5 phrase
      // of whole tokens would miss.
      const expr = tokens.map((t) => `${phrase([t])}*`).join(' AND ');
      return node.field ? `{${COLUMN[node.field]}} : (${expr})` : `(${expr})`;
    }
    case 'and': {
      const parts = node.nodes.map(compile).filter((p): p is string => p !== null);
      return parts.length > 0 ? `(${parts.join(' AND ')})` : null;
    }
    case 'or': {
      const parts = node.nodes.map(compile);
      return parts.some((p) => p === null) ? null : `(${parts.join(' OR ')})`;
    }
    default:
      // is:, has:, in:, dates and negations are checked on the records.
      return null;
  }
}

/** The FTS5 MATCH expression of a query, or null when it has no word FTS can look up. */
export function toFtsQuery(query: SearchQuery): string | null {
  const parts = query.items.map(compile).filter((p): p is string => p !== null);
  return parts.length > 0 ? parts.join(' AND ') : null;
}

const OPEN = '\u0002';
const CLOSE = '\u0003';

/** FTS5's snippet() text with its marks turned into highlight ranges. */
export function snippetFromMarks(marked: string): SearchSnippet {
  let text = '';
  const highlights: Array<[number, number]> = [];
  let start = -1;
  for (const ch of marked) {
    if (ch === OPEN) start = text.length;
    else if (ch === CLOSE) {
      if (start >= 0 && text.length > start) highlights.push([start, text.length]);
      start = -1;
    } else text += ch;
  }
  return { text, highlights };
}

/** One page of candidates: ids newest first, with a snippet of the best matching column. */
export function ftsCandidates(
  conn: Connection,
  tables: FtsTables,
  match: string,
  options: { limit: number; offset: number },
): Array<{ id: string; snippet: SearchSnippet }> {
  const rows = conn
    .statement(
      `SELECT d.id AS id, snippet(${tables.fts}, -1, '${OPEN}', '${CLOSE}', '…', 12) AS marked FROM ${tables.fts} f ` +
        `JOIN ${tables.docs} d ON d.docid = f.rowid WHERE ${tables.fts} MATCH ? ORDER BY d.received DESC, d.id DESC LIMIT ? OFFSET ?`,
    )
    .all(match, options.limit, options.offset) as { id: string; marked: string }[];
  return rows.map((row) => ({ id: row.id, snippet: snippetFromMarks(row.marked) }));
}
