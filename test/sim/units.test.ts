// Pure parts of the simulator, property-tested: the query diff (RFC 8620 §5.6), the
// change log's collapsing and paging (§5.2), cursors and byte ranges.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChangeLog } from '../../src/sim/changelog.js';
import { SimError } from '../../src/sim/errors.js';
import { decodeCursor, encodeCursor, pageOf, sortRecords } from '../../src/sim/query.js';
import { QueryStates, diff } from '../../src/sim/querystate.js';
import { parseRange } from '../../src/sim/routes-messages.js';

const idList = fc.uniqueArray(fc.integer({ min: 0, max: 60 }), { maxLength: 40 }).map((xs) => xs.map((x) => `m${x}`));

function apply(old: string[], removed: string[], added: Array<{ id: string; index: number }>): string[] {
  const gone = new Set(removed);
  const out = old.filter((id) => !gone.has(id));
  for (const a of [...added].sort((x, y) => x.index - y.index)) out.splice(a.index, 0, a.id);
  return out;
}

describe('query diff', () => {
  it('removed then added (ascending index) turns the old list into the new one', () => {
    fc.assert(
      fc.property(idList, idList, (oldIds, newIds) => {
        const { removed, added } = diff(oldIds, newIds);
        expect(apply(oldIds, removed, added)).toEqual(newIds);
        // Minimal for unchanged lists; an id appears in added at most once.
        if (oldIds.join() === newIds.join()) expect(removed.length + added.length).toBe(0);
        expect(new Set(added.map((a) => a.id)).size).toBe(added.length);
      }),
    );
  });

  it('limited answers chain through intermediate states to the same result', () => {
    fc.assert(
      fc.property(idList, idList, fc.integer({ min: 1, max: 6 }), (oldIds, newIds, limit) => {
        const qs = new QueryStates(() => 'e', 1000);
        const asResult = (ids: string[]) => ({ ids, keys: ids.map((id) => Number(id.slice(1))), direction: 'asc' as const });
        const first = qs.changes('k', asResult(oldIds), '1', undefined, { limit, calculateTotal: false });
        let list = [...oldIds];
        let since = first.new_query_state;
        for (let guard = 0; guard < 200; guard++) {
          const c = qs.changes('k', asResult(newIds), '2', since, { limit, calculateTotal: true });
          expect(c.removed.length + c.added.length).toBeLessThanOrEqual(limit);
          expect(c.total).toBe(newIds.length);
          list = apply(list, c.removed, c.added);
          since = c.new_query_state;
          if (!c.has_more) break;
        }
        expect(list).toEqual(newIds);
      }),
    );
  });
});

type Op = { kind: 'create' | 'update' | 'destroy'; n: number };

describe('change log', () => {
  const ops = fc.array(fc.record({ kind: fc.constantFrom<Op['kind']>('create', 'update', 'destroy'), n: fc.integer({ min: 0, max: 12 }) }), { maxLength: 60 });

  it('paged changes replay to the same replica as one unpaged answer, with one list per id', () => {
    fc.assert(
      fc.property(ops, fc.integer({ min: 1, max: 5 }), (seq, limit) => {
        const log = new ChangeLog('x', 10_000);
        const live = new Set<string>(['m0', 'm1', 'm2']);
        const start = log.seqOf('messages');
        for (const op of seq) {
          const id = `m${op.n}`;
          if (op.kind === 'create' && !live.has(id)) {
            live.add(id);
            log.record('messages', id, 'created');
          } else if (op.kind === 'update' && live.has(id)) log.record('messages', id, 'updated');
          else if (op.kind === 'destroy' && live.has(id)) {
            live.delete(id);
            log.record('messages', id, 'destroyed');
          }
          log.record('folders', 'f1', 'updated');
        }
        const whole = log.changes('messages', start, 10_000);
        const all = [...whole.created, ...whole.updated, ...whole.destroyed];
        expect(new Set(all).size).toBe(all.length);
        const replica = new Set(['m0', 'm1', 'm2']);
        let since = start;
        for (let guard = 0; guard < 500; guard++) {
          const page = log.changes('messages', since, limit);
          for (const id of page.created) replica.add(id);
          for (const id of page.destroyed) replica.delete(id);
          const check = log.check('messages', page.new_state);
          expect(check.kind).toBe('ok');
          since = check.kind === 'ok' ? check.seq : since;
          if (!page.has_more) {
            expect(page.new_state).toBe(log.stateOf('messages'));
            break;
          }
        }
        expect(replica).toEqual(live);
        for (const id of whole.created) expect(['m0', 'm1', 'm2']).not.toContain(id);
        for (const id of whole.destroyed) expect(live.has(id)).toBe(false);
      }),
    );
  });

  it('expires per type when the bounded log drops that type\'s changes, and all types on expire()', () => {
    const log = new ChangeLog('x', 3);
    const m0 = log.stateOf('messages');
    const f0 = log.stateOf('folders');
    log.record('folders', 'f', 'updated');
    const f1 = log.stateOf('folders');
    for (let i = 0; i < 5; i++) log.record('messages', `m${i}`, 'updated');
    expect(log.check('messages', m0).kind).toBe('expired');
    expect(log.check('folders', f0).kind).toBe('expired');
    expect(log.check('folders', f1).kind).toBe('ok');
    expect(log.check('identities', log.stateOf('identities')).kind).toBe('ok');
    expect(log.check('messages', log.stateOf('folders')).kind).toBe('malformed');
    expect(log.check('messages', 'not a token!').kind).toBe('malformed');
    const current = log.stateOf('quotas');
    log.expire();
    expect(log.check('quotas', current).kind).toBe('expired');
    expect(log.check('quotas', log.stateOf('quotas')).kind).toBe('ok');
  });
});

describe('cursors and ranges', () => {
  it('pages through a sorted result exactly once, and rejects foreign or broken cursors', () => {
    const rows = Array.from({ length: 57 }, (_, i) => ({ id: `m${String(i).padStart(2, '0')}`, k: i % 7 }));
    const r = sortRecords(rows, (x) => x.k, (x) => x.id, 'desc');
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = pageOf(r, 'q1', cursor, 10);
      seen.push(...page.ids);
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(r.ids);
    const c = encodeCursor('q1', 3, 'm10');
    expect(decodeCursor(c, 'q1')).toEqual({ key: 3, id: 'm10' });
    expect(() => decodeCursor(c, 'q2')).toThrow(SimError);
    expect(() => decodeCursor('!!', 'q1')).toThrow(SimError);
    expect(() => decodeCursor(Buffer.from('{"q":1}').toString('base64url'), 'q1')).toThrow(SimError);
  });

  it('parses byte ranges and rejects unsatisfiable ones', () => {
    expect(parseRange('bytes=0-99', 1000)).toEqual({ start: 0, end: 99 });
    expect(parseRange('bytes=900-', 1000)).toEqual({ start: 900, end: 999 });
    expect(parseRange('bytes=-10', 1000)).toEqual({ start: 990, end: 999 });
    expect(parseRange('bytes=990-5000', 1000)).toEqual({ start: 990, end: 999 });
    for (const bad of ['bytes=1000-', 'bytes=5-1', 'bytes=-0', 'items=0-1', 'bytes=-', 'bytes=0-1,5-6']) {
      expect(() => parseRange(bad, 1000), bad).toThrow(SimError);
    }
  });
});
