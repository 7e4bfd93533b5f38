// Mail search syntax (DESIGN.md "Mail search syntax"): the parser, matching, terms,
// snippets and the server's share. Pure; garbage input is fuzzed with fast-check
// (a failure prints its seed; FC_SEED replays it).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  judgeMessage,
  matchMessage,
  mayMatchMessage,
  parseSearch,
  searchTermsOf,
  snippetOf,
  toServerFilter,
  type SearchNode,
} from '../../src/store/searchSyntax.js';
import { message } from './fixtures.js';

const SEED = Number(process.env.FC_SEED ?? 20240101);
const items = (text: string) => parseSearch(text).items;
const word = (value: string, field?: 'from' | 'to' | 'cc' | 'subject'): SearchNode => ({ kind: 'text', value, phrase: false, ...(field ? { field } : {}) });
const phrase = (value: string, field?: 'from' | 'to' | 'cc' | 'subject'): SearchNode => ({ kind: 'text', value, phrase: true, ...(field ? { field } : {}) });
const not = (node: SearchNode): SearchNode => ({ kind: 'not', node });

describe('parseSearch', () => {
  it('reads free words and quoted phrases (whitespace squashed, an unclosed quote runs to the end)', () => {
    expect(items('hello  World')).toEqual([word('hello'), word('World')]);
    expect(items('"quarterly   report" next')).toEqual([phrase('quarterly report'), word('next')]);
    expect(items('a "open phrase')).toEqual([word('a'), phrase('open phrase')]);
    expect(items('"" "   "')).toEqual([]);
    expect(items('')).toEqual([]);
    expect(parseSearch('  x ').text).toBe('  x ');
  });

  it('scopes words and phrases to from:, to:, cc: and subject: (operator names in any case)', () => {
    expect(items('from:alice TO:bob@example.com cc:carol subject:"quarterly report"')).toEqual([
      word('alice', 'from'),
      word('bob@example.com', 'to'),
      word('carol', 'cc'),
      phrase('quarterly report', 'subject'),
    ]);
  });

  it('reads has:, is: and in: (quoted folder names too)', () => {
    expect(items('has:attachment has:Attachments')).toEqual([{ kind: 'has', what: 'attachment' }, { kind: 'has', what: 'attachment' }]);
    expect(items('is:unread is:read is:FLAGGED is:unflagged')).toEqual([
      { kind: 'is', what: 'unread' },
      { kind: 'is', what: 'read' },
      { kind: 'is', what: 'flagged' },
      { kind: 'is', what: 'unflagged' },
    ]);
    expect(items('in:trash in:"Project   X" in:Inbox')).toEqual([
      { kind: 'in', folder: 'trash' },
      { kind: 'in', folder: 'Project X' },
      { kind: 'in', folder: 'Inbox' },
    ]);
  });

  it('reads before: and after: as UTC day starts, and YYYY/MM/DD as well', () => {
    expect(items('after:2024-01-01 before:2024/2/29')).toEqual([
      { kind: 'date', op: 'after', day: '2024-01-01', ms: Date.UTC(2024, 0, 1) },
      { kind: 'date', op: 'before', day: '2024-02-29', ms: Date.UTC(2024, 1, 29) },
    ]);
  });

  it('keeps unknown operators and bad values as plain words', () => {
    expect(items('foo:bar is:bogus has:pdf before:2023-02-29 after:soon in: from:')).toEqual(
      ['foo:bar', 'is:bogus', 'has:pdf', 'before:2023-02-29', 'after:soon', 'in:', 'from:'].map((w) => word(w)),
    );
    // An unknown operator does not take a quoted value: the phrase stands alone.
    expect(items('foo:"a b"')).toEqual([word('foo:'), phrase('a b')]);
    expect(items('https://example.com/x')).toEqual([word('https://example.com/x')]);
  });

  it('negates any item with a leading dash; a dash inside a word or alone is text or nothing', () => {
    expect(items('-from:bob -"x  y" -is:unread -word')).toEqual([
      not(word('bob', 'from')),
      not(phrase('x y')),
      not({ kind: 'is', what: 'unread' }),
      not(word('word')),
    ]);
    expect(items('e-mail - --twice ---thrice')).toEqual([word('e-mail'), word('twice'), not(word('thrice'))]);
    expect(items('-(a b)')).toEqual([not({ kind: 'and', nodes: [word('a'), word('b')] })]);
  });

  it('binds OR tighter than the implicit AND, as Gmail does: a OR b c = (a OR b) AND c', () => {
    expect(items('a OR b c')).toEqual([{ kind: 'or', nodes: [word('a'), word('b')] }, word('c')]);
    expect(items('a OR from:b OR -c')).toEqual([{ kind: 'or', nodes: [word('a'), word('b', 'from'), not(word('c'))] }]);
    // Only upper-case OR is the operator; a leading, trailing or doubled OR is dropped.
    expect(items('a or b')).toEqual([word('a'), word('or'), word('b')]);
    expect(items('OR a OR OR b OR')).toEqual([{ kind: 'or', nodes: [word('a'), word('b')] }]);
    expect(items('a AND b')).toEqual([word('a'), word('b')]);
    expect(items('-OR')).toEqual([not(word('OR'))]);
  });

  it('groups with parentheses; unbalanced ones are closed or dropped', () => {
    expect(items('(a b) OR c')).toEqual([{ kind: 'or', nodes: [{ kind: 'and', nodes: [word('a'), word('b')] }, word('c')] }]);
    expect(items('(a OR b) (c)')).toEqual([{ kind: 'or', nodes: [word('a'), word('b')] }, word('c')]);
    expect(items('(a b')).toEqual([word('a'), word('b')]);
    expect(items('a) b ()')).toEqual([word('a'), word('b')]);
    expect(items('((a OR b) OR c)')).toEqual([{ kind: 'or', nodes: [word('a'), word('b'), word('c')] }]);
  });

  it('does not recurse without bound on deep nesting', () => {
    const deep = `${'-('.repeat(50_000)}x${')'.repeat(50_000)}`;
    expect(() => parseSearch(deep)).not.toThrow();
    expect(searchTermsOf(parseSearch(deep))).toEqual(['x']);
  });

  it('parses any string without throwing, and matching, terms, snippets and the server share never throw', () => {
    const tokens = fc.constantFrom('OR', 'AND', '(', ')', '-', '"', ':', ' ', 'from:', 'in:', 'is:unread', 'before:2024-01-01', 'a', 'é', '\u{1F600}', '\uD800', '\\', '.*', '[');
    const garbage = fc.oneof(fc.string({ unit: 'binary' }), fc.array(tokens).map((t) => t.join('')), fc.array(tokens).map((t) => t.join(' ')));
    const m = message({ id: 'm1', subject: 'Quarterly report (draft) [v2] .*', preview: 'see "x"', to: [{ email: 'b@example.com', name: null }] });
    fc.assert(
      fc.property(garbage, (text) => {
        const q = parseSearch(text);
        expect(q.text).toBe(text);
        const visit = (n: SearchNode): void => {
          if (n.kind === 'text') expect(n.value.trim().length).toBeGreaterThan(0);
          if (n.kind === 'not') visit(n.node);
          if (n.kind === 'and' || n.kind === 'or') {
            expect(n.nodes.length).toBeGreaterThan(1);
            n.nodes.forEach(visit);
          }
        };
        q.items.forEach(visit);
        matchMessage(q, m, { body: text, folderIds: () => ['inbox'] });
        mayMatchMessage(q, m);
        toServerFilter(q);
        snippetOf(m.subject ?? '', searchTermsOf(q), { maxLength: 20 });
      }),
      { seed: SEED, numRuns: 1_000 },
    );
  });
});

