// `npm run chaos -- [--seed N | --seeds N [--from S]] [--steps N] [--verbose] [--validate]
//                   [--no-local] [--max-minutes M] [--out file.json] [--storage indexeddb|sqlite]`
// CHAOS_DEBUG=1 also prints every mutation request/response and, on a diverging
// message, its outbox rows and shadow.
// Runs seeded chaos schedules one after another and prints a summary: schedules,
// steps, faults injected by kind, errors reported, max convergence time. A failing
// seed prints its step list; exit code 1 when any schedule failed.
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { ScheduleResult } from './runner.js';

const USAGE = `usage: npm run chaos -- [--seed N | --seeds N [--from S]] [--steps N] [--verbose] [--validate]
                     [--no-local] [--max-minutes M] [--out file.json] [--storage indexeddb|sqlite]`;

function parse() {
  try {
    return parseArgs({
      options: {
        seed: { type: 'string' },
        seeds: { type: 'string', default: '20' },
        from: { type: 'string', default: '1' },
        steps: { type: 'string', default: '300' },
        verbose: { type: 'boolean', default: false },
        validate: { type: 'boolean', default: false },
        'no-local': { type: 'boolean', default: false },
        'max-minutes': { type: 'string' },
        out: { type: 'string' },
        storage: { type: 'string', default: 'indexeddb' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (error) {
    console.error(`chaos: ${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    process.exit(2);
  }
}
const values = parse();
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

if (values.storage !== 'indexeddb' && values.storage !== 'sqlite') {
  console.error(`chaos: --storage must be indexeddb or sqlite (got ${values.storage})\n${USAGE}`);
  process.exit(2);
}
// The worlds' replica backend (test/helpers/storage.ts reads it when first imported).
process.env.SENDMUX_TEST_STORAGE = values.storage;
const { FAULT_KINDS, describeFailure, runSchedule, summarize } = await import('./runner.js');

const int = (v: string | undefined, name: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`chaos: --${name} must be a non-negative integer (got ${v})\n${USAGE}`);
    process.exit(2);
  }
  return n;
};

const steps = int(values.steps, 'steps');
const seeds = values.seed !== undefined ? [int(values.seed, 'seed')] : Array.from({ length: int(values.seeds, 'seeds') }, (_, i) => int(values.from, 'from') + i);
const deadline = values['max-minutes'] !== undefined ? performance.now() + Number(values['max-minutes']) * 60_000 : Infinity;

const results: ScheduleResult[] = [];
const started = performance.now();
let stoppedEarly = false;
for (const seed of seeds) {
  if (performance.now() > deadline) {
    stoppedEarly = true;
    break;
  }
  const t0 = performance.now();
  const r = await runSchedule({ seed, steps, validateResponses: values.validate, local: !values['no-local'], ...(values.verbose ? { onStep: (l: string) => console.log(`  [${seed}] ${l}`) } : {}) });
  results.push(r);
  const ms = Math.round(performance.now() - t0);
  const conv = Number.isFinite(r.convergenceMs) ? `${Math.round(r.convergenceMs)}ms` : '-';
  console.log(`seed ${seed}: ${r.failure ? 'FAIL' : 'ok'} (${ms}ms, converged in ${conv})`);
  if (r.failure) console.log(describeFailure(r));
}

const s = summarize(results);
const lines = [
  '',
  '== chaos summary ==',
  `storage: ${values.storage}, schedules: ${s.schedules}${stoppedEarly ? ` (stopped at the time bound; ${seeds.length - s.schedules} not run)` : ''}, steps: ${s.steps}, wall: ${Math.round((performance.now() - started) / 1000)}s`,
  `faults injected: ${FAULT_KINDS.map((k) => `${k} ${s.faults[k]}`).join(', ')}`,
  `remote actions: ${Object.entries(s.actions).map(([k, v]) => `${k} ${v}`).join(', ')}`,
  `local outcomes: ${Object.entries(s.outcomes).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`,
  `errors$ by code: ${Object.entries(s.errors).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`,
  `max convergence time: ${Math.round(s.maxConvergenceMs)}ms`,
  `failures: ${s.failures.length}${s.failures.length ? ` (seeds ${s.failures.map((f) => f.seed).join(', ')})` : ''}`,
];
console.log(lines.join('\n'));
if (values.out) writeFileSync(values.out, JSON.stringify({ summary: { ...s, failures: s.failures.map((f) => ({ seed: f.seed, failure: f.failure, steps: f.steps })) }, stoppedEarly }, null, 2));
process.exitCode = s.failures.length > 0 ? 1 : 0;
