// Network cost figures, counted by the simulator (sim.stats(): requests by route and
// response body bytes, headers not included):
// - requests_per_1000_changes / bytes_per_1000_changes: another device flags 1,000
//   messages; the engine syncs them;
// - idle_requests_per_hour / bytes_per_hour: an idle live engine vs the naive client
//   (re-list each folder's first page every poll interval) at the same interval.
import type { FigureDef } from '../lib/context.js';
import { firstValueFrom } from 'rxjs';
import { dispose, sleep } from '../lib/engine-run.js';
import { needParts } from '../lib/parts.js';
import type { Simulator } from '../lib/parts.js';
import { startNaivePoller } from '../lib/raw-client.js';
import type { FigureResult } from '../lib/report.js';
import { target, unavailable, value } from '../lib/report.js';
import { summarize } from '../lib/stats.js';
import { liveEngine } from './live.js';

const EVENTS_ROUTE = 'GET /mailbox/events';

function routeCount(sim: Simulator, pred: (route: string) => boolean): number {
  return Object.entries(sim.stats().byPath)
    .filter(([k]) => pred(k))
    .reduce((a, [, v]) => a + v, 0);
}

const CHANGES = 'Another device flags 1,000 messages; the engine brings them in (syncNow) — requests and response bytes';

export const changeCostFigure: FigureDef = {
  keys: ['requests_per_1000_changes', 'bytes_per_1000_changes'],
  async run(ctx) {
    const parts = await needParts(ctx, { engine: true });
    if (typeof parts === 'string') return this.keys.map((k) => unavailable(k, 'node', CHANGES, parts));
    const sim = await parts.sims.get({ seed: ctx.seed + 3, messages: 3_000, rateLimitPerMinute: 0 });
    const snap = await sim.snapshot();
    const ids = snap.messages.slice(0, 1000).map((m) => m.id);
    const flaggedAmongIds = snap.messages.slice(0, 1000).filter((m) => m.flags.flagged).length;
    const engine = await liveEngine(parts.engine!, sim);
    const reqs: number[] = [];
    const bytes: number[] = [];
    const changesCalls: number[] = [];
    const batchGets: number[] = [];
    let other: Record<string, number> = {};
    try {
      // Fresh count$ reads (not one live subscription): this figure is about the
      // network, and must not depend on a live view re-emitting.
      const flaggedNow = () => firstValueFrom(engine.count$({ flagged: true }));
      const base = await flaggedNow();
      for (let i = 0; i < ctx.reps(3, 2); i++) {
        const on = i % 2 === 0;
        await sleep(200); // let any in-flight pull settle before the counters reset
        sim.resetStats();
        await sim.control.setFlags(ids, { flagged: on });
        await engine.syncNow();
        // Every one of the 1,000 ends up flagged (on) or unflagged (off); the rest keep their flag.
        const expected = base - flaggedAmongIds + (on ? ids.length : 0);
        const t0 = performance.now();
        let now = await flaggedNow();
        while (now !== expected) {
          if (performance.now() - t0 > 30_000) throw new Error(`replica shows ${now} flagged messages, expected ${expected}, 30 s after syncNow()`);
          await sleep(20);
          now = await flaggedNow();
        }
        const st = sim.stats();
        const byPath = Object.fromEntries(Object.entries(st.byPath).filter(([k]) => k !== EVENTS_ROUTE));
        reqs.push(Object.values(byPath).reduce((a, b) => a + b, 0));
        bytes.push(st.bytesOut);
        changesCalls.push(routeCount(sim, (k) => k === 'GET /mailbox/changes' || k === 'GET /mailbox/messages/changes'));
        batchGets.push(routeCount(sim, (k) => k.includes('batch-get')));
        other = byPath;
      }
    } finally {
      await dispose(engine);
    }
    const r = summarize(reqs, 'requests');
    const b = summarize(bytes, 'bytes');
    const c = summarize(changesCalls, 'requests');
    const g = summarize(batchGets, 'requests');
    const note = `3,000-message mailbox; 1,000 messages flagged (then unflagged) in one control call; counted from the reset until a fresh count$({ flagged: true }) read shows the result (syncNow() resolved first). Routes in the last repetition: ${JSON.stringify(other)}. The SSE stream (${EVENTS_ROUTE}) is not counted as a request.`;
    const results: FigureResult[] = [
      {
        key: 'requests_per_1000_changes',
        status: 'ok',
        env: 'node',
        description: CHANGES,
        metrics: { requests: r, changes_calls: c, batch_get_calls: g },
        targets: [target('changes_calls', '<=', 2, c.max, 'worst repetition'), target('batch_get_calls', '<=', 10, g.max, 'worst repetition'), target('requests', '<=', 12, r.max, 'worst repetition')],
        notes: [note],
      },
      {
        key: 'bytes_per_1000_changes',
        status: 'ok',
        env: 'node',
        description: CHANGES,
        metrics: { bytes: b, bytes_per_change: value('bytes', b.median / 1000) },
        targets: [],
        notes: ['Response body bytes as the simulator wrote them (no headers, no compression).'],
      },
    ];
    return results;
  },
};

