// Mail search syntax (DESIGN.md "Mail search syntax: one parser, every backend"):
// Gmail-style text parsed once into a small AST that every backend evaluates —
// the browser replica with `matchMessage` over its indexes and cached text, SQLite
// by compiling it to FTS5 plus indexed filters, and the server through
// `toServerFilter` (the API's own list/query parameters). Pure: no I/O.
import type { MethodInput } from '../api/index.js';
import type { Message } from '../api/types.js';

/** Address and subject fields a text term can be scoped to (`from:alice`, `subject:"q3 report"`). */
export type SearchField = 'from' | 'to' | 'cc' | 'subject';

/**
 * A word or a quoted phrase, matched case-insensitively as a substring. A phrase's
 * words must appear in order, separated only by spaces or punctuation. Without a
 * `field` it is looked for in the subject, the sender, To and Cc (names and
 * addresses), the preview and a cached body.
 */
export interface SearchText {
  kind: 'text';
  /** The word, or the phrase's words separated by single spaces; case as typed. */
  value: string;
  /** True for a quoted phrase. */
  phrase: boolean;
  /** The field it is scoped to; absent for free text. */
  field?: SearchField;
}

/** `has:attachment` (also `has:attachments`). */
export interface SearchHas {
  kind: 'has';
  what: 'attachment';
}

/** `is:unread`, `is:read`, `is:flagged`, `is:unflagged`. */
export interface SearchIs {
  kind: 'is';
  what: 'unread' | 'read' | 'flagged' | 'unflagged';
}

/** `in:<folder name or role>` (`in:trash`, `in:"Project X"`), resolved case-insensitively. */
export interface SearchIn {
  kind: 'in';
  /** The folder name or role as typed. */
  folder: string;
}

/**
 * `before:YYYY-MM-DD` and `after:YYYY-MM-DD` (also `YYYY/MM/DD`), on UTC days, as
 * Gmail reads them: `after:D` is received at or after D 00:00 UTC (D included),
 * `before:D` is received before D 00:00 UTC (D excluded); so
 * `after:2024-01-01 before:2024-01-02` is 1 January. A message without a received
 * time matches neither.
 */
export interface SearchDate {
  kind: 'date';
  op: 'before' | 'after';
  /** The day, normalised to `YYYY-MM-DD`. */
  day: string;
  /** The day's start, epoch milliseconds UTC. */
  ms: number;
}

/** `-item`: negation of a term, phrase, operator or group. */
export interface SearchNot {
  kind: 'not';
  node: SearchNode;
}

/** A parenthesised group: every item must match. */
export interface SearchAnd {
  kind: 'and';
  nodes: SearchNode[];
}

/** `a OR b`: at least one item must match. */
export interface SearchOr {
  kind: 'or';
  nodes: SearchNode[];
}

/** One node of a parsed search. */
export type SearchNode = SearchText | SearchHas | SearchIs | SearchIn | SearchDate | SearchNot | SearchAnd | SearchOr;

/**
 * A parsed search: the text as given and its items, all of which must match
 * (implicit AND). No items (empty or blank text) means "nothing asked", and search
 * returns no hits.
 */
export interface SearchQuery {
  text: string;
  items: SearchNode[];
}

/**
 * A short excerpt of a hit's text with the ranges to highlight, as `[start, end)`
 * offsets into `text` (UTF-16 code units), sorted and non-overlapping. Plain text,
 * never HTML: the app renders the ranges itself.
 */
export interface SearchSnippet {
  text: string;
  highlights: Array<[start: number, end: number]>;
}

/** What matching needs beyond the message record. */
export interface MatchContext {
  /** Plain text of the message's cached body, when held. */
  body?: string;
  /**
   * The ids of the folders an `in:` value names (by name or role, case-insensitive).
   * Without it, `in:` compares the value with the message's folder ids.
   */
  folderIds?: (nameOrRole: string) => readonly string[];
}

