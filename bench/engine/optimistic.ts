// optimistic_ms, shared by the Node run and the Chromium bundle: update() of k ids →
// the messages$ page (newest 50 of the folder) shows the new flags, and count$ (the
// folder's unread count) shows the new number. The clock starts right before
// update() is called; update() itself resolves only when the server acknowledged, so
// it is awaited after the measurement, before the next sample.
import type { MailboxSync } from '../../src/index.js';
import { Watch } from './watch.js';

type Row = { id: string; flags: { seen: boolean } };

export interface OptimisticSamples {
  /** k → ms until messages$ emitted the change. */
  messages: Record<number, number[]>;
  /** k → ms until count$ emitted the new unread count. */
  count: Record<number, number[]>;
  /** k → samples in which count$ did not emit the new count within COUNT_WAIT_MS. */
  countMissed: Record<number, number>;
}

/** How long to wait for count$ before recording a miss (generous: a loaded machine is slow, not broken). */
export const COUNT_WAIT_MS = 5_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function measureOptimistic(engine: MailboxSync, folderId: string, sizes: readonly number[], samples: number, warmup = 2): Promise<OptimisticSamples> {
  const maxK = Math.max(...sizes);
  const page = new Watch(engine.messages$({ folderId, limit: 50 }));
  const state = new Watch(engine.messages$({ folderId, limit: maxK }));
  const unread = new Watch(engine.count$({ folderId, unread: true }));
  const out: OptimisticSamples = { messages: {}, count: {}, countMissed: {} };
  try {
    const all = (await state.until((r) => r.length >= maxK, 30_000, `${maxK} folder rows`)).value as Row[];
    await page.until((r) => r.length > 0, 30_000, 'page rows');
    await unread.until(() => true, 30_000, 'unread count');
    for (const k of sizes) {
      out.messages[k] = [];
      out.count[k] = [];
      out.countMissed[k] = 0;
      const ids = all.slice(0, k).map((m) => m.id);
      const idSet = new Set(ids);
      for (let i = 0; i < warmup + samples; i++) {
        const rows = state.latest as Row[];
        const current = rows.filter((m) => idSet.has(m.id));
        const seen = !(current[0]?.flags.seen ?? false);
        const unreadAmongIds = current.filter((m) => !m.flags.seen).length;
        const expectedUnread = (unread.latest as number) - unreadAmongIds + (seen ? 0 : k);
        const pageDone = page.until((r) => (r as Row[]).every((m) => !idSet.has(m.id) || m.flags.seen === seen), 10_000, 'page shows the update');
        // After three misses in a row with no hit, count$ is taken as not re-emitting
        // for this size; the remaining samples are recorded as misses without waiting.
        const countBroken = out.countMissed[k]! >= 3 && out.count[k]!.length === 0;
        const countDone = countBroken ? Promise.resolve(null) : unread.until((c) => c === expectedUnread, COUNT_WAIT_MS, `unread count ${expectedUnread}`).catch(() => null);
        const stateDone = state.until((r) => (r as Row[]).every((m) => !idSet.has(m.id) || m.flags.seen === seen), 10_000, 'state rows');
        const t0 = performance.now();
        const acked = engine.update(ids, { seen });
        const [p, c] = await Promise.all([pageDone, countDone, stateDone]);
        if (i >= warmup) {
          out.messages[k]!.push(p.at - t0);
          if (c) out.count[k]!.push(c.at - t0);
          else out.countMissed[k]!++;
        }
        await acked;
        await sleep(20);
      }
    }
  } finally {
    page.close();
    state.close();
    unread.close();
  }
  return out;
}
