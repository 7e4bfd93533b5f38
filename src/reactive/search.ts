// search$(text): local hits at once, server hits merged as they arrive (issue 7).
//
// The text is parsed once (store/searchSyntax.ts, DESIGN.md "Mail search syntax")
// and every backend reads the same AST. Local search reads the replica newest first
// in bounded chunks of the membership index (a folder's, or its unread or flagged
// range, when the query names one), matching the record and cached bodies, so a
// keystroke costs a few index pages, never a scan of a 100k-message table; a storage
// backend with its own index (SQLite FTS5) replaces that scan through
// `SearchDeps.localSearch`. The server side is an ordinary query window on the
// query's API parameters (`q`, `from`, `is_unread`, …), so it stays fresh with
// query-changes and resumes after a reload like any window.
import { live } from '../store/live.js';
import { Observable, combineLatest, distinctUntilChanged, from, map, of, startWith, switchMap, takeUntil } from 'rxjs';
import type { Folder, Message } from '../api/index.js';
import type { MailboxDb } from '../store/db.js';
import { ABOVE_IDS, ALL_MESSAGES, FOLDER_INDEX } from '../store/memberships.js';
import { watchMessages } from '../store/queries.js';
import type { TextSearch } from '../store/storage.js';
import { sameRecord } from '../store/overlay.js';
import {
  hasFreeText,
  judgeMessage,
  matchMessage,
  mayMatchMessage,
  parseSearch,
  searchTermsOf,
  snippetOf,
  toServerFilter,
  type SearchQuery,
  type SearchSnippet,
} from '../store/searchSyntax.js';
import type { WindowOptions, WindowState } from '../sync/windows.js';
import type { WindowFilter } from '../sync/queryWindow.js';

/** Options of `search$`. */
export interface SearchOptions {
  /** Maximum hits shown (default 50). */
  limit?: number;
  /** How many of the newest messages local search reads at most (default 5,000). */
  scanLimit?: number;
  /** Ask the server too (default true); false searches the replica only. */
  server?: boolean;
}

/** What search$ emits. */
export interface SearchState {
  text: string;
  /** The parsed text (`parseSearch`), as every backend read it. */
  query: SearchQuery;
  /** Local hits first (newest first), then server hits not found locally, de-duplicated. */
  hits: Message[];
  /** How many of `hits` came from the replica. */
  localHits: number;
  /**
   * Excerpts with highlight ranges of local hits whose text matched, by message id
   * (from the preview, a cached body or the subject; none for a hit found by
   * operators only, or by the server).
   */
  snippets: Record<string, SearchSnippet>;
  /**
   * The server window's progress: 'off' when not asked (`server: false`, empty text,
   * or a query with nothing the API can filter on, such as `-word` alone).
   */
  server: 'loading' | 'ready' | 'off';
}

export interface SearchViews {
  search$(text: string, options?: SearchOptions): Observable<SearchState>;
}

export interface SearchDeps {
  db: Promise<MailboxDb>;
  /** The engine's server windows. */
  window$(filter: WindowFilter, options?: WindowOptions): Observable<WindowState>;
  /** Plain text of cached bodies of some messages (ids without one are left out). */
  bodyText?(ids: readonly string[]): Promise<ReadonlyMap<string, string>>;
  /**
   * A storage backend's own search (SQLite: FTS5 plus indexed filters), used instead
   * of the membership-index scan: the newest `limit` messages matching `query`, newest
   * first, each with its snippet when text matched. Runs inside the replica's change
   * feed (`live`), so it is re-run after writes it read.
   */
  localSearch?: (query: SearchQuery, options: { limit: number }) => Promise<Array<{ message: Message; snippet?: SearchSnippet }>>;
  /** The storage backend's full-text index (SQLite), tried before the scan. */
  textSearch?: TextSearch;
  until: Observable<unknown>;
}

const CHUNK = 500;

/** One local hit: the message and, when text matched, an excerpt with highlights. */
export interface LocalHit {
  message: Message;
  snippet?: SearchSnippet;
}

