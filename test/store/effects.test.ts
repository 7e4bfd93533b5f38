// PendingEffects (src/store/effects.ts): this engine's pending update() calls in memory.
import { describe, expect, it } from 'vitest';
import { PendingEffects } from '../../src/store/effects.js';
import { message } from './fixtures.js';

describe('PendingEffects', () => {
  it('applies updates in call order, leaves other records as they are, and drops each once', () => {
    const fx = new PendingEffects();
    const versions: number[] = [];
    const sub = fx.changes$.subscribe((v) => versions.push(v));
    const a = message({ id: 'a' });
    const b = message({ id: 'b' });
    expect(fx.apply(a)).toBe(a);
    const dropRead = fx.add(['a'], { seen: true });
    const dropUnread = fx.add(['a'], { seen: false, flagged: true });
    expect(fx.apply(a).flags).toMatchObject({ seen: false, flagged: true });
    expect(fx.apply(b)).toBe(b);
    expect([...fx.ids()]).toEqual(['a']);
    const readBeforeEnd = fx.version;
    dropUnread();
    expect(fx.apply(a).flags).toMatchObject({ seen: true, flagged: false });
    dropUnread();
    dropRead();
    expect(fx.emptyFor()).toBe(true);
    expect(fx.apply(a)).toBe(a);
    // A read that started before they ended (a view not re-read since) still shows them.
    expect(fx.apply(a, readBeforeEnd).flags).toMatchObject({ seen: false, flagged: true });
    expect([...fx.ids(readBeforeEnd)]).toEqual(['a']);
    // One version per add and per effective end.
    expect(versions).toEqual([0, 1, 2, 3, 4]);
    sub.unsubscribe();
  });

  it('ends a refused effect for every read, and forgets acknowledged ones after a minute', () => {
    let now = 0;
    const fx = new PendingEffects(() => now);
    const a = message({ id: 'a' });
    const b = message({ id: 'b' });
    const early = fx.version;
    fx.add(['a', 'b'], { flagged: true })(['b']);
    expect(fx.apply(a, early).flags.flagged).toBe(true);
    expect(fx.apply(b, early)).toBe(b);
    fx.add(['b'], { seen: true })('all');
    expect(fx.apply(b, early)).toBe(b);
    now = 61_000;
    fx.add(['c'], { seen: true });
    expect(fx.apply(a, early)).toBe(a);
  });

  it('gives counter deltas against the records as read: none for a record that already holds the effect', () => {
    const fx = new PendingEffects();
    const unread = message({ id: 'u', folder_ids: ['inbox'], thread_id: 't' });
    fx.add(['u'], { seen: true });
    const wasUnread = { ...unread, flags: { ...unread.flags, seen: false } };
    expect(fx.delta([wasUnread]).folders.get('inbox')).toEqual({ total: 0, unread: -1 });
    expect(fx.delta([wasUnread]).threads.get('t')).toEqual({ count: 0, unread: -1 });
    const alreadyRead = fx.apply(wasUnread);
    expect(fx.delta([alreadyRead]).folders.get('inbox') ?? { total: 0, unread: 0 }).toEqual({ total: 0, unread: 0 });
  });

  it('remembers the records views read, the newest 5,000', () => {
    const fx = new PendingEffects();
    fx.remember(Array.from({ length: 6_000 }, (_, i) => message({ id: `m${i}` })));
    expect(fx.remembered('m0')).toBeUndefined();
    expect(fx.remembered('m999')).toBeUndefined();
    expect(fx.remembered('m1000')?.id).toBe('m1000');
    // Read again: kept as the newest.
    fx.remember([message({ id: 'm1000', subject: 'again' })]);
    fx.remember(Array.from({ length: 4_999 }, (_, i) => message({ id: `n${i}` })));
    expect(fx.remembered('m1000')?.subject).toBe('again');
    expect(fx.remembered('m1001')).toBeUndefined();
  });
});
