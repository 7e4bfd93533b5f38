// A 100k-message mailbox generates and lists completely (newest first, page by page)
// within the test budget. Timing lives in the bench, not here.
import { describe, expect, it } from 'vitest';
import { api, withSim, type Envelope } from '../helpers/sim.js';

describe('simulator at 100k messages', () => {
  it('generates 100k messages and lists every one exactly once, newest first', { timeout: 120_000 }, async () => {
    const sim = await withSim({ messages: 100_000, seed: 1, validateResponses: false, rateLimitPerMinute: 0 });
    const count = await api<Envelope<{ total: number }>>(sim, 'GET', '/mailbox/messages/count');
    expect(count.body.data.total).toBe(100_000);
    sim.resetStats();
    const seen = new Set<string>();
    let previous = Infinity;
    let outOfOrder = 0;
    let cursor: string | undefined;
    do {
      const r = await api<Envelope<Array<{ id: string; received_at: string }>>>(sim, 'GET', `/mailbox/messages?limit=100${cursor ? `&cursor=${cursor}` : ''}`);
      expect(r.status).toBe(200);
      for (const m of r.body.data) {
        const t = Date.parse(m.received_at);
        if (t > previous) outOfOrder += 1;
        previous = t;
        seen.add(m.id);
      }
      cursor = r.body.pagination?.next_cursor;
    } while (cursor);
    expect(outOfOrder).toBe(0);
    expect(seen.size).toBe(100_000);
    expect(sim.stats().byPath['GET /mailbox/messages']).toBe(1000);
    const folders = await api<Envelope<Array<{ total_messages: number }>>>(sim, 'GET', '/mailbox/folders');
    expect(folders.body.data.reduce((n, f) => n + f.total_messages, 0)).toBe(100_000);
  });
});
