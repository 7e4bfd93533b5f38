// A small LRU of conditional-GET results. docs/introduction.md: weak ETags on
// single-resource GETs; the spec's If-None-Match parameter answers 304 when unchanged,
// so the client can return what it already decoded without re-downloading it.
import type { ApiResponse } from './types.js';

/** One cached answer: the ETag and the decoded response it came with. */
export interface EtagEntry {
  etag: string;
  response: ApiResponse<unknown>;
  /** Approximate size (the response body's length in characters). */
  size: number;
}

/**
 * Least-recently-used map of request URL → (ETag, decoded response), bounded both
 * by entry count and by total body size (message bodies can be large).
 */
export class EtagCache {
  readonly #max: number;
  readonly #maxSize: number;
  readonly #map = new Map<string, EtagEntry>();
  #total = 0;

  /** `maxEntries` 0 disables caching; `maxSize` bounds the summed entry sizes. */
  constructor(maxEntries: number, maxSize = Infinity) {
    this.#max = Math.max(0, Math.floor(maxEntries));
    this.#maxSize = maxSize;
  }

  /** Entries currently held. */
  get size(): number {
    return this.#map.size;
  }

  /** Summed sizes of the entries held. */
  get totalSize(): number {
    return this.#total;
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
    this.delete(key);
    if (this.#max === 0 || entry.size > this.#maxSize) return;
    this.#map.set(key, entry);
    this.#total += entry.size;
    while (this.#map.size > this.#max || this.#total > this.#maxSize) {
      const oldest = this.#map.keys().next();
      if (oldest.done) break;
      this.delete(oldest.value);
    }
  }

  /** Forgets `key` (e.g. after a 404). */
  delete(key: string): void {
    const entry = this.#map.get(key);
    if (!entry) return;
    this.#map.delete(key);
    this.#total -= entry.size;
  }

  /** Forgets everything. */
  clear(): void {
    this.#map.clear();
    this.#total = 0;
  }
}