/** `in:` resolution against the replica's folders: by name or role, case-insensitive. */
export function folderResolver(folders: readonly Folder[]): (nameOrRole: string) => string[] {
  return (nameOrRole) => {
    const wanted = nameOrRole.toLowerCase();
    return folders.filter((f) => f.name.toLowerCase() === wanted || f.role?.toLowerCase() === wanted).map((f) => f.id);
  };
}

const addresses = (list: Message['to'] | undefined): string => (list ?? []).map((a) => (a.name ? `${a.name} <${a.email}>` : a.email)).join(', ');

/**
 * The excerpt of a hit: from the first of preview, cached body, subject, sender and
 * recipients in which a positive term matched; undefined when none did (a query of
 * operators only).
 */
export function snippetFor(message: Message, terms: readonly string[], body?: string): SearchSnippet | undefined {
  if (terms.length === 0) return undefined;
  for (const text of [message.preview, body, message.subject, addresses(message.from ? [message.from] : []), addresses(message.to), addresses(message.cc)]) {
    if (!text) continue;
    const snippet = snippetOf(text, terms);
    if (snippet.highlights.length > 0) return snippet;
  }
  return undefined;
}

/**
 * The first `room` of `messages` (in their order) that match `query`, each with the
 * cached body it was matched with. Each is judged on its record first; bodies are read
 * only for those the record leaves undecided (free text it lacks, a negated word), so
 * a query the records answer reads none, and a hit the record decides takes its
 * snippet from the record.
 */
async function matching(
  query: SearchQuery,
  messages: readonly Message[],
  ctx: { folderIds: (nameOrRole: string) => string[]; room: number; bodyText?: SearchDeps['bodyText'] },
): Promise<Array<{ message: Message; body?: string }>> {
  // Judge in order until `room` are certain: an undecided one before them may still take a place.
  const judged: Array<{ message: Message; verdict: boolean | undefined }> = [];
  let certain = 0;
  for (const message of messages) {
    if (certain >= ctx.room) break;
    const verdict = judgeMessage(query, message, { folderIds: ctx.folderIds });
    if (verdict === false) continue;
    judged.push({ message, verdict });
    if (verdict) certain += 1;
  }
  const undecided = judged.filter((j) => j.verdict === undefined).map((j) => j.message.id);
  const bodies = ctx.bodyText && undecided.length > 0 ? await ctx.bodyText(undecided) : undefined;
  const out: Array<{ message: Message; body?: string }> = [];
  for (const { message, verdict } of judged) {
    if (out.length >= ctx.room) break;
    if (verdict) {
      out.push({ message });
      continue;
    }
    // Without a cached body the record is all there is (a negated word it lacks is absent).
    const body = bodies?.get(message.id);
    if (matchMessage(query, message, { folderIds: ctx.folderIds, ...(body !== undefined ? { body } : {}) })) out.push(body !== undefined ? { message, body } : { message });
  }
  return out;
}

/**
 * The folder-index range a query can walk instead of every message: a folder's rows
 * for a positive `in:` naming one folder, and its unread or flagged rows for
 * `is:unread` / `is:flagged`. Null when a positive `in:` names no folder (nothing can
 * match). `above`: what follows the time in the range's upper bound.
 */
function scanRange(
  query: SearchQuery,
  folderIds: (nameOrRole: string) => readonly string[],
): { index: string; prefix: Array<string | number>; above: [] | [typeof ABOVE_IDS] } | null {
  let folder = ALL_MESSAGES;
  let unread: 0 | 1 | undefined;
  let flagged: 0 | 1 | undefined;
  for (const item of query.items) {
    const negated = item.kind === 'not';
    const node = item.kind === 'not' ? item.node : item;
    if (node.kind === 'in' && !negated) {
      const ids = folderIds(node.folder);
      if (ids.length === 0) return null;
      if (ids.length === 1 && folder === ALL_MESSAGES) folder = ids[0] as string;
    } else if (node.kind === 'is') {
      const positive = node.what === 'unread' || node.what === 'flagged';
      const bit: 0 | 1 = positive !== negated ? 1 : 0;
      if (node.what === 'unread' || node.what === 'read') unread ??= bit;
      else flagged ??= bit;
    }
  }
  // The unread and flagged indexes hold only unread (flagged) rows; "read" and
  // "unflagged" walk the folder and leave the flag to the records.
  if (unread === 1) return { index: FOLDER_INDEX.unread, prefix: [folder, 1], above: [] };
  if (flagged === 1) return { index: FOLDER_INDEX.flagged, prefix: [folder, 1], above: [] };
  // The folder's own key ends with the id: every row received at the bound lies below [t, ABOVE_IDS].
  return { index: FOLDER_INDEX.byTime, prefix: [folder], above: [ABOVE_IDS] };
}

