// optimistic_ms (issue 9): update() of 1 and of 100 ids → messages$ / count$ emission,
// in Node (fake-indexeddb) and in Chromium (real IndexedDB; the target is there).
import type { FigureDef } from '../lib/context.js';
import { dispose, inboxOf } from '../lib/engine-run.js';
import { needParts } from '../lib/parts.js';
import type { Metric, Target } from '../lib/report.js';
import { target, unavailable, value } from '../lib/report.js';
import { summarize } from '../lib/stats.js';
import type { BrowserEngine } from '../browser/engine-entry.js';
import { measureOptimistic } from '../engine/optimistic.js';
import { COUNT_WAIT_MS } from '../engine/optimistic.js';
import type { OptimisticSamples } from '../engine/optimistic.js';
import { liveEngine } from './live.js';

const SIZES = [1, 100];
const DESCRIPTION = 'update() of 1 and of 100 ids → messages$ (newest 50 of the inbox) and count$ (inbox unread) emit the change; before any server round trip';

function metricsOf(s: OptimisticSamples): { metrics: Record<string, Metric>; worstP99: number; missed: number } {
  const metrics: Record<string, Metric> = {};
  let worstP99 = 0;
  let missed = 0;
  for (const k of SIZES) {
    const m = summarize(s.messages[k] ?? [], 'ms', true);
    metrics[`messages_${k}_ids_ms`] = m;
    worstP99 = Math.max(worstP99, m.p99 ?? 0);
    const counts = s.count[k] ?? [];
    if (counts.length > 0) {
      const c = summarize(counts, 'ms', true);
      metrics[`count_${k}_ids_ms`] = c;
      worstP99 = Math.max(worstP99, c.p99 ?? 0);
    }
    metrics[`count_${k}_ids_missed`] = value('samples', s.countMissed[k] ?? 0);
    missed += s.countMissed[k] ?? 0;
  }
  return { metrics, worstP99, missed };
}

export const optimisticFigure: FigureDef = {
  keys: ['optimistic_ms'],
  async run(ctx) {
    const parts = await needParts(ctx, { engine: true });
    if (typeof parts === 'string') return [unavailable('optimistic_ms', 'node+chromium', DESCRIPTION, parts)];
    const sim = await parts.sims.get({ seed: ctx.seed + 5, messages: 2_000, rateLimitPerMinute: 0 });
    const inbox = await inboxOf(sim);
    const samples = ctx.reps(40, 8);

    const metrics: Record<string, Metric> = {};
    const targets: Target[] = [];
    const notes: string[] = [];
    const envs: string[] = [];

    try {
      const b = await ctx.browser();
      const file = await b.bundleFile('engine-entry.ts', 'engine');
      await b.load(file, '__benchEngine');
      b.setProxyTarget(new URL(sim.url).origin);
      try {
        const chromium = await b.page.evaluate(
          ({ apiKey, folderId, sizes, samples }) => (globalThis as unknown as { __benchEngine: BrowserEngine }).__benchEngine.optimistic(apiKey, folderId, sizes, samples),
          { apiKey: sim.apiKey, folderId: inbox.id, sizes: SIZES, samples },
        );
        const c = metricsOf(chromium);
        for (const [k, v] of Object.entries(c.metrics)) metrics[`chromium.${k}`] = v;
        targets.push(target('chromium worst p99', '<=', 16, c.worstP99, 'worst p99 over {1, 100} ids x {messages$, count$} in Chromium'));
        if (c.missed > 0) {
          targets.push({ metric: 'chromium count$ emissions', op: '==', limit: 0, actual: c.missed, met: false, note: `count$ did not show the new unread count within ${COUNT_WAIT_MS} ms` });
        }
        envs.push('chromium');
      } finally {
        b.setProxyTarget(null);
      }
    } catch (e) {
      notes.push(`Chromium measurement failed: ${e instanceof Error ? e.message : String(e)}`);
    }

    try {
      const engine = await liveEngine(parts.engine!, sim);
      try {
        const n = metricsOf(await measureOptimistic(engine, inbox.id, SIZES, samples));
        for (const [k, v] of Object.entries(n.metrics)) metrics[`node.${k}`] = v;
        if (n.missed > 0) targets.push({ metric: 'node count$ emissions', op: '==', limit: 0, actual: n.missed, met: false, note: `count$ did not show the new unread count within ${COUNT_WAIT_MS} ms` });
        envs.push('node');
      } finally {
        await dispose(engine);
      }
    } catch (e) {
      notes.push(`Node measurement failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (envs.length === 0) throw new Error(notes.join(' / '));
    return [
      {
        key: 'optimistic_ms',
        status: 'ok',
        env: envs.join('+'),
        description: DESCRIPTION,
        metrics,
        targets,
        notes: [
          ...notes,
          `${samples} samples per size after 2 warm-up ones, alternating seen true/false on the newest 1 or 100 inbox messages of a 2,000-message mailbox; each update() is awaited (server ack) before the next sample.`,
          'The clock starts right before update() and stops at the emission (stamped in the subscriber). Both engines are live (SSE connected) against the simulator; Chromium reaches it through the harness origin\'s proxy.',
        ],
      },
    ];
  },
};
