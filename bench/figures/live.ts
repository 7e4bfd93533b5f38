// Latency figures of a running engine in Node (fake-indexeddb), against the
// simulator on loopback in the same process:
// - first_rows_ms: start() on an empty replica → first 50 inbox rows from messages$;
// - push_latency_ms: simulator delivers → messages$ shows it (SSE path);
// - remote_change_latency_ms: another device flags a message → messages$ shows it
//   (changes polling; the interval is stated).
import type { BrowserEngine } from '../browser/engine-entry.js';
import { measureFirstRows } from '../engine/first-rows.js';
import type { FirstRows } from '../engine/first-rows.js';
import type { FigureDef } from '../lib/context.js';
import { Watch, dispose, inboxOf, newEngine, sleep, waitFor } from '../lib/engine-run.js';
import { needParts } from '../lib/parts.js';
import type { Engine, EngineFactory, Simulator } from '../lib/parts.js';
import type { FigureResult, Metric, Target } from '../lib/report.js';
import { target, unavailable, value } from '../lib/report.js';
import { summarize } from '../lib/stats.js';

type Message = { id: string; subject: string | null; flags: { flagged: boolean } };

/** Starts an engine and waits until it is live with the SSE stream connected. */
export async function liveEngine(factory: EngineFactory, sim: Simulator, extra: Parameters<typeof newEngine>[2] = {}): Promise<Engine> {
  const { engine } = newEngine(factory, sim, extra);
  await engine.start();
  if (extra.events !== false) await waitFor(engine.status$, (s) => s.push === 'connected', 15_000, 'the SSE stream to connect');
  return engine;
}

const FIRST_ROWS = 'Time from start() on an empty replica to the first 50 inbox rows emitted by messages$ (Node and Chromium)';

export const firstRowsFigure: FigureDef = {
  keys: ['first_rows_ms'],
  async run(ctx) {
    const parts = await needParts(ctx, { engine: true });
    if (typeof parts === 'string') return [unavailable('first_rows_ms', 'node', FIRST_ROWS, parts)];
    const n = ctx.size(100_000, 5_000);
    const sim = await parts.sims.get({ seed: ctx.seed, messages: n, rateLimitPerMinute: 0 });
    const inbox = await inboxOf(sim);
    const want = Math.min(50, inbox.total_messages);
    const reps = ctx.reps(5, 3);
    const WAIT = 2_000;
    const runs: Record<'node' | 'chromium', FirstRows[]> = { node: [], chromium: [] };
    for (let i = 0; i < reps; i++) {
      const { engine } = newEngine(parts.engine!, sim);
      runs.node.push(await measureFirstRows(engine, inbox.id, want, WAIT));
    }
    const notes = [`${n}-message mailbox${n !== 100_000 ? ' (--quick)' : ''}; a new engine and replica per repetition, in Node and in Chromium.`];
    try {
      const b = await ctx.browser();
      const file = await b.bundleFile('engine-entry.ts', 'engine');
      await b.load(file, '__benchEngine');
      b.setProxyTarget(new URL(sim.url).origin);
      try {
        for (let i = 0; i < reps; i++) {
          runs.chromium.push(
            await b.page.evaluate(
              ({ apiKey, folderId, want, wait }) => (globalThis as unknown as { __benchEngine: BrowserEngine }).__benchEngine.firstRows(apiKey, folderId, want, wait),
              { apiKey: sim.apiKey, folderId: inbox.id, want, wait: WAIT },
            ),
          );
        }
      } finally {
        b.setProxyTarget(null);
      }
    } catch (e) {
      notes.push(`Chromium measurement failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    const metrics: Record<string, Metric> = {};
    const targets: Target[] = [];
    for (const env of ['node', 'chromium'] as const) {
      const r = runs[env];
      if (r.length === 0) continue;
      const live = r.map((x) => x.live).filter((x): x is number => x !== null);
      if (live.length > 0) {
        const s = summarize(live, 'ms');
        metrics[`${env}.first_rows_ms`] = s;
        targets.push(target(`${env}.first_rows_ms`, '<=', 300, s.median, 'median'));
      }
      metrics[`${env}.available_ms`] = summarize(r.map((x) => x.available), 'ms');
      const broken = r.length - live.length;
      if (broken > 0) {
        notes.push(`${env}: in ${broken} of ${r.length} repetitions the messages$ subscription made before start() never emitted the ${want} rows (waited at least ${WAIT} ms and twice the time they took to reach the replica): a limited messages$ query that first emits [] on an empty replica is not re-run by later writes.`);
        targets.push({ metric: `${env}.first_rows_ms`, op: '<=', limit: 300, actual: null, met: false, note: `${env}: the live subscription did not emit the rows in ${broken}/${r.length}` });
      }
    }
    notes.push('available_ms: when a fresh messages$ subscription (re-polled every 10 ms) first returns the rows; a cross-check of the live emission.');
    metrics.mailbox_messages = value('count', n);
    metrics.inbox_messages = value('count', inbox.total_messages);
    return [{ key: 'first_rows_ms', status: 'ok', env: Object.keys(runs).filter((k) => runs[k as 'node'].length > 0).join('+'), description: FIRST_ROWS, metrics, targets, notes }];
  },
};

const PUSH = 'Simulator delivers a message → messages$ (newest 50 of the inbox) emits it; SSE path (Node)';

export const pushFigure: FigureDef = {
  keys: ['push_latency_ms'],
  async run(ctx) {
    const parts = await needParts(ctx, { engine: true });
    if (typeof parts === 'string') return [unavailable('push_latency_ms', 'node', PUSH, parts)];
    // A separate simulator: deliveries must not touch the mailboxes other figures measure.
    const sim = await parts.sims.get({ seed: ctx.seed + 1, messages: 2_000, rateLimitPerMinute: 0 });
    const inbox = await inboxOf(sim);
    const engine = await liveEngine(parts.engine!, sim);
    const samples: number[] = [];
    const warmup = 3;
    const count = ctx.reps(200, 40);
    try {
      const rows = new Watch(engine.messages$({ folderId: inbox.id, limit: 50 }));
      await rows.until((r) => r.length > 0, 10_000, 'inbox rows');
      for (let i = 0; i < warmup + count; i++) {
        const subject = `bench push ${Date.now()} #${i}`;
        const seen = rows.until((r) => r.some((m) => m.subject === subject), 10_000, `delivery #${i} in messages$`);
        const t0 = performance.now();
        await sim.control.deliver({ subject, folder_id: inbox.id });
        const { at } = await seen;
        if (i >= warmup) samples.push(at - t0);
        await sleep(20);
      }
      rows.close();
    } finally {
      await dispose(engine);
    }
    const s = summarize(samples, 'ms', true);
    return [
      {
        key: 'push_latency_ms',
        status: 'ok',
        env: 'node',
        description: PUSH,
        metrics: { push_latency_ms: s },
        targets: [target('p50', '<=', 20, s.p50), target('p99', '<=', 60, s.p99)],
        notes: [`${count} sequential deliveries after ${warmup} warm-up ones, 20 ms apart, into a 2,000-message mailbox; the timer starts before sim.control.deliver() and stops at the messages$ emission containing the new subject.`],
      },
    ];
  },
};