/**
 * Newest-first local search over at most `scanLimit` messages: a reverse walk of the
 * membership index (narrowed to a folder, unread or flagged range when the query
 * allows), each chunk matched with `matchMessage` against the record and the cached
 * bodies.
 */
export async function searchLocal(
  db: MailboxDb,
  search: string | SearchQuery,
  options: { limit: number; scanLimit: number; bodyText?: SearchDeps['bodyText'] },
): Promise<LocalHit[]> {
  const query = typeof search === 'string' ? parseSearch(search) : search;
  if (query.items.length === 0) return [];
  const folderIds = folderResolver(await db.folders.toArray());
  const range = scanRange(query, folderIds);
  if (range === null) return [];
  const terms = searchTermsOf(query);
  // Bodies answer free text only; a query of operators and scoped terms needs none.
  const bodyText = hasFreeText(query) ? options.bodyText : undefined;
  const hits: LocalHit[] = [];
  let upper = Infinity;
  let lastId: string | undefined;
  let scanned = 0;
  while (hits.length < options.limit && scanned < options.scanLimit) {
    // Reverse walk of the index, resuming below the last key seen.
    const rows = await db.folderIndex
      .where(range.index)
      .between([...range.prefix, -Infinity], [...range.prefix, upper, ...range.above], true, true)
      .reverse()
      .limit(CHUNK + 1)
      .toArray();
    const fresh = lastId === undefined ? rows : rows.slice(rows.findIndex((r) => r.id === lastId) + 1);
    if (fresh.length === 0) break;
    const chunk = fresh.slice(0, CHUNK);
    scanned += chunk.length;
    const messages = (await db.messages.bulkGet(chunk.map((r) => r.id))).filter((m): m is Message => m !== undefined);
    for (const { message, body } of await matching(query, messages, { folderIds, room: options.limit - hits.length, ...(bodyText ? { bodyText } : {}) })) {
      const snippet = snippetFor(message, terms, body);
      hits.push(snippet ? { message, snippet } : { message });
    }
    const last = chunk.at(-1)!;
    upper = last.received_key;
    lastId = last.id;
    // Fewer rows than asked for: the index is exhausted.
    if (rows.length <= CHUNK) break;
  }
  return hits;
}

/** Candidates read from a full-text index per page: the first page the hits asked for, then growing. */
const CANDIDATE_FIRST_MIN = 20;
const CANDIDATE_PAGE_MAX = 1_000;

/**
 * Newest-first local search through a backend's full-text index: candidates a page
 * at a time (every hit is among them), each checked against the whole query with
 * `matchMessage`, as `searchLocal` checks what it walks. Undefined when the index
 * cannot narrow the query (no word to look up): the scan answers it then.
 */
export async function searchIndexed(
  db: MailboxDb,
  query: SearchQuery,
  options: { limit: number; textSearch: TextSearch; bodyText?: SearchDeps['bodyText']; maxCandidates?: number },
): Promise<LocalHit[] | undefined> {
  if (query.items.length === 0) return [];
  // The index is written with the messages, out of the change feed's sight.
  await watchMessages(db);
  const folderIds = folderResolver(await db.folders.toArray());
  const terms = searchTermsOf(query);
  const bodyText = hasFreeText(query) ? options.bodyText : undefined;
  const maxCandidates = options.maxCandidates ?? 5_000;
  const hits: LocalHit[] = [];
  // Most candidates are hits (the index and the matcher mostly agree): ask for as many
  // as the hits wanted, and for more (growing) only while some fail the check.
  let size = Math.max(CANDIDATE_FIRST_MIN, options.limit);
  for (let offset = 0; hits.length < options.limit && offset < maxCandidates; offset += size, size = Math.min(CANDIDATE_PAGE_MAX, size * 4)) {
    const page = await options.textSearch.candidates(db.name, query, { limit: size, offset, folderIds });
    if (page === undefined) return undefined;
    const snippets = new Map(page.map((c) => [c.id, c.snippet]));
    const messages = (await db.messages.bulkGet(page.map((c) => c.id))).filter((m): m is Message => m !== undefined);
    for (const { message, body } of await matching(query, messages, { folderIds, room: options.limit - hits.length, ...(bodyText ? { bodyText } : {}) })) {
      const given = snippets.get(message.id);
      const snippet = given && given.highlights.length > 0 ? given : snippetFor(message, terms, body);
      hits.push(snippet ? { message, snippet } : { message });
    }
    if (page.length < size) break;
  }
  return hits;
}

