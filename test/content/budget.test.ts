// selectEvictions (pure): the LRU choice of the body and attachment caches, checked
// against its specification on seeded random inputs.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { selectEvictions } from '../../src/content/budget.js';
import type { EvictionCandidate } from '../../src/content/budget.js';
import { PinSet } from '../../src/content/pins.js';

const rowArb = fc.record({
  key: fc.string({ minLength: 1, maxLength: 6 }),
  message_id: fc.constantFrom('m1', 'm2', 'm3', 'm4', 'm5', 'm6'),
  bytes: fc.integer({ min: 0, max: 1000 }),
  last_used: fc.integer({ min: 0, max: 50 }),
});

describe('selectEvictions', () => {
  it('evicts nothing within budget', () => {
    expect(selectEvictions([{ key: 'a', message_id: 'm', bytes: 10, last_used: 1 }], 10, () => false)).toEqual([]);
  });

  it('fits the budget when it can, never evicts pinned, and evicts in LRU order only as much as needed (seeded)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(rowArb, { selector: (r) => r.key, maxLength: 30 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.subarray(['m1', 'm2', 'm3', 'm4', 'm5', 'm6']),
        (rows: EvictionCandidate[], budget, pinnedIds) => {
          const pinned = new Set(pinnedIds);
          const victims = selectEvictions(rows, budget, (id) => pinned.has(id));
          const victimSet = new Set(victims);
          const total = rows.reduce((n, r) => n + r.bytes, 0);
          const left = rows.filter((r) => !victimSet.has(r.key));
          const leftBytes = left.reduce((n, r) => n + r.bytes, 0);
          // Never a pinned entry.
          expect(rows.filter((r) => victimSet.has(r.key)).every((r) => !pinned.has(r.message_id))).toBe(true);
          if (total <= budget) expect(victims).toEqual([]);
          const pinnedBytes = rows.filter((r) => pinned.has(r.message_id)).reduce((n, r) => n + r.bytes, 0);
          // Fits whenever the pinned entries alone fit.
          if (pinnedBytes <= budget) expect(leftBytes).toBeLessThanOrEqual(budget);
          // LRU: every victim is at least as old as every unpinned survivor (ties broken by key).
          const order = (r: EvictionCandidate) => [r.last_used, r.key] as const;
          const older = (a: EvictionCandidate, b: EvictionCandidate) => order(a)[0] < order(b)[0] || (order(a)[0] === order(b)[0] && a.key < b.key);
          for (const v of rows.filter((r) => victimSet.has(r.key))) {
            for (const s of left.filter((r) => !pinned.has(r.message_id))) expect(older(v, s)).toBe(true);
          }
          // Minimal: without its last victim the cache would still be over budget.
          if (victims.length > 0) {
            const last = rows.find((r) => r.key === victims[victims.length - 1])!;
            expect(leftBytes + last.bytes).toBeGreaterThan(budget);
          }
        },
      ),
      { seed: 424242, numRuns: 500 },
    );
  });
});

describe('PinSet', () => {
  it('counts references per id', () => {
    const pins = new PinSet();
    pins.pin(['a', 'a', 'b']);
    pins.unpin(['a']);
    expect(pins.has('a')).toBe(true);
    pins.unpin(['a', 'b', 'c']);
    expect(pins.ids()).toEqual([]);
  });
});