const REMOTE = 'Another device flags a message (sim.control.setFlags) → messages$ shows it; arrives by changes polling';

export const remoteChangeFigure: FigureDef = {
  keys: ['remote_change_latency_ms'],
  async run(ctx) {
    const parts = await needParts(ctx, { engine: true });
    if (typeof parts === 'string') return [unavailable('remote_change_latency_ms', 'node', REMOTE, parts)];
    const sim = await parts.sims.get({ seed: ctx.seed + 2, messages: 2_000, rateLimitPerMinute: 0 });
    const inbox = await inboxOf(sim);
    // The engine's default while visible is 15 s; --quick shortens it to keep the run short.
    const pollMs = ctx.quick ? 2_000 : 15_000;
    const engine = await liveEngine(parts.engine!, sim, { poll: { visibleMs: pollMs } });
    const samples: number[] = [];
    const count = ctx.reps(8, 4);
    try {
      const rows = new Watch(engine.messages$({ folderId: inbox.id, limit: 50 }));
      const first = (await rows.until((r) => r.length > 0, 10_000, 'inbox rows')).value as Message[];
      for (let i = 0; i < count; i++) {
        const id = first[i % first.length]!.id;
        const current = (rows.latest as Message[] | undefined)?.find((m) => m.id === id);
        if (!current) throw new Error(`message ${id} left the inbox view`);
        const flagged = !current.flags.flagged;
        // A random phase against the poll timer, as a real remote change would have.
        await sleep(Math.floor(Math.random() * pollMs));
        const seen = rows.until((r) => (r as Message[]).some((m) => m.id === id && m.flags.flagged === flagged), pollMs * 3 + 10_000, `remote flag #${i}`);
        const t0 = performance.now();
        await sim.control.setFlags([id], { flagged });
        const { at } = await seen;
        samples.push(at - t0);
      }
      rows.close();
    } finally {
      await dispose(engine);
    }
    const s = summarize(samples, 'ms', true);
    return [
      {
        key: 'remote_change_latency_ms',
        status: 'ok',
        env: 'node',
        description: REMOTE,
        metrics: { remote_change_latency_ms: s, poll_interval_ms: value('ms', pollMs) },
        targets: [target('p99', '<=', pollMs + 1_000, s.p99, 'bounded by the poll interval plus one pull (bench-defined bound; issue 9 sets no number)')],
        notes: [
          `Poll interval used: ${pollMs} ms (engine option poll.visibleMs${ctx.quick ? '; the default is 15 000 ms, shortened for --quick' : ', the engine default while visible'}). SSE carries only received mail, so the latency is ~uniform(0, interval) + one changes pull.`,
          'Each change is made at a random phase of the poll timer.',
        ],
      },
    ];
  },
};

export type { FigureResult };