/** The server side of one search: not asked, waiting, or its (narrowed) hits. */
type ServerSide = { status: 'off' } | { status: 'loading' } | { status: 'ready'; records: readonly Message[] };

export function createSearchViews(deps: SearchDeps): SearchViews {
  function search$(text: string, options: SearchOptions = {}): Observable<SearchState> {
    const limit = options.limit ?? 50;
    const scanLimit = options.scanLimit ?? 5_000;
    const trimmed = text.trim();
    // Parsed once; every backend below reads the same AST.
    const query = parseSearch(trimmed);
    const empty = query.items.length === 0;
    const local$ = new Observable<readonly LocalHit[]>((subscriber) => {
      if (empty) {
        subscriber.next([]);
        return undefined;
      }
      let inner: { unsubscribe(): void } | undefined;
      let closed = false;
      deps.db.then(
        (db) => {
          if (closed) return;
          const { localSearch, textSearch } = deps;
          const scan = () => searchLocal(db, query, { limit, scanLimit, ...(deps.bodyText ? { bodyText: deps.bodyText } : {}) });
          const read = localSearch
            ? () => localSearch(query, { limit })
            : textSearch
              ? async () => (await searchIndexed(db, query, { limit, textSearch, ...(deps.bodyText ? { bodyText: deps.bodyText } : {}) })) ?? (await scan())
              : scan;
          inner = live(read).subscribe({
            next: (v) => subscriber.next(v),
            error: (e: unknown) => subscriber.error(e),
          });
        },
        (e: unknown) => subscriber.error(e),
      );
      return () => {
        closed = true;
        inner?.unsubscribe();
      };
    });
    const server$: Observable<ServerSide> =
      (options.server ?? true) && !empty
        ? from(deps.db).pipe(
            switchMap((db) => db.folders.toArray()),
            switchMap((folders): Observable<ServerSide> => {
              const folderIds = folderResolver(folders);
              const { filter, complete } = toServerFilter(query, { folderIds });
              // Nothing the server can be asked (`-word` alone, a bare OR): the replica answers.
              if (Object.keys(filter).length === 0) return of({ status: 'off' });
              return deps.window$(filter, { size: limit }).pipe(
                map((w): ServerSide => {
                  if (w.status !== 'ready') return { status: 'loading' };
                  // An incomplete filter returns a superset: drop what the record proves wrong.
                  const records = complete ? w.records : w.records.filter((m) => mayMatchMessage(query, m, { folderIds }));
                  return { status: 'ready', records };
                }),
              );
            }),
            startWith<ServerSide>({ status: 'loading' }),
          )
        : of({ status: 'off' });
    return combineLatest([local$, server$]).pipe(
      map(([local, server]): SearchState => {
        const seen = new Set(local.map((h) => h.message.id));
        const fromServer = server.status === 'ready' ? server.records.filter((m) => !seen.has(m.id)) : [];
        const snippets: Record<string, SearchSnippet> = {};
        for (const hit of local) if (hit.snippet) snippets[hit.message.id] = hit.snippet;
        return {
          text: trimmed,
          query,
          hits: [...local.map((h) => h.message), ...fromServer].slice(0, Math.max(limit, local.length)),
          localHits: local.length,
          snippets,
          server: server.status,
        };
      }),
      distinctUntilChanged<SearchState>(sameRecord),
      takeUntil(deps.until),
    );
  }
  return { search$ };
}
