// What every figure gets: run mode, repetition counts, the shared dataset, a lazily
// launched Chromium, and access to the project's parts (which may not exist yet).
import type { BrowserHarness } from './browser.js';
import type { SimPool } from './parts.js';
import type { FigureResult } from './report.js';

/** A figure (or a group measured together) of issue 9. */
export interface FigureDef {
  /** The JSON keys this definition produces; `--only` matches any of them. */
  keys: readonly string[];
  run(ctx: BenchContext): Promise<FigureResult[]>;
}

export interface BenchContext {
  quick: boolean;
  /** Seed of every generated mailbox in the run. */
  seed: number;
  log(msg: string): void;
  /** Repetitions: `full` normally, `quick` with --quick. */
  reps(full: number, quick: number): number;
  /** Size: `full` normally, `quick` with --quick. */
  size(full: number, quick: number): number;
  /** The shared Chromium (launched on first use, closed at the end of the run). */
  browser(): Promise<BrowserHarness>;
  /** Simulators shared across figures, or why the simulator cannot be used. */
  sims(): Promise<SimPool | string>;
  /** Results one figure leaves for another (e.g. a bootstrapped 100k replica). */
  shared: Map<string, unknown>;
  /** Cleanups run at the end of the run, last registered first. */
  onCleanup(fn: () => Promise<void>): void;
}
