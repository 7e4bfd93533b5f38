// heap_peak_mb (issue 9): the page's JS heap during a bootstrap in Chromium (the data
// lives in IndexedDB, so the heap should not grow with the mailbox). Sampled from
// Node over CDP (Runtime.getHeapUsage, every 50 ms) after a forced GC, for a small
// and a large mailbox.
import type { FigureDef } from '../lib/context.js';
import { needParts } from '../lib/parts.js';
import type { Metric } from '../lib/report.js';
import { target, unavailable, value } from '../lib/report.js';
import { summarize } from '../lib/stats.js';
import type { BrowserEngine } from '../browser/engine-entry.js';

const DESCRIPTION = 'Peak JS heap (CDP Runtime.getHeapUsage usedSize) of the page during an engine bootstrap in Chromium, small vs large mailbox';
const MB = 2 ** 20;
const SAMPLE_MS = 50;

export const heapFigure: FigureDef = {
  keys: ['heap_peak_mb'],
  async run(ctx) {
    const parts = await needParts(ctx, { engine: true });
    if (typeof parts === 'string') return [unavailable('heap_peak_mb', 'chromium', DESCRIPTION, parts)];
    const sizes = ctx.quick ? [1_000, 5_000] : [10_000, 100_000];
    const b = await ctx.browser();
    const file = await b.bundleFile('engine-entry.ts', 'engine');
    const metrics: Record<string, Metric> = {};
    const peaks: number[] = [];
    for (const n of sizes) {
      // Read-only use: shares the simulator of the other figures with the same mailbox.
      const sim = await parts.sims.get({ seed: ctx.seed, messages: n, rateLimitPerMinute: 0 });
      await b.load(file, '__benchEngine');
      b.setProxyTarget(new URL(sim.url).origin);
      const cdp = await b.cdp();
      try {
        await cdp.send('HeapProfiler.enable');
        await cdp.send('HeapProfiler.collectGarbage');
        const before = (await cdp.send('Runtime.getHeapUsage')).usedSize;
        const samples: number[] = [];
        let sampling = true;
        const sampler = (async () => {
          while (sampling) {
            samples.push((await cdp.send('Runtime.getHeapUsage')).usedSize);
            await new Promise((r) => setTimeout(r, SAMPLE_MS));
          }
        })();
        let result: { ms: number; count: number };
        try {
          result = await b.page.evaluate((apiKey) => (globalThis as unknown as { __benchEngine: BrowserEngine }).__benchEngine.bootstrap(apiKey), sim.apiKey);
        } finally {
          sampling = false;
          await sampler;
        }
        if (result.count !== n) throw new Error(`Chromium replica holds ${result.count} of ${n} messages`);
        const peak = Math.max(before, ...samples);
        peaks.push(peak / MB);
        const label = n >= 1000 ? `${n / 1000}k` : String(n);
        metrics[`peak_mb_${label}`] = value('MB', peak / MB);
        metrics[`before_mb_${label}`] = value('MB', before / MB);
        metrics[`heap_samples_mb_${label}`] = summarize(samples.map((x) => x / MB), 'MB');
        metrics[`bootstrap_s_${label}`] = value('s', result.ms / 1000);
        ctx.log(`  ${n} messages: heap before ${(before / MB).toFixed(1)} MB, peak ${(peak / MB).toFixed(1)} MB, bootstrap ${(result.ms / 1000).toFixed(1)} s (${samples.length} samples)`);
      } finally {
        b.setProxyTarget(null);
        await cdp.detach().catch(() => undefined);
      }
    }
    const large = peaks[1] ?? NaN;
    const growth = large / (peaks[0] ?? NaN);
    metrics.growth_large_over_small = value('x', growth);
    return [
      {
        key: 'heap_peak_mb',
        status: 'ok',
        env: 'chromium',
        description: DESCRIPTION,
        metrics,
        targets: [
          target(`peak at ${sizes[1]}`, '<=', 100, large),
          target('growth_large_over_small', '<=', 1.5, growth, `"flat as N grows": bench-defined bound for ${sizes[1]} vs ${sizes[0]} messages`),
        ],
        notes: [
          `Mailboxes of ${sizes.join(' and ')} messages${ctx.quick ? ' (--quick; the full run uses 10k and 100k)' : ''}, one bootstrap each in a fresh page (events off, so start() ends the run). usedSize includes the bench page and the bundle (engine, Dexie, RxJS); "before" is after a forced GC.`,
          `Sampling every ${SAMPLE_MS} ms over CDP can miss a short spike between samples; the bootstrap time in Chromium is recorded alongside (bootstrap_s_*).`,
        ],
      },
    ];
  },
};
