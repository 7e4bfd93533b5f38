// Summaries of repeated measurements. Every figure is a median over repetitions with
// min and max (issue 9); latency figures also report nearest-rank percentiles.

/** A summarised series of samples of one metric. */
export interface Summary {
  unit: string;
  n: number;
  median: number;
  min: number;
  max: number;
  p50?: number;
  p99?: number;
  samples: number[];
}

/** Nearest-rank percentile (p in 0..100) of already sorted values. */
export function percentileSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new Error('percentile of an empty series');
  const rank = Math.ceil((p / 100) * sorted.length);
  const at = Math.min(sorted.length - 1, Math.max(0, rank - 1));
  return sorted[at] as number;
}

/** Median (mean of the two middle values for an even count). */
export function medianSorted(sorted: readonly number[]): number {
  if (sorted.length === 0) throw new Error('median of an empty series');
  const mid = sorted.length >> 1;
  if (sorted.length % 2 === 1) return sorted[mid] as number;
  return ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Summarises samples; `percentiles` adds p50/p99 (latency distributions). */
export function summarize(samples: readonly number[], unit: string, percentiles = false): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const s: Summary = {
    unit,
    n: sorted.length,
    median: round(medianSorted(sorted)),
    min: round(sorted[0] as number),
    max: round(sorted[sorted.length - 1] as number),
    samples: samples.map(round),
  };
  if (percentiles) {
    s.p50 = round(percentileSorted(sorted, 50));
    s.p99 = round(percentileSorted(sorted, 99));
  }
  return s;
}

/** Rounds to 3 significant decimals so the JSON stays readable. */
export function round(x: number): number {
  if (!Number.isFinite(x)) return x;
  const abs = Math.abs(x);
  const digits = abs >= 100 ? 1 : abs >= 1 ? 2 : 4;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Runs `fn` `runs` times in sequence and collects what each run returns. */
export async function repeat<T>(runs: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < runs; i++) out.push(await fn(i));
  return out;
}

/** Milliseconds taken by `fn`, with its result. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}