/** The API's message filter parameters that a search can be put to the server with. */
export type ServerSearchFilter = Pick<
  MethodInput<'queryMessageChanges'>,
  'q' | 'from' | 'to' | 'cc' | 'subject' | 'folder_id' | 'keyword' | 'not_keyword' | 'after' | 'before' | 'has_attachment' | 'is_unread'
>;

/** The server's share of a search. */
export interface ServerSearch {
  /** The parameters; empty when no part of the query can be put to the server. */
  filter: ServerSearchFilter;
  /**
   * True when `filter` says everything the query says; otherwise the server's hits
   * are a superset, to be narrowed with `mayMatchMessage`.
   */
  complete: boolean;
}

// ---------------------------------------------------------------------------
// Parsing

/** Groups nested deeper than this are flattened into their parent (the parser never recurses without bound). */
const MAX_DEPTH = 32;

type Token =
  | { t: 'open'; neg: boolean }
  | { t: 'close' }
  | { t: 'or' }
  | { t: 'and' }
  | { t: 'item'; neg: boolean; node: SearchNode };

const isSpace = (c: string | undefined): boolean => c !== undefined && /\s/.test(c);
const WORD_END = new Set(['(', ')', '"']);

const FIELDS: ReadonlySet<string> = new Set<SearchField>(['from', 'to', 'cc', 'subject']);
const IS_VALUES: ReadonlySet<string> = new Set(['unread', 'read', 'flagged', 'unflagged']);

/** Collapses whitespace runs to one space and trims. */
const squash = (s: string): string => s.replace(/\s+/g, ' ').trim();

/** `YYYY-MM-DD` or `YYYY/MM/DD` of a real calendar day, as a date node; otherwise undefined. */
function dateNode(op: 'before' | 'after', value: string): SearchDate | undefined {
  const m = /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$/.exec(value);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // setUTCFullYear, unlike Date.UTC, does not map years 0–99 to 1900–1999.
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return undefined;
  const pad = (n: number, w: number) => String(n).padStart(w, '0');
  return { kind: 'date', op, day: `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}`, ms: date.getTime() };
}

/** The node of a known operator with a valid value; undefined makes it plain text. */
function operatorNode(key: string, value: string, quoted: boolean): SearchNode | undefined {
  const v = quoted ? squash(value) : value;
  if (v === '') return undefined;
  if (FIELDS.has(key)) return { kind: 'text', value: v, phrase: quoted, field: key as SearchField };
  const lower = v.toLowerCase();
  switch (key) {
    case 'has':
      return lower === 'attachment' || lower === 'attachments' ? { kind: 'has', what: 'attachment' } : undefined;
    case 'is':
      return IS_VALUES.has(lower) ? { kind: 'is', what: lower as SearchIs['what'] } : undefined;
    case 'in':
      return { kind: 'in', folder: v };
    case 'before':
    case 'after':
      return dateNode(key, v);
    default:
      return undefined;
  }
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  // One entry per open group: false when it was dropped for being too deep.
  const groups: boolean[] = [];
  let depth = 0;
  let i = 0;
  const n = text.length;
  const readQuoted = (): string => {
    // At an opening quote; an unclosed quote runs to the end.
    const close = text.indexOf('"', i + 1);
    const end = close === -1 ? n : close;
    const value = text.slice(i + 1, end);
    i = close === -1 ? n : close + 1;
    return value;
  };
  while (i < n) {
    let c = text[i] as string;
    if (isSpace(c)) {
      i += 1;
      continue;
    }
    let neg = false;
    if (c === '-') {
      let j = i;
      while (text[j] === '-') j += 1;
      const next = text[j];
      // A dash negates what directly follows it; alone (or before ")") it is nothing.
      if (next === undefined || isSpace(next) || next === ')') {
        i = j;
        continue;
      }
      neg = (j - i) % 2 === 1;
      i = j;
      c = next;
    }
    if (c === '(') {
      i += 1;
      const kept = depth < MAX_DEPTH;
      groups.push(kept);
      if (kept) {
        depth += 1;
        tokens.push({ t: 'open', neg });
      }
      continue;
    }
    if (c === ')') {
      i += 1;
      const kept = groups.pop();
      if (kept === true) {
        depth -= 1;
        tokens.push({ t: 'close' });
      }
      continue;
    }
    if (c === '"') {
      const value = squash(readQuoted());
      if (value !== '') tokens.push({ t: 'item', neg, node: { kind: 'text', value, phrase: true } });
      continue;
    }
    let j = i;
    while (j < n && !isSpace(text[j]) && !WORD_END.has(text[j] as string)) j += 1;
    const word = text.slice(i, j);
    i = j;
    if (!neg && word === 'OR') {
      tokens.push({ t: 'or' });
      continue;
    }
    if (!neg && word === 'AND') {
      tokens.push({ t: 'and' });
      continue;
    }
    const op = /^([A-Za-z]+):(.*)$/s.exec(word);
    if (op) {
      const key = (op[1] as string).toLowerCase();
      let value = op[2] as string;
      let quoted = false;
      // A known operator takes a quoted value: in:"Project X", subject:"q3 report".
      if (value === '' && text[i] === '"' && (FIELDS.has(key) || key === 'in' || key === 'is' || key === 'has' || key === 'before' || key === 'after')) {
        value = readQuoted();
        quoted = true;
      }
      const node = operatorNode(key, value, quoted);
      if (node) {
        tokens.push({ t: 'item', neg, node });
        continue;
      }
      if (quoted) {
        // A known operator with a bad value stays text, as typed.
        const phrase = squash(`${key}:${value}`);
        tokens.push({ t: 'item', neg, node: { kind: 'text', value: phrase, phrase: /\s/.test(phrase) } });
        continue;
      }
    }
    tokens.push({ t: 'item', neg, node: { kind: 'text', value: word, phrase: false } });
  }
  return tokens;
}

