// A long-lived view subscription for measurements (Node and browser).
import type { Observable } from 'rxjs';

/**
 * One long-lived subscription to a view, so a measurement does not pay for a new
 * live query. `until` resolves with the first value (the current one included)
 * matching `pred`, stamped with performance.now() at emission.
 */
export class Watch<T> {
  latest: T | undefined;
  private readonly waiters = new Set<{ pred: (v: T) => boolean; resolve: (r: { value: T; at: number }) => void }>();
  private readonly sub: { unsubscribe(): void };

  constructor(source: Observable<T>) {
    this.sub = source.subscribe({
      next: (v) => {
        const at = performance.now();
        this.latest = v;
        for (const w of [...this.waiters]) {
          if (w.pred(v)) {
            this.waiters.delete(w);
            w.resolve({ value: v, at });
          }
        }
      },
      error: () => undefined,
    });
  }

  until(pred: (v: T) => boolean, ms: number, what: string): Promise<{ value: T; at: number }> {
    if (this.latest !== undefined && pred(this.latest)) return Promise.resolve({ value: this.latest, at: performance.now() });
    return new Promise((resolve, reject) => {
      const w = {
        pred,
        resolve: (r: { value: T; at: number }) => {
          clearTimeout(timer);
          resolve(r);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(w);
        reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
      }, ms);
      this.waiters.add(w);
    });
  }

  close(): void {
    this.sub.unsubscribe();
  }
}