const IDLE = 'Idle live engine vs a naive client re-listing each folder\'s first page every poll interval: requests and response bytes, scaled to one hour';

export const idleFigure: FigureDef = {
  keys: ['idle_requests_per_hour', 'bytes_per_hour'],
  async run(ctx) {
    const parts = await needParts(ctx, { engine: true });
    if (typeof parts === 'string') return this.keys.map((k) => unavailable(k, 'node', IDLE, parts));
    const pollMs = ctx.quick ? 5_000 : 15_000;
    const windowMs = ctx.quick ? 15_000 : 120_000;
    // Two identical mailboxes so each client's traffic is counted on its own server.
    const messages = ctx.size(10_000, 5_000);
    const opts = { seed: ctx.seed + 4, messages, rateLimitPerMinute: 0 };
    const simA = await parts.sims.get(opts, 'idle-engine');
    const simB = await parts.sims.get(opts, 'idle-naive');
    const engine = await liveEngine(parts.engine!, simA, { poll: { visibleMs: pollMs } });
    const naive = startNaivePoller(simB.url, simB.apiKey, pollMs, 50);
    let engineStats;
    let naiveStats;
    try {
      await sleep(1_000);
      simA.resetStats();
      simB.resetStats();
      await sleep(windowMs);
      engineStats = simA.stats();
      naiveStats = simB.stats();
    } finally {
      await naive.stop();
      await dispose(engine);
    }
    const scale = 3_600_000 / windowMs;
    const engineReq = Object.entries(engineStats.byPath).filter(([k]) => k !== EVENTS_ROUTE).reduce((a, [, v]) => a + v, 0);
    const naiveReq = naiveStats.requests;
    const engineBytes = engineStats.bytesOut;
    const naiveBytes = naiveStats.bytesOut;
    const bytesRatio = engineBytes > 0 ? naiveBytes / engineBytes : Infinity;
    const notes = [
      `Measured over a ${windowMs / 1000} s window with the real intervals (poll ${pollMs} ms for both clients${ctx.quick ? '; --quick shortens the engine default of 15 000 ms' : ', the engine default while visible'}; SSE heartbeat at the interval the engine asks for with \`ping\`), then scaled x${scale} to one hour.`,
      `${messages}-message mailbox with the generator's 10 folders; the naive client fetches the folder list plus the newest 50 of every folder each interval. The engine's bytes include its SSE heartbeats; its open stream is not counted as a request.`,
    ];
    return [
      {
        key: 'idle_requests_per_hour',
        status: 'ok',
        env: 'node',
        description: IDLE,
        metrics: { engine: value('requests/h', engineReq * scale), naive: value('requests/h', naiveReq * scale), naive_over_engine: value('x', engineReq > 0 ? naiveReq / engineReq : Infinity) },
        targets: [],
        notes,
      },
      {
        key: 'bytes_per_hour',
        status: 'ok',
        env: 'node',
        description: IDLE,
        metrics: { engine: value('bytes/h', engineBytes * scale), naive: value('bytes/h', naiveBytes * scale), naive_over_engine: value('x', bytesRatio) },
        targets: [target('naive_over_engine', '>=', 10, bytesRatio, 'at least 10x fewer bytes than the naive client')],
        notes: [],
      },
    ];
  },
};