const not = (node: SearchNode): SearchNode => (node.kind === 'not' ? node.node : { kind: 'not', node });

/** Recursive descent over tokens: sequence = or-chain*, or-chain = unary (OR unary)*. */
function parseTokens(tokens: Token[]): SearchNode[] {
  let pos = 0;
  const peek = () => tokens[pos];

  function sequence(inGroup: boolean): SearchNode[] {
    const items: SearchNode[] = [];
    while (pos < tokens.length) {
      const tok = peek() as Token;
      if (tok.t === 'close') {
        pos += 1;
        if (inGroup) return items;
        continue; // unreachable in practice: the tokenizer drops unmatched ")"
      }
      if (tok.t === 'or' || tok.t === 'and') {
        pos += 1; // a leading OR, or AND (the implicit operator, spelled out)
        continue;
      }
      const node = orChain();
      if (node?.kind === 'and') items.push(...node.nodes);
      else if (node) items.push(node);
    }
    return items;
  }

  function orChain(): SearchNode | undefined {
    const arms: SearchNode[] = [];
    const add = (node: SearchNode | undefined) => {
      if (node?.kind === 'or') arms.push(...node.nodes);
      else if (node) arms.push(node);
    };
    add(unary());
    while (peek()?.t === 'or') {
      while (peek()?.t === 'or' || peek()?.t === 'and') pos += 1;
      const next = peek();
      if (next === undefined || next.t === 'close') break; // a trailing OR
      add(unary());
    }
    return arms.length <= 1 ? arms[0] : { kind: 'or', nodes: arms };
  }

  function unary(): SearchNode | undefined {
    const tok = peek();
    if (tok?.t === 'item') {
      pos += 1;
      return tok.neg ? not(tok.node) : tok.node;
    }
    if (tok?.t === 'open') {
      pos += 1;
      const items = sequence(true);
      const group: SearchNode | undefined = items.length <= 1 ? items[0] : { kind: 'and', nodes: items };
      return group && tok.neg ? not(group) : group;
    }
    return undefined;
  }

  return sequence(false);
}

