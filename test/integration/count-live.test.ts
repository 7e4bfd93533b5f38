// Regression (found by the bench): a live count$ in Node missed a 100-id optimistic
// update (the overlay's 50+-row writes were observed as a range excluding compound keys).
import { testStore } from '../helpers/storage.js';
import { it } from 'vitest';
import { createMailboxSync } from '../../src/index.js';
import { startSimulator } from '../../src/sim/index.js';
import { eventually } from '../engine/helpers.js';

it('regression: a live count$ of unread follows a 100-id optimistic update', async () => {
  const sim = await startSimulator({ port: 0, seed: 4, messages: 400, rateLimitPerMinute: 0 });
  const sync = createMailboxSync({ apiKey: sim.apiKey, baseUrl: sim.url, ...testStore().options, dbName: 'cl', leader: 'always', events: false, content: { prefetch: false } });
  try {
    await sync.start();
    const inbox = (await sim.snapshot()).folders.find((f) => f.role === 'inbox')!.id;
    const counts: number[] = [];
    sync.count$({ folderId: inbox, unread: true }).subscribe((n) => counts.push(n));
    const read = (await sim.snapshot()).messages.filter((m) => m.folder_ids.includes(inbox) && m.flags.seen).slice(0, 100).map((m) => m.id);
    await eventually(() => counts.length > 0, 5_000, 'first count');
    const before = counts.at(-1)!;
    void sync.update(read, { seen: false });
    await eventually(() => counts.at(-1) === before + read.length, 5_000, `count ${before} + ${read.length} (saw ${counts})`);
    // And back: rows leaving the unread range must be noticed too.
    void sync.update(read, { seen: true });
    await eventually(() => counts.at(-1) === before, 5_000, `count back to ${before} (saw ${counts})`);
  } finally {
    await sync.stop();
    await sim.close();
  }
});
