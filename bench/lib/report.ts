// Figure results, the printed table and the JSON written to bench/results/.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Summary } from './stats.js';
import { round } from './stats.js';

/** One target from issue 9, checked against a measured value. */
export interface Target {
  /** Which metric (key inside `metrics`) or derived value the target is about. */
  metric: string;
  op: '<=' | '>=' | '==';
  limit: number;
  actual: number | null;
  met: boolean | null;
  /** Free text, e.g. "p99 in Chromium". */
  note?: string;
}

/** A metric: a summarised series, or a single derived number (ratios, counts). */
export type Metric = Summary | { unit: string; value: number };

/** One figure of issue 9; `key` is its JSON key. */
export interface FigureResult {
  key: string;
  status: 'ok' | 'unavailable' | 'error';
  /** Why the figure is unavailable or failed; never replaced by a made-up number. */
  reason?: string;
  /** Where it was measured: 'node' (fake-indexeddb), 'chromium' (real IndexedDB), or both. */
  env: string;
  description: string;
  metrics: Record<string, Metric>;
  targets: Target[];
  notes: string[];
}

export function isSummary(m: Metric): m is Summary {
  return 'median' in m;
}

/** Checks `actual op limit`; null when the value is missing. */
export function target(metric: string, op: Target['op'], limit: number, actual: number | null | undefined, note?: string): Target {
  const a = actual === undefined || actual === null || !Number.isFinite(actual) ? null : round(actual);
  let met: boolean | null = null;
  if (a !== null) met = op === '<=' ? a <= limit : op === '>=' ? a >= limit : a === limit;
  const t: Target = { metric, op, limit, actual: a, met };
  if (note) t.note = note;
  return t;
}

export function value(unit: string, v: number): Metric {
  return { unit, value: round(v) };
}

export function unavailable(key: string, env: string, description: string, reason: string): FigureResult {
  return { key, status: 'unavailable', reason, env, description, metrics: {}, targets: [], notes: [] };
}

function fmt(n: number | undefined): string {
  if (n === undefined) return '';
  if (!Number.isFinite(n)) return String(n);
  return String(round(n));
}

function pad(s: string, w: number): string {
  return s.length >= w ? s : s + ' '.repeat(w - s.length);
}

/** A plain-text table: one row per metric, targets beneath their figure. */
export function renderTable(results: readonly FigureResult[]): string {
  const rows: string[][] = [['figure', 'env', 'metric', 'median', 'min', 'max', 'p50', 'p99', 'unit']];
  const targetLines: string[] = [];
  for (const r of results) {
    if (r.status !== 'ok') {
      rows.push([r.key, r.env, r.status.toUpperCase(), '', '', '', '', '', r.reason ?? '']);
      continue;
    }
    let first = true;
    for (const [name, m] of Object.entries(r.metrics)) {
      const head = first ? r.key : '';
      first = false;
      if (isSummary(m)) rows.push([head, r.env, name, fmt(m.median), fmt(m.min), fmt(m.max), fmt(m.p50), fmt(m.p99), `${m.unit} (n=${m.n})`]);
      else rows.push([head, r.env, name, fmt(m.value), '', '', '', '', m.unit]);
    }
    for (const t of r.targets) {
      const verdict = t.met === null ? 'n/a' : t.met ? 'MET' : 'MISSED';
      targetLines.push(`  ${pad(r.key, 26)} ${t.metric} ${t.op} ${t.limit}: actual ${t.actual ?? 'n/a'} -> ${verdict}${t.note ? ` (${t.note})` : ''}`);
    }
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => (row[c] ?? '').length)));
  const lines = rows.map((row) => row.map((cell, c) => pad(cell, widths[c] ?? 0)).join('  ').trimEnd());
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  if (targetLines.length) lines.push('', 'targets:', ...targetLines);
  return lines.join('\n');
}

/** Writes latest.json plus a timestamped copy; returns both paths. */
export async function writeResults(dir: string, doc: unknown, startedAt: Date): Promise<{ latest: string; stamped: string }> {
  await mkdir(dir, { recursive: true });
  const text = JSON.stringify(doc, null, 2) + '\n';
  const latest = join(dir, 'latest.json');
  const stamped = join(dir, `run-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  await writeFile(latest, text);
  await writeFile(stamped, text);
  return { latest, stamped };
}
