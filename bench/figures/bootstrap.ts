// bootstrap_100k and bootstrap_ratio (issue 9): the engine bootstraps an N-message
// mailbox from an empty replica (start() resolves once caught up), side by side
// with the raw limit measured in the same run: every page of every replicated type
// listed over HTTP with plain fetch, then one Dexie bulkPut per type.
import { firstValueFrom } from 'rxjs';
import type { FigureDef } from '../lib/context.js';
import { dispose, newEngine } from '../lib/engine-run.js';
import type { NodeReplica } from '../lib/engine-run.js';
import { needParts, nodeIdb } from '../lib/parts.js';
import type { Engine } from '../lib/parts.js';
import { rawDexiePut, rawListAll } from '../lib/raw-client.js';
import type { FigureResult } from '../lib/report.js';
import { target, unavailable, value } from '../lib/report.js';
import { summarize } from '../lib/stats.js';

/** Key under ctx.shared of the last bootstrapped Node replica (reused by folder_page_ms). */
export const SHARED_REPLICA = 'bootstrap:replica';

export interface SharedReplica extends NodeReplica {
  messages: number;
  simOptions: { seed: number; messages: number; rateLimitPerMinute: number };
}

const DESCRIPTION = 'Engine bootstrap of an N-message mailbox into an empty fake-indexeddb replica (Node), vs raw HTTP listing of all pages + raw Dexie bulkPut';

export const bootstrapFigure: FigureDef = {
  keys: ['bootstrap_100k', 'bootstrap_ratio'],
  async run(ctx) {
    const parts = await needParts(ctx, { engine: true });
    if (typeof parts === 'string') return [unavailable('bootstrap_100k', 'node', DESCRIPTION, parts), unavailable('bootstrap_ratio', 'node', DESCRIPTION, parts)];
    const factory = parts.engine!;
    const n = ctx.size(100_000, 5_000);
    const reps = ctx.reps(2, 2);
    const simOptions = { seed: ctx.seed, messages: n, rateLimitPerMinute: 0 };
    const sim = await parts.sims.get(simOptions);
    const engineMs: number[] = [];
    const listMs: number[] = [];
    const putMs: number[] = [];
    let listing = { requests: 0, bytes: 0 };
    let engineRequests = 0;
    const notes: string[] = [`engine: ${factory.source}`];
    for (let i = 0; i < reps; i++) {
      // Raw limit first, then the engine, alternating per repetition.
      const raw = await rawListAll(sim.url, sim.apiKey);
      listing = { requests: raw.requests, bytes: raw.bytes };
      listMs.push(raw.ms);
      putMs.push(await rawDexiePut(nodeIdb(), `bench-raw-${process.pid}-${i}`, raw.records));
      const got = raw.records['messages']?.length ?? 0;
      if (got !== n) throw new Error(`raw listing returned ${got} of ${n} messages`);

      sim.resetStats();
      const { engine, replica } = newEngine(factory, sim);
      const t0 = performance.now();
      await engine.start();
      engineMs.push(performance.now() - t0);
      engineRequests = sim.stats().requests;
      const count = await firstValueFrom(engine.count$({}));
      if (count !== n) throw new Error(`engine replica holds ${count} of ${n} messages after start()`);
      ctx.log(`  rep ${i + 1}/${reps}: engine ${(engineMs[i]! / 1000).toFixed(1)} s (${engineRequests} requests); raw list ${(listMs[i]! / 1000).toFixed(1)} s (${raw.requests} requests) + bulkPut ${(putMs[i]! / 1000).toFixed(1)} s`);
      if (i === reps - 1) {
        await engine.stop();
        const shared: SharedReplica = { ...replica, messages: n, simOptions };
        ctx.shared.set(SHARED_REPLICA, shared);
      } else {
        await dispose(engine as Engine);
      }
    }
    const baseline = listMs.map((l, i) => l + (putMs[i] ?? 0));
    const engineS = summarize(engineMs.map((x) => x / 1000), 's');
    const baseS = summarize(baseline.map((x) => x / 1000), 's');
    const ratio = engineS.median / baseS.median;
    if (n !== 100_000) notes.push(`--quick: ${n} messages instead of 100k.`);
    notes.push(
      'Node, fake-indexeddb, simulator on loopback in the same process, rate limiting off. start() resolves when the replica has caught up once (bootstrap + changes since the pre-listing tokens).',
      `The raw limit lists every page (limit 100) of folders, messages, threads, identities, submissions and quotas sequentially with plain fetch (${listing.requests} requests, ${(listing.bytes / 2 ** 20).toFixed(1)} MiB), then bulkPuts each type into a primary-key-only table; it writes no secondary index, which the engine's replica must.`,
    );
    const results: FigureResult[] = [
      {
        key: 'bootstrap_100k',
        status: 'ok',
        env: 'node',
        description: DESCRIPTION,
        metrics: { engine_bootstrap_s: engineS, messages: value('count', n), engine_requests: value('count', engineRequests) },
        targets: [],
        notes,
      },
      {
        key: 'bootstrap_ratio',
        status: 'ok',
        env: 'node',
        description: 'bootstrap_100k / (raw listing + raw Dexie bulkPut), medians of the same run',
        metrics: {
          ratio: value('x', ratio),
          raw_total_s: baseS,
          raw_listing_s: summarize(listMs.map((x) => x / 1000), 's'),
          raw_bulkput_s: summarize(putMs.map((x) => x / 1000), 's'),
          raw_requests: value('count', listing.requests),
        },
        targets: [target('ratio', '<=', 1.3, ratio)],
        notes: [],
      },
    ];
    return results;
  },
};
