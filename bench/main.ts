// The bench runner: parses the command line, runs the selected figures in sequence,
// prints the table and writes bench/results/latest.json (+ a timestamped copy).
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { BrowserHarness } from './lib/browser.js';
import { CHROMIUM_PATH, launchBrowser } from './lib/browser.js';
import type { BenchContext, FigureDef } from './lib/context.js';
import { machineFacts } from './lib/machine.js';
import { SimPool, loadSimulator } from './lib/parts.js';
import type { FigureResult } from './lib/report.js';
import { renderTable, writeResults } from './lib/report.js';
import { FIGURES } from './figures/index.js';

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
const USAGE = `usage: npm run bench -- [--quick] [--only key,key] [--seed n] [--list]
  --quick   smaller mailboxes and fewer repetitions (whole run < 3 min on 2 cores)
  --only    run only the figures producing these JSON keys
  --list    print the figure keys and exit`;

export async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        quick: { type: 'boolean', default: false },
        only: { type: 'string' },
        seed: { type: 'string', default: '1' },
        list: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }).values;
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    console.error(USAGE);
    return 2;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  const allKeys = FIGURES.flatMap((f) => f.keys);
  if (args.list) {
    console.log(allKeys.join('\n'));
    return 0;
  }
  const only = args.only ? args.only.split(',').map((s) => s.trim()).filter(Boolean) : null;
  const unknown = (only ?? []).filter((k) => !allKeys.includes(k));
  if (unknown.length) {
    console.error(`unknown figure(s): ${unknown.join(', ')}; known: ${allKeys.join(', ')}`);
    return 2;
  }
  const selected: FigureDef[] = only ? FIGURES.filter((f) => f.keys.some((k) => only.includes(k))) : [...FIGURES];
  const quick = args.quick ?? false;
  const seed = Number(args.seed);
  const startedAt = new Date();
  const t0 = performance.now();
  const log = (msg: string) => console.log(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${msg}`);

  const launched: { harness: Promise<BrowserHarness> | null; sims: Promise<SimPool | string> | null } = { harness: null, sims: null };
  const cleanups: Array<() => Promise<void>> = [];
  const ctx: BenchContext = {
    quick,
    seed,
    log,
    reps: (full, q) => (quick ? q : full),
    size: (full, q) => (quick ? q : full),
    browser: () => (launched.harness ??= launchBrowser(log)),
    sims: () =>
      (launched.sims ??= loadSimulator().then((m) => {
        if (typeof m === 'string') return m;
        const pool = new SimPool(m.start);
        cleanups.push(() => pool.closeAll());
        return pool;
      })),
    shared: new Map(),
    onCleanup: (fn) => void cleanups.push(fn),
  };

  log(`bench ${quick ? '--quick ' : ''}(${selected.flatMap((f) => f.keys).join(', ')})`);
  const results: FigureResult[] = [];
  try {
    for (const def of selected) {
      const f0 = performance.now();
      try {
        results.push(...(await def.run(ctx)));
      } catch (e) {
        const reason = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
        log(`figure ${def.keys.join('/')} failed: ${reason}`);
        if (e instanceof Error && e.stack) console.error(e.stack);
        for (const key of def.keys) results.push({ key, status: 'error', reason, env: '', description: '', metrics: {}, targets: [], notes: [] });
      }
      log(`${def.keys.join('/')} done in ${((performance.now() - f0) / 1000).toFixed(1)}s`);
    }
  } finally {
    for (const fn of cleanups.reverse()) await fn().catch((e: unknown) => log(`cleanup failed: ${String(e)}`));
    if (launched.harness) await (await launched.harness).close();
  }

  const durationS = (performance.now() - t0) / 1000;
  const doc = {
    schema: 'sendmux-sync-bench/1',
    started_at: startedAt.toISOString(),
    duration_s: Math.round(durationS * 10) / 10,
    mode: quick ? 'quick' : 'full',
    seed,
    only,
    machine: machineFacts(CHROMIUM_PATH),
    figures: Object.fromEntries(results.map((r) => [r.key, r])),
  };
  console.log('\n' + renderTable(results) + '\n');
  const paths = await writeResults(RESULTS_DIR, doc, startedAt);
  log(`wrote ${paths.latest} and ${paths.stamped} (${durationS.toFixed(1)}s total)`);
  return results.some((r) => r.status === 'error') ? 1 : 0;
}