/**
 * Parses Gmail-style search text. Never throws: any string parses, and what is not
 * an operator is text.
 *
 * - Words match as case-insensitive substrings; `"quoted phrases"` match their words
 *   in order.
 * - `from:` `to:` `cc:` `subject:` scope a word or phrase (`subject:"q3 report"`).
 * - `has:attachment`; `is:unread` `is:read` `is:flagged` `is:unflagged`;
 *   `in:<folder name or role>` (`in:trash`, `in:"Project X"`).
 * - `after:YYYY-MM-DD` (that UTC day and later), `before:YYYY-MM-DD` (earlier days only).
 * - `-` negates what follows it (`-from:bob`, `-"x y"`, `-is:unread`, `-(a b)`).
 * - Items are ANDed; `OR` (upper case) joins its neighbours and binds tighter:
 *   `a OR b c` is `(a OR b) AND c`. Parentheses group.
 * - An unknown operator or a bad value (`foo:bar`, `before:soon`) is a plain word.
 */
export function parseSearch(text: string): SearchQuery {
  const source = typeof text === 'string' ? text : '';
  return { text: source, items: parseTokens(tokenize(source)) };
}

// ---------------------------------------------------------------------------
// Matching

// Only syntax characters: the `u` flag refuses needless escapes such as `\\-`.
const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** Between a phrase's words, the text may have any run of spaces or punctuation. */
const PHRASE_GAP = '[^\\p{L}\\p{N}]+';

/** The pattern of a term (a literal) or phrase (its words in order, whitespace in `term` = phrase). */
function patternOf(term: string): string {
  const words = term.split(/\s+/).filter((w) => w.length > 0);
  return words.map(escapeRegExp).join(PHRASE_GAP);
}

const patterns = new WeakMap<SearchText, RegExp>();
function regexOf(node: SearchText): RegExp {
  let re = patterns.get(node);
  if (!re) {
    re = new RegExp(patternOf(node.value), 'iu');
    patterns.set(node, re);
  }
  return re;
}

type Address = { name?: string | null; email: string };
const addressParts = (list: ReadonlyArray<Address | null | undefined> | null | undefined): string[] =>
  (list ?? []).flatMap((a) => (a ? [a.name ?? '', a.email] : []));

function fieldParts(message: Message, field: SearchField): string[] {
  switch (field) {
    case 'from':
      return addressParts([message.from]);
    case 'to':
      return addressParts(message.to);
    case 'cc':
      return addressParts(message.cc);
    case 'subject':
      return [message.subject ?? ''];
  }
}

/** Free text is looked for where the API's `q` looks: subject, addresses, preview (and body). */
const freeParts = (message: Message): string[] => [
  message.subject ?? '',
  ...addressParts([message.from]),
  ...addressParts(message.to),
  ...addressParts(message.cc),
  message.preview ?? '',
];

/** true / false, or undefined when what is held cannot tell (open world only). */
type Truth = boolean | undefined;

function evaluate(node: SearchNode, m: Message, ctx: MatchContext, open: boolean): Truth {
  switch (node.kind) {
    case 'text': {
      const re = regexOf(node);
      if (node.field) return fieldParts(m, node.field).some((p) => re.test(p));
      if (freeParts(m).some((p) => re.test(p))) return true;
      if (ctx.body !== undefined) return re.test(ctx.body);
      // The body is not held: the term may be in it.
      return open ? undefined : false;
    }
    case 'has':
      return m.has_attachments || (m.attachments?.length ?? 0) > 0;
    case 'is':
      return node.what === 'unread'
        ? !m.flags.seen
        : node.what === 'read'
          ? m.flags.seen
          : node.what === 'flagged'
            ? m.flags.flagged
            : !m.flags.flagged;
    case 'in': {
      const ids = ctx.folderIds ? ctx.folderIds(node.folder) : [node.folder];
      return m.folder_ids.some((id) => ids.includes(id));
    }
    case 'date': {
      const t = m.received_at ? Date.parse(m.received_at) : NaN;
      if (Number.isNaN(t)) return false;
      return node.op === 'after' ? t >= node.ms : t < node.ms;
    }
    case 'not': {
      const v = evaluate(node.node, m, ctx, open);
      return v === undefined ? undefined : !v;
    }
    case 'and':
      return all(node.nodes, m, ctx, open);
    case 'or': {
      let unknown = false;
      for (const child of node.nodes) {
        const v = evaluate(child, m, ctx, open);
        if (v === true) return true;
        if (v === undefined) unknown = true;
      }
      return unknown ? undefined : false;
    }
  }
}

