// What every figure gets: run mode, repetition counts, the shared dataset, a lazily
// launched Chromium, and access to the project's parts (which may not exist yet).
import type { BrowserHarness } from './browser.js';
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
}

/** Imports a project module, or returns why it cannot be used (not landed yet, broken). */
export async function tryImport<T>(specifier: string, check: (m: Record<string, unknown>) => boolean, what: string): Promise<T | string> {
  try {
    const m = (await import(specifier)) as Record<string, unknown>;
    if (!check(m)) return `${what} does not export what the bench needs yet`;
    return m as T;
  } catch (e) {
    const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
    return `${what} is not available: ${msg}`;
  }
}
