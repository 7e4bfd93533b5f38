// search$: local hits at once, server hits merged as they arrive, de-duplicated.
import { firstValueFrom, filter as where, timeout, Subject } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { createSearchViews, searchLocal } from '../../src/reactive/search.js';
import { createWindowManager } from '../../src/sync/windows.js';
import { engine, sim } from '../engine/helpers.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe('search$', () => {
  it('shows local hits before the server answers, then merges server hits without duplicates', async () => {
    const s = await sim({ messages: 1_200 });
    cleanup.push(() => s.close());
    const { id: unique } = await s.control.deliver({ subject: 'Zanzibar itinerary', text: 'flights' });
    const { id: bodyOnly } = await s.control.deliver({ subject: 'Plans', text: `${'Some long preamble about logistics. '.repeat(30)}We fly to zanzibar next week.` });

    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const searches: string[] = [];
    const gated: typeof fetch = async (input, init) => {
      if (String(input).toLowerCase().includes('q=zanzibar')) {
        searches.push(String(input));
        await gate;
      }
      return fetch(input, init);
    };
    const e = engine(s, { fetch: gated, events: false });
    const until = new Subject<void>();
    cleanup.push(async () => {
      release();
      until.next();
      await e.sync.stop();
    });
    await e.sync.start();
    const ctx = await e.context;
    const wm = createWindowManager(ctx, { until });
    const views = createSearchViews({ db: Promise.resolve(ctx.db), window$: wm.window$, until });

    const search = views.search$('Zanzibar');
    const early = await firstValueFrom(search.pipe(where((st) => st.localHits > 0), timeout(10_000)));
    expect(early.server).toBe('loading');
    expect(early.hits.map((m) => m.id)).toContain(unique);
    // The body-only match is past the preview: only the server finds it.
    expect((await ctx.db.messages.get(bodyOnly))?.preview?.toLowerCase()).not.toContain('zanzibar');
    expect(early.hits.map((m) => m.id)).not.toContain(bodyOnly);
    await expect.poll(() => searches.length).toBeGreaterThan(0);

    release();
    const merged = await firstValueFrom(search.pipe(where((st) => st.server === 'ready'), timeout(10_000)));
    const ids = merged.hits.map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids[0]).toBe(unique);
    expect(ids).toContain(bodyOnly);
    expect(merged.localHits).toBe(1);
  });

  it('reads the replica newest first in bounded chunks and honours scanLimit', async () => {
    const s = await sim({ messages: 1_200 });
    cleanup.push(() => s.close());
    const e = engine(s, { events: false });
    cleanup.push(() => e.sync.stop());
    await e.sync.start();
    const db = (await e.context).db;
    const all = (await s.snapshot()).messages;
    const oldest = [...all].sort((a, b) => (a.received_at ?? '').localeCompare(b.received_at ?? ''))[0]!;
    const word = (oldest.subject ?? '').split(/\s+/).find((w) => w.length > 3)!;
    const deep = await searchLocal(db, `${word} ${oldest.from?.email ?? ''}`, { limit: 5_000, scanLimit: 10_000 });
    expect(deep.map((m) => m.id)).toContain(oldest.id);
    const shallow = await searchLocal(db, `${word} ${oldest.from?.email ?? ''}`, { limit: 5_000, scanLimit: 500 });
    expect(shallow.map((m) => m.id)).not.toContain(oldest.id);
    // Newest first.
    const times = deep.map((m) => Date.parse(m.received_at ?? '') || 0);
    expect([...times].sort((a, b) => b - a)).toEqual(times);
  });
});