function all(nodes: readonly SearchNode[], m: Message, ctx: MatchContext, open: boolean): Truth {
  let unknown = false;
  for (const child of nodes) {
    const v = evaluate(child, m, ctx, open);
    if (v === false) return false;
    if (v === undefined) unknown = true;
  }
  return unknown ? undefined : true;
}

/**
 * Whether `message` matches `query`, judged on the record and `ctx.body` alone: a
 * term found nowhere held does not match. A query without items matches nothing.
 */
export function matchMessage(query: SearchQuery, message: Message, ctx: MatchContext = {}): boolean {
  if (query.items.length === 0) return false;
  return all(query.items, message, ctx, false) === true;
}

/**
 * Whether the record (and `ctx.body`, when given) decides `query`: true or false,
 * or undefined when free text not found in the record may be in a body not held.
 * A search asks for cached bodies only for the messages this leaves undecided.
 */
export function judgeMessage(query: SearchQuery, message: Message, ctx: MatchContext = {}): boolean | undefined {
  if (query.items.length === 0) return false;
  return all(query.items, message, ctx, true);
}

/**
 * Whether `message` may match `query`: false only when what is held proves it does
 * not. Free text not found in the record, with no body held, may be in the body.
 * For narrowing the server's hits of an incomplete `toServerFilter`.
 */
export function mayMatchMessage(query: SearchQuery, message: Message, ctx: MatchContext = {}): boolean {
  if (query.items.length === 0) return false;
  return all(query.items, message, ctx, true) !== false;
}

/** The positive text terms and phrases of a query (not under a `-`), de-duplicated: what to highlight. */
export function searchTermsOf(query: SearchQuery): string[] {
  const out = new Set<string>();
  const walk = (node: SearchNode, negated: boolean): void => {
    if (node.kind === 'text') {
      if (!negated) out.add(node.value);
    } else if (node.kind === 'not') walk(node.node, !negated);
    else if (node.kind === 'and' || node.kind === 'or') for (const child of node.nodes) walk(child, negated);
  };
  for (const item of query.items) walk(item, false);
  return [...out];
}

/** Whether a query has free text (unscoped terms), which a cached body can answer. */
export function hasFreeText(query: SearchQuery): boolean {
  const walk = (node: SearchNode): boolean =>
    node.kind === 'text'
      ? node.field === undefined
      : node.kind === 'not'
        ? walk(node.node)
        : node.kind === 'and' || node.kind === 'or'
          ? node.nodes.some(walk)
          : false;
  return query.items.some(walk);
}

// ---------------------------------------------------------------------------
// Snippets

const DEFAULT_SNIPPET_LENGTH = 160;
const ELLIPSIS = '…';

/**
 * An excerpt of `text` (whitespace collapsed) of at most `maxLength` characters
 * (default 160, ellipses included) around the first match of `terms`, with every
 * match inside it as a highlight range. A term with spaces is a phrase. Without a
 * match the excerpt is the start of the text, with no highlights.
 */
