// Seeded randomness for chaos schedules: mulberry32 (a 32-bit state, good enough
// statistically for picking steps, and exactly reproducible from the seed).
import { mulberry32 } from '../../src/sim/random.js';

/** A seeded source of randomness with the helpers schedules need. */
export interface Prng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [min, max]. */
  int(min: number, max: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  /** One element (undefined for an empty list). */
  pick<T>(items: readonly T[]): T | undefined;
  /** 1..max distinct elements. */
  some<T>(items: readonly T[], max: number): T[];
  /** A key of `weights` chosen proportionally to its weight. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K;
  /** An independent stream derived from this one (for the engine's jitter). */
  fork(): Prng;
}

/** mulberry32 seeded with `seed`. */
export function createPrng(seed: number): Prng {
  const next = mulberry32(seed);
  const prng: Prng = {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (p) => next() < p,
    pick: (items) => items[Math.floor(next() * items.length)],
    some(items, max) {
      const n = Math.min(items.length, 1 + Math.floor(next() * max));
      const pool = [...items];
      const out: (typeof items)[number][] = [];
      for (let i = 0; i < n; i++) out.push(...pool.splice(Math.floor(next() * pool.length), 1));
      return out;
    },
    weighted(weights) {
      const entries = Object.entries(weights) as [keyof typeof weights, number][];
      const total = entries.reduce((s, [, w]) => s + Math.max(0, w), 0);
      let roll = next() * total;
      for (const [k, w] of entries) {
        roll -= Math.max(0, w);
        if (roll < 0) return k;
      }
      return (entries[entries.length - 1] as [keyof typeof weights, number])[0];
    },
    fork: () => createPrng(Math.floor(next() * 2 ** 32)),
  };
  return prng;
}
