// A small LRU of conditional-GET results. docs/introduction.md: weak ETags on
// single-resource GETs; the spec's If-None-Match parameter answers 304 when unchanged,
// so the client can return what it already decoded without re-downloading it.
import type { ApiResponse } from './types.js';

/** One cached answer: the ETag and the decoded response it came with. */
export interface EtagEntry {
  etag: string;
  response: ApiResponse<unknown>;
}

/** Least-recently-used map of request URL → (ETag, decoded response). */
export class EtagCache {
  readonly #max: number;
  readonly #map = new Map<string, EtagEntry>();

  /** `maxEntries` 0 disables caching. */
  constructor(maxEntries: number) {
    this.#max = Math.max(0, Math.floor(maxEntries));
  }

  /** Entries currently held. */
  get size(): number {
    return this.#map.size;
  }

  /** The entry for `key`, marking it most recently used. */
  get(key: string): EtagEntry | undefined {
    const entry = this.#map.get(key);
    if (entry) {
      this.#map.delete(key);
      this.#map.set(key, entry);
    }
    return entry;
  }

  /** Stores `entry` as most recently used, evicting the least recently used beyond the bound. */
  set(key: string, entry: EtagEntry): void {
    if (this.#max === 0) return;
    this.#map.delete(key);
    this.#map.set(key, entry);
    while (this.#map.size > this.#max) {
      const oldest = this.#map.keys().next();
      if (oldest.done) break;
      this.#map.delete(oldest.value);
    }
  }

  /** Forgets `key` (e.g. after a 404). */
  delete(key: string): void {
    this.#map.delete(key);
  }

  /** Forgets everything. */
  clear(): void {
    this.#map.clear();
  }
}