export function snippetOf(text: string, terms: readonly string[], options: { maxLength?: number } = {}): SearchSnippet {
  const max = options.maxLength !== undefined && Number.isFinite(options.maxLength) ? Math.max(0, Math.floor(options.maxLength)) : DEFAULT_SNIPPET_LENGTH;
  const flat = squash(text);
  const ranges: Array<[number, number]> = [];
  for (const term of terms) {
    const pattern = patternOf(term);
    if (pattern === '') continue;
    for (const m of flat.matchAll(new RegExp(pattern, 'giu'))) {
      if (m[0].length > 0) ranges.push([m.index, m.index + m[0].length]);
    }
  }
  ranges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const merged: Array<[number, number]> = [];
  for (const r of ranges) {
    const last = merged.at(-1);
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  if (flat.length <= max) return { text: flat, highlights: merged };
  if (max <= 2) return { text: flat.slice(0, max), highlights: clip(merged, 0, max, 0) };
  const first = merged[0]?.[0] ?? 0;
  // Some context before the first match, starting at a word when one starts nearby.
  let begin = Math.max(0, first - Math.min(40, Math.floor(max / 4)));
  if (begin > 0) {
    const space = flat.indexOf(' ', begin);
    if (space !== -1 && space < first && space - begin < 15) begin = space + 1;
  }
  // Use the whole budget when the end of the text is near.
  if (flat.length - begin < max - 1) begin = Math.max(0, flat.length - (max - 1));
  const prefix = begin > 0 ? ELLIPSIS : '';
  let end = Math.min(flat.length, begin + max - prefix.length);
  const suffix = end < flat.length ? ELLIPSIS : '';
  if (suffix) end -= 1;
  return { text: `${prefix}${flat.slice(begin, end)}${suffix}`, highlights: clip(merged, begin, end, prefix.length) };
}

function clip(ranges: ReadonlyArray<[number, number]>, begin: number, end: number, shift: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const [s, e] of ranges) {
    const a = Math.max(s, begin);
    const b = Math.min(e, end);
    if (a < b) out.push([a - begin + shift, b - begin + shift]);
  }
  return out;
}

// ---------------------------------------------------------------------------
// The server's share

/** `$flagged` is the system keyword of the flagged flag (RFC 8621 §4.1.1). */
const FLAGGED = '$flagged';

/**
 * The API's list/query parameters for what of `query` the server can answer
 * (docs/search-and-batch.md "Rich message filters"): free terms as `q` (space
 * separated, as typed), one each of `from`/`to`/`cc`/`subject`, `has_attachment`,
 * `is_unread`, `keyword`/`not_keyword` `$flagged`, `folder_id` (an `in:` naming
 * exactly one folder), `after`/`before` (ISO timestamps of the day's start: the
 * API's `after` is "at or after", `before` strictly before, as here). Negated text,
 * `OR`, negated groups and repeats of a single-valued parameter cannot be put to the
 * server: then `complete` is false.
 */
export function toServerFilter(query: SearchQuery, options: Pick<MatchContext, 'folderIds'> = {}): ServerSearch {
  const filter: ServerSearchFilter = {};
  const q: string[] = [];
  const set = <K extends keyof ServerSearchFilter>(key: K, value: NonNullable<ServerSearchFilter[K]>): boolean => {
    const current = filter[key];
    if (current !== undefined) return current === value;
    filter[key] = value;
    return true;
  };
  const put = (node: SearchNode, negated: boolean): boolean => {
    switch (node.kind) {
      case 'text':
        if (negated) return false;
        if (!node.field) {
          q.push(node.value);
          return true;
        }
        return set(node.field, node.value);
      case 'has':
        return set('has_attachment', !negated);
      case 'is':
        if (node.what === 'unread' || node.what === 'read') return set('is_unread', (node.what === 'unread') !== negated);
        return (node.what === 'flagged') !== negated ? set('keyword', FLAGGED) : set('not_keyword', FLAGGED);
      case 'in': {
        if (negated) return false;
        const ids = options.folderIds ? options.folderIds(node.folder) : [node.folder];
        return ids.length === 1 && set('folder_id', ids[0] as string);
      }
      case 'date': {
        const op = negated ? (node.op === 'after' ? 'before' : 'after') : node.op;
        const iso = new Date(node.ms).toISOString();
        const current = filter[op];
        // Two bounds on one side: the tighter one (ISO strings of one format sort as times).
        if (current === undefined || (op === 'after' ? iso > current : iso < current)) filter[op] = iso;
        return true;
      }
      case 'not':
        return put(node.node, !negated);
      case 'and': {
        if (negated) return false;
        let every = true;
        for (const child of node.nodes) every = put(child, false) && every;
        return every;
      }
      case 'or':
        return false;
    }
  };
  let complete = true;
  for (const item of query.items) complete = put(item, false) && complete;
  if (q.length > 0) filter.q = q.join(' ');
  return { filter, complete };
}
