import { testStore } from '../helpers/storage.js';
// Regression (found by the bench): a view subscribed before start() stayed empty in
// Node because the bootstrap's 50+-row pages did not wake compound-index live queries.
import { it } from 'vitest';
import { createMailboxSync } from '../../src/index.js';
import { startSimulator } from '../../src/sim/index.js';
import { eventually } from '../engine/helpers.js';

for (const folder of [false, true])
  it(`regression: a view subscribed before start() shows the bootstrapped rows without further writes (folder ${folder})`, async () => {
    const sim = await startSimulator({ port: 0, seed: 2, messages: 80, rateLimitPerMinute: 0 });
    const sync = createMailboxSync({ apiKey: sim.apiKey, baseUrl: sim.url, ...testStore().options, dbName: 'early', leader: 'always', events: false, content: { prefetch: false } });
    const inbox = (await sim.snapshot()).folders.find((f) => f.role === 'inbox')!.id;
    const seen: number[] = [];
    sync.messages$({ ...(folder ? { folderId: inbox } : {}), limit: 50 }).subscribe((ms) => seen.push(ms.length));
    await sync.start();
    try {
      await eventually(() => (seen.at(-1) ?? 0) > 0, 5_000, `rows (seen ${seen})`);
    } finally {
      await sync.stop();
      await sim.close();
    }
  });
