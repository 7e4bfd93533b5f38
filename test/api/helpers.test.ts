// Small pieces: Idempotency-Key generation and the ETag LRU's bounds.
import { describe, expect, it } from 'vitest';
import { newIdempotencyKey } from '../../src/api/index.js';
import { EtagCache } from '../../src/api/etagCache.js';
import { seeded } from './fakeFetch.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('newIdempotencyKey', () => {
  it('returns distinct UUID v4 keys (1–255 chars, docs/idempotency.md)', () => {
    const keys = new Set(Array.from({ length: 200 }, () => newIdempotencyKey()));
    expect(keys.size).toBe(200);
    for (const k of keys) expect(k).toMatch(UUID_V4);
  });

  it('is deterministic with an injected random source', () => {
    const a = newIdempotencyKey(seeded(7));
    expect(a).toMatch(UUID_V4);
    expect(newIdempotencyKey(seeded(7))).toBe(a);
    expect(newIdempotencyKey(seeded(8))).not.toBe(a);
  });
});

describe('EtagCache', () => {
  const entry = (etag: string, size = 1) => ({ etag, size, response: { data: etag, meta: { request_id: '' }, status: 200 } });

  it('evicts the least recently used entry beyond maxEntries', () => {
    const c = new EtagCache(2);
    c.set('a', entry('1'));
    c.set('b', entry('2'));
    expect(c.get('a')?.etag).toBe('1'); // a is now most recent
    c.set('c', entry('3'));
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')?.etag).toBe('1');
    expect(c.get('c')?.etag).toBe('3');
  });

  it('keeps the summed size within maxSize and skips entries larger than the budget', () => {
    const c = new EtagCache(100, 10);
    c.set('a', entry('1', 4));
    c.set('b', entry('2', 4));
    c.set('c', entry('3', 4)); // 12 > 10: evicts a
    expect(c.get('a')).toBeUndefined();
    expect(c.totalSize).toBe(8);
    c.set('huge', entry('4', 11));
    expect(c.get('huge')).toBeUndefined();
    c.set('b', entry('2b', 1)); // replacing adjusts the total
    expect(c.totalSize).toBe(5);
    c.delete('c');
    expect(c.totalSize).toBe(1);
    c.clear();
    expect(c.size).toBe(0);
    expect(c.totalSize).toBe(0);
  });

  it('size 0 disables caching', () => {
    const c = new EtagCache(0);
    c.set('a', entry('1'));
    expect(c.size).toBe(0);
  });
});
