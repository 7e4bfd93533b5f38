// The hooks' external stores (src/react/store.ts) without React: what
// useSyncExternalStore relies on (stable snapshots, one shared subscription per key,
// reference counting) and the stable keys that let fresh query objects share a store.
import { Subject, defer, finalize, throwError } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { StoreCache, WAITING, stableKey } from '../../src/react/store.js';

function source() {
  const subject = new Subject<number[]>();
  let subscribed = 0;
  let made = 0;
  const make = () => {
    made++;
    return defer(() => {
      subscribed++;
      return subject.pipe(finalize(() => subscribed--));
    });
  };
  return { subject, make, subscribed: () => subscribed, made: () => made };
}

describe('stableKey', () => {
  it('ignores key order and undefined members, and keeps values apart', () => {
    expect(stableKey({ folderId: 'a', limit: 5 })).toBe(stableKey({ limit: 5, folderId: 'a', unread: undefined }));
    expect(stableKey(['messages', { a: { y: 1, x: 2 } }])).toBe(stableKey(['messages', { a: { x: 2, y: 1 } }]));
    expect(stableKey({ limit: 5 })).not.toBe(stableKey({ limit: '5' }));
    expect(stableKey(['message', 'a'])).not.toBe(stableKey(['message', 'b']));
    expect(stableKey({ at: new Date(0) })).toBe(stableKey({ at: '1970-01-01T00:00:00.000Z' }));
    // A `__proto__` key is data, not a prototype write that would drop it.
    expect(stableKey(JSON.parse('{"__proto__":{"x":1}}'))).not.toBe(stableKey({}));
  });
});

describe('StoreCache', () => {
  it('returns the same store for an owner and key, and separate ones per owner', () => {
    const cache = new StoreCache();
    const a = {};
    const s = source();
    expect(cache.get(a, 'k', s.make)).toBe(cache.get(a, 'k', s.make));
    expect(cache.get({}, 'k', s.make)).not.toBe(cache.get(a, 'k', s.make));
    expect(s.made()).toBe(0); // looking a store up does not subscribe
  });

  it('keeps the snapshot reference until the observable emits', () => {
    const cache = new StoreCache();
    const s = source();
    const store = cache.get({}, 'k', s.make);
    expect(store.getSnapshot()).toBe(WAITING);
    const off = store.subscribe(() => undefined);
    expect(store.getSnapshot()).toBe(WAITING);
    s.subject.next([1]);
    const first = store.getSnapshot();
    expect(first).toEqual({ kind: 'value', value: [1] });
    expect(store.getSnapshot()).toBe(first);
    s.subject.next([1, 2]);
    expect(store.getSnapshot()).not.toBe(first);
    off();
  });

  it('shares one subscription among listeners and ends it with the last one; a later subscriber starts afresh', () => {
    const cache = new StoreCache();
    const owner = {};
    const s = source();
    const store = cache.get(owner, 'k', s.make);
    const calls: string[] = [];
    const offA = store.subscribe(() => calls.push('a'));
    const offB = store.subscribe(() => calls.push('b'));
    expect(s.subscribed()).toBe(1);
    s.subject.next([1]);
    expect(calls).toEqual(['a', 'b']);
    offA();
    offA(); // twice is harmless
    expect(s.subscribed()).toBe(1);
    offB();
    expect(s.subscribed()).toBe(0);
    expect(cache.size(owner)).toBe(0);
    expect(store.getSnapshot()).toBe(WAITING); // no stale value for the next subscriber
    // StrictMode re-runs the effect with the same store: it subscribes again and rejoins the cache.
    const offC = store.subscribe(() => undefined);
    expect(s.subscribed()).toBe(1);
    expect(cache.get(owner, 'k', s.make)).toBe(store);
    offC();
  });

  it('holds an error as the snapshot (no unhandled error), and retries after the last subscriber left', () => {
    const cache = new StoreCache();
    let attempts = 0;
    const store = cache.get({}, 'k', () => {
      attempts++;
      return throwError(() => new Error('broken'));
    });
    const off = store.subscribe(() => undefined);
    expect(store.getSnapshot()).toMatchObject({ kind: 'error', error: new Error('broken') });
    off();
    store.subscribe(() => undefined);
    expect(attempts).toBe(2);
  });

  it('a view that throws on creation fails like one that errors', () => {
    const store = new StoreCache().get({}, 'k', () => {
      throw new TypeError('bad id');
    });
    store.subscribe(() => undefined);
    expect(store.getSnapshot()).toMatchObject({ kind: 'error', error: new TypeError('bad id') });
  });

  it('keeps at most 64 stores that renders created but never subscribed', () => {
    const cache = new StoreCache();
    const owner = {};
    const s = source();
    for (let i = 0; i < 200; i++) cache.get(owner, `k${i}`, s.make);
    expect(cache.size(owner)).toBe(64);
  });
});