describe('matchMessage', () => {
  const m = message({
    id: 'm1',
    subject: 'Quarterly report for Q3',
    preview: 'Numbers attached, see the summary',
    from: { name: 'Alice Smith', email: 'alice@example.com' },
    to: [{ name: 'Bob', email: 'bob@example.com' }],
    cc: [{ name: null, email: 'carol@example.com' }],
    bcc: [{ name: null, email: 'dave@example.com' }],
    folder_ids: ['fld_inbox', 'fld_work'],
    received_at: '2024-01-01T00:00:00.000Z',
    has_attachments: true,
    flags: { seen: false, flagged: true, draft: false, answered: false },
  });
  const match = (text: string, body?: string) =>
    matchMessage(parseSearch(text), m, {
      ...(body !== undefined ? { body } : {}),
      folderIds: (v) => ({ inbox: ['fld_inbox'], work: ['fld_work'], 'project x': ['fld_px'] })[v.toLowerCase()] ?? [],
    });

  it('matches free words case-insensitively as substrings of subject, addresses and preview, never bcc', () => {
    expect(match('QUARTER')).toBe(true);
    expect(match('smith')).toBe(true);
    expect(match('bob@example')).toBe(true);
    expect(match('carol')).toBe(true);
    expect(match('summary quarterly')).toBe(true);
    expect(match('dave')).toBe(false);
    expect(match('quarterly missing')).toBe(false);
    expect(match('')).toBe(false);
  });

  it('looks in the cached body only when given one; mayMatchMessage leaves an unheld body open', () => {
    expect(match('zanzibar')).toBe(false);
    expect(match('zanzibar', 'We fly to Zanzibar')).toBe(true);
    expect(mayMatchMessage(parseSearch('zanzibar'), m)).toBe(true);
    expect(mayMatchMessage(parseSearch('zanzibar'), m, { body: 'nothing' })).toBe(false);
    // What the record decides stays decided.
    expect(mayMatchMessage(parseSearch('zanzibar is:read'), m)).toBe(false);
    expect(mayMatchMessage(parseSearch('-quarterly'), m)).toBe(false);
    expect(mayMatchMessage(parseSearch('-zanzibar'), m)).toBe(true);
  });

  it('judgeMessage decides on the record alone, and leaves open exactly what a body could change', () => {
    expect(judgeMessage(parseSearch('quarterly'), m)).toBe(true);
    expect(judgeMessage(parseSearch('zanzibar'), m)).toBeUndefined();
    expect(judgeMessage(parseSearch('zanzibar is:read'), m)).toBe(false);
    expect(judgeMessage(parseSearch('-zanzibar'), m)).toBeUndefined();
    expect(judgeMessage(parseSearch('-quarterly'), m)).toBe(false);
    expect(judgeMessage(parseSearch('subject:zanzibar'), m)).toBe(false);
    expect(judgeMessage(parseSearch('zanzibar OR quarterly'), m)).toBe(true);
    expect(judgeMessage(parseSearch(''), m)).toBe(false);
    // A decided verdict is matchMessage's with any body; an open one is decided by some body.
    const words = fc.constantFrom('quarterly', 'zanzibar', 'report', 'dave', 'summary', 'kestrel');
    const item = fc.oneof(words, words.map((w) => `-${w}`), words.map((w) => `subject:${w}`), fc.constantFrom('is:read', 'is:unread', 'in:inbox', 'has:attachment'));
    const query = fc.array(item, { minLength: 1, maxLength: 4 }).chain((items) => fc.constantFrom(items.join(' '), items.join(' OR ')));
    fc.assert(
      fc.property(query, fc.array(words, { maxLength: 3 }), (text, bodyWords) => {
        const q = parseSearch(text);
        const verdict = judgeMessage(q, m);
        const body = bodyWords.join(' ');
        if (verdict !== undefined) expect(matchMessage(q, m, { body })).toBe(verdict);
        else expect(mayMatchMessage(q, m)).toBe(true);
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('matches phrases as contiguous words (any spaces or punctuation between them)', () => {
    expect(match('"quarterly report"')).toBe(true);
    expect(match('"report quarterly"')).toBe(false);
    expect(match('"quarterly q3"')).toBe(false);
    expect(match('"quarterly report"', '')).toBe(true);
    expect(match('"see the  summary"')).toBe(true);
    expect(match('"alpha beta"', 'x alpha -- beta y')).toBe(true);
    expect(match('"alpha beta"', 'alpha gamma beta')).toBe(false);
  });

  it('scopes field terms to their field', () => {
    expect(match('from:alice')).toBe(true);
    expect(match('from:"alice smith"')).toBe(true);
    expect(match('from:bob')).toBe(false);
    expect(match('to:bob')).toBe(true);
    expect(match('to:carol')).toBe(false);
    expect(match('cc:carol')).toBe(true);
    expect(match('subject:report')).toBe(true);
    expect(match('subject:summary')).toBe(false);
    expect(match('subject:zanzibar', 'zanzibar')).toBe(false);
  });

  it('evaluates has:, is: and in: on the record (in: by name or role, through the context)', () => {
    expect(match('has:attachment')).toBe(true);
    expect(matchMessage(parseSearch('has:attachment'), { ...m, has_attachments: false })).toBe(false);
    expect(match('is:unread')).toBe(true);
    expect(match('is:read')).toBe(false);
    expect(match('is:flagged')).toBe(true);
    expect(match('is:unflagged')).toBe(false);
    expect(match('in:INBOX')).toBe(true);
    expect(match('in:"Project X"')).toBe(false);
    expect(match('in:nowhere')).toBe(false);
    // Without a resolver, in: compares folder ids.
    expect(matchMessage(parseSearch('in:fld_work'), m)).toBe(true);
    expect(matchMessage(parseSearch('in:work'), m)).toBe(false);
  });

  it('reads after: as on or after the UTC day and before: as strictly before it', () => {
    const at = (received_at: string | null) => (text: string) => matchMessage(parseSearch(text), { ...m, received_at });
    expect(at('2024-01-01T00:00:00.000Z')('after:2024-01-01')).toBe(true);
    expect(at('2023-12-31T23:59:59.999Z')('after:2024-01-01')).toBe(false);
    expect(at('2023-12-31T23:59:59.999Z')('before:2024-01-01')).toBe(true);
    expect(at('2024-01-01T00:00:00.000Z')('before:2024-01-01')).toBe(false);
    expect(at('2024-01-01T23:59:59.999Z')('after:2024-01-01 before:2024-01-02')).toBe(true);
    expect(at('2024-01-02T00:00:00.000Z')('after:2024-01-01 before:2024-01-02')).toBe(false);
    expect(at(null)('before:2100-01-01')).toBe(false);
    expect(at(null)('-before:2100-01-01')).toBe(true);
  });

  it('negates, ORs and groups', () => {
    expect(match('-from:bob')).toBe(true);
    expect(match('-from:alice')).toBe(false);
    expect(match('-is:unread')).toBe(false);
    expect(match('-"quarterly report"')).toBe(false);
    expect(match('-zanzibar quarterly')).toBe(true);
    expect(match('zanzibar OR quarterly')).toBe(true);
    expect(match('zanzibar OR nothing')).toBe(false);
    // (zanzibar OR quarterly) AND nothing: OR binds tighter.
    expect(match('zanzibar OR quarterly nothing')).toBe(false);
    expect(match('nothing OR (quarterly from:alice)')).toBe(true);
    expect(match('-(quarterly from:bob)')).toBe(true);
    expect(match('-(quarterly from:alice)')).toBe(false);
  });
});

describe('searchTermsOf', () => {
  it('lists positive words and phrases once, never negated ones', () => {
    expect(searchTermsOf(parseSearch('a "b c" -d from:e (f OR -g) -(-h) a is:unread'))).toEqual(['a', 'b c', 'e', 'f', 'h']);
  });
});

describe('snippetOf', () => {
  it('highlights every match, case-insensitively, phrases across punctuation', () => {
    const s = snippetOf('The Invoice for April:\n  invoice  #2, april-invoice', ['invoice', 'april invoice']);
    expect(s.text).toBe('The Invoice for April: invoice #2, april-invoice');
    expect(s.highlights.map(([a, b]) => s.text.slice(a, b))).toEqual(['Invoice', 'April: invoice', 'april-invoice']);
  });

  it('cuts a long text around the first match, at most maxLength with the ellipses', () => {
    const text = `${'lorem ipsum dolor '.repeat(20)}the needle is here ${'sit amet '.repeat(20)}`;
    const s = snippetOf(text, ['needle'], { maxLength: 60 });
    expect(s.text.length).toBeLessThanOrEqual(60);
    expect(s.text.startsWith('…')).toBe(true);
    expect(s.text.endsWith('…')).toBe(true);
    expect(s.highlights).toHaveLength(1);
    const [a, b] = s.highlights[0]!;
    expect(s.text.slice(a, b)).toBe('needle');
    // Without a match: the start of the text.
    const none = snippetOf(text, ['absent'], { maxLength: 30 });
    expect(none).toEqual({ text: `${text.slice(0, 29)}…`, highlights: [] });
  });

  it('keeps the budget, highlights only matches, and shows the first match (property)', () => {
    const alphabet = fc.constantFrom('a', 'b', 'A', ' ', '\n', 'c');
    fc.assert(
      fc.property(
        fc.array(alphabet, { maxLength: 300 }).map((c) => c.join('')),
        fc.array(fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: 1, maxLength: 3 }).map((c) => c.join('')), { maxLength: 3 }),
        fc.integer({ min: 0, max: 80 }),
        (text, terms, maxLength) => {
          const s = snippetOf(text, terms, { maxLength });
          expect(s.text.length).toBeLessThanOrEqual(maxLength);
          const flat = text.replace(/\s+/g, ' ').trim();
          const lower = flat.toLowerCase();
          const covered = new Set<number>();
          for (const t of terms) for (let i = lower.indexOf(t); i !== -1; i = lower.indexOf(t, i + 1)) for (let k = i; k < i + t.length; k++) covered.add(k);
          let last = -1;
          for (const [a, b] of s.highlights) {
            expect(a).toBeGreaterThan(last);
            expect(b).toBeGreaterThan(a);
            expect(b).toBeLessThanOrEqual(s.text.length);
            last = b;
          }
          const body = s.text.replace(/^…/, '').replace(/…$/, '');
          const shift = s.text.startsWith('…') ? 1 : 0;
          // Some placement of the excerpt in the text puts every highlight on a match.
          const placements: number[] = body === '' ? [0] : [];
          for (let i = body === '' ? -1 : flat.indexOf(body); i !== -1; i = flat.indexOf(body, i + 1)) placements.push(i);
          expect(placements.length).toBeGreaterThan(0);
          expect(
            placements.some((at) => s.highlights.every(([a, b]) => Array.from({ length: b - a }, (_, k) => a + k - shift + at).every((p) => covered.has(p)))),
          ).toBe(true);
          if (covered.size > 0 && maxLength >= 3) expect(s.highlights.length).toBeGreaterThan(0);
        },
      ),
      { seed: SEED, numRuns: 1_000 },
    );
  });
});

describe('toServerFilter', () => {
  const folderIds = (v: string) => ({ trash: ['fld_trash'], work: ['fld_w1', 'fld_w2'] })[v.toLowerCase()] ?? [];
  const server = (text: string) => toServerFilter(parseSearch(text), { folderIds });

  it('sends free text as q, as typed, and scoped terms as their parameters', () => {
    expect(server('Invoice April')).toEqual({ filter: { q: 'Invoice April' }, complete: true });
    expect(server('from:alice to:bob cc:carol subject:"q3 report" budget')).toEqual({
      filter: { from: 'alice', to: 'bob', cc: 'carol', subject: 'q3 report', q: 'budget' },
      complete: true,
    });
    expect(server('')).toEqual({ filter: {}, complete: true });
  });

  it('maps has:, is: (negated too) and an in: naming one folder', () => {
    expect(server('has:attachment is:unread in:Trash').filter).toEqual({ has_attachment: true, is_unread: true, folder_id: 'fld_trash' });
    expect(server('-has:attachment is:read').filter).toEqual({ has_attachment: false, is_unread: false });
    expect(server('-is:unread').filter).toEqual({ is_unread: false });
    expect(server('is:flagged').filter).toEqual({ keyword: '$flagged' });
    expect(server('-is:flagged').filter).toEqual({ not_keyword: '$flagged' });
    expect(server('is:unflagged').filter).toEqual({ not_keyword: '$flagged' });
    expect(server('in:work')).toEqual({ filter: {}, complete: false });
    expect(server('in:nowhere')).toEqual({ filter: {}, complete: false });
    expect(server('-in:trash')).toEqual({ filter: {}, complete: false });
  });

  it('maps dates to the day start (after = at or after, before = strictly before), negations flipped, the tighter bound kept', () => {
    expect(server('after:2024-01-01 before:2024-02-01').filter).toEqual({ after: '2024-01-01T00:00:00.000Z', before: '2024-02-01T00:00:00.000Z' });
    expect(server('-after:2024-01-01').filter).toEqual({ before: '2024-01-01T00:00:00.000Z' });
    expect(server('before:2024-03-01 before:2024-02-01 after:2023-01-01 after:2023-06-01').filter).toEqual({
      before: '2024-02-01T00:00:00.000Z',
      after: '2023-06-01T00:00:00.000Z',
    });
  });

  it('leaves out what the API cannot say, and says so', () => {
    expect(server('invoice -draft')).toEqual({ filter: { q: 'invoice' }, complete: false });
    expect(server('-"x y"')).toEqual({ filter: {}, complete: false });
    expect(server('a OR b from:c')).toEqual({ filter: { from: 'c' }, complete: false });
    expect(server('from:a from:b')).toEqual({ filter: { from: 'a' }, complete: false });
    expect(server('is:unread is:read')).toEqual({ filter: { is_unread: true }, complete: false });
    expect(server('(from:a is:unread) x')).toEqual({ filter: { from: 'a', is_unread: true, q: 'x' }, complete: true });
    expect(server('-(from:a b)')).toEqual({ filter: {}, complete: false });
  });
});
