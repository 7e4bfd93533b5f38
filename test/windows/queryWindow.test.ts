import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { diff } from '../../src/sim/querystate.js';
import { applyQueryChanges, localPredicate, windowKey } from '../../src/sync/queryWindow.js';

describe('applyQueryChanges (RFC 8620 §5.6)', () => {
  it('removes first, then inserts added ids in ascending index order', () => {
    expect(applyQueryChanges(['a', 'b', 'c', 'd'], { removed: ['b', 'd'], added: [{ id: 'x', index: 0 }, { id: 'y', index: 2 }] })).toEqual([
      'x', 'a', 'y', 'c',
    ]);
    // Added entries given out of order are still applied by index.
    expect(applyQueryChanges(['a'], { removed: [], added: [{ id: 'z', index: 2 }, { id: 'y', index: 1 }] })).toEqual(['a', 'y', 'z']);
  });

  it('is idempotent when the list already contains a change (a listing raced the state)', () => {
    const delta = { removed: ['b'], added: [{ id: 'n', index: 0 }] };
    const once = applyQueryChanges(['a', 'b', 'c'], delta);
    expect(applyQueryChanges(once, delta)).toEqual(once);
    // An added id already present elsewhere is moved, never duplicated.
    expect(applyQueryChanges(['a', 'n', 'c'], delta)).toEqual(['n', 'a', 'c']);
  });

  it('property: applying the server diff of two lists turns the old list into the new one', () => {
    const ids = fc.uniqueArray(fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz'.split('')), { maxLength: 20 });
    fc.assert(
      fc.property(ids, ids, (oldIds, newIds) => {
        expect(applyQueryChanges(oldIds, diff(oldIds, newIds))).toEqual(newIds);
      }),
      { seed: Number(process.env.FC_SEED ?? 7), numRuns: 500 },
    );
  });
});

describe('window keys and local predicates', () => {
  it('names equal filters the same regardless of key order or empty values', () => {
    const sort = { by: 'received_at' as const, direction: 'desc' as const };
    expect(windowKey({ q: 'x', is_unread: true }, sort)).toBe(windowKey({ is_unread: true, q: 'x', from: undefined }, sort));
    expect(windowKey({ q: 'x' }, sort)).not.toBe(windowKey({ q: 'x' }, { ...sort, direction: 'asc' }));
  });

  it('re-evaluates only what local mutations can change', () => {
    const m = {
      id: 'm', folder_ids: ['inbox'], keywords: ['$seen', 'work'], flags: { seen: true, flagged: false, draft: false, answered: false },
      subject: 'Quarterly report', size_bytes: 10, has_attachments: false,
    } as never;
    expect(localPredicate({ is_unread: true })(m)).toBe(false);
    expect(localPredicate({ folder_id: 'inbox', keyword: 'WORK' })(m)).toBe(true);
    expect(localPredicate({ folder_id: 'trash' })(m)).toBe(false);
    expect(localPredicate({ not_keyword: 'work' })(m)).toBe(false);
    // Server-only criteria are the server's call: never hidden locally.
    expect(localPredicate({ q: 'nothing like it', subject: 'zzz', min_size_bytes: 1e9 })(m)).toBe(true);
  });
});
