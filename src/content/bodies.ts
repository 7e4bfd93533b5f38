// The body cache: clean content and raw bodies stored per (message, options) in the
// content database, served from there when present, fetched (batched, see
// fetchBodies.ts) when not, revalidated with If-None-Match when older than the
// caller's max age, and kept within a byte budget by LRU eviction that skips pinned
// messages (budget.ts).
import { Subject } from 'rxjs';
import type { BodyRow, ContentDb } from '../store/contentDb.js';
import { CacheBudget } from './budget.js';
import type { ContentError } from './errors.js';
import type { BodyFetcher, BodyRequest, FetchedBody, Priority } from './fetchBodies.js';
import { toContentError } from './fetchBodies.js';
import { contentKey, rawKey } from './params.js';
import type { PinSet } from './pins.js';

/** Default body cache budget: 50 MiB. */
export const DEFAULT_BODY_BUDGET_BYTES = 50 * 1024 * 1024;

const encoder = new TextEncoder();

/** Approximate stored size of a body: its UTF-8 JSON length. */
export function bodyBytes(data: unknown): number {
  return encoder.encode(JSON.stringify(data)).byteLength;
}

/** Cache key of a request. */
export function keyOf(request: BodyRequest): string {
  return request.kind === 'content' ? contentKey(request.messageId, request.params) : rawKey(request.messageId, request.params);
}

/** Options of {@link BodyCache}. */
export interface BodyCacheOptions {
  db: ContentDb;
  fetcher: BodyFetcher;
  pins: PinSet;
  budgetBytes: number;
  now: () => number;
  /** Background failures (revalidation, eviction); never thrown into the void. */
  onError: (error: ContentError) => void;
}

/** Where a served body came from. */
export type BodySource = 'cache' | 'network';

/** Read options of {@link BodyCache.read}. */
export interface BodyReadOptions {
  priority?: Priority;
  /**
   * Revalidate (conditional GET, in the background) a cached body older than this
   * many ms. Default Infinity: message bodies do not change once stored (RFC 8621
   * §4: Email content is immutable), so a cached body is served without a request.
   */
  maxAgeMs?: number;
}

/** Cached bodies, their budget, and the way to fill them. */
export class BodyCache {
  readonly #o: BodyCacheOptions;
  readonly #budget: CacheBudget;
  readonly #inflight = new Map<string, Promise<BodyRow>>();
  readonly #revalidating = new Map<string, Promise<void>>();
  /** Every row written (fetched, revalidated with a new body, or stored from a thread page). */
  readonly updates = new Subject<BodyRow>();

  constructor(options: BodyCacheOptions) {
    this.#o = options;
    this.#budget = new CacheBudget({
      db: options.db,
      kind: 'body',
      payload: options.db.bodies,
      budgetBytes: options.budgetBytes,
      isPinned: (id) => options.pins.has(id),
      now: options.now,
    });
  }

  /** The cached row of `request`, without touching the network or the LRU order. */
  peek(request: BodyRequest): Promise<BodyRow | undefined> {
    return this.#o.db.bodies.get(keyOf(request));
  }

  /** Serves `request` from the cache (touching its LRU position) or fetches and stores it. */
  async read(request: BodyRequest, options: BodyReadOptions = {}): Promise<{ row: BodyRow; source: BodySource }> {
    const key = keyOf(request);
    const cached = await this.#o.db.bodies.get(key);
    if (cached) {
      await this.#budget.touch([key]);
      const maxAge = options.maxAgeMs ?? Infinity;
      if (this.#o.now() - cached.fetched_at > maxAge) this.revalidate(request, cached);
      return { row: cached, source: 'cache' };
    }
    return { row: await this.#fetchOnce(key, request, options.priority ?? 'user'), source: 'network' };
  }

  /**
   * Fetches the bodies of `requests` that are not cached (batched, background priority by
   * default). Resolves with the number fetched; failures go to `onError`.
   */
  async fill(requests: readonly BodyRequest[], priority: Priority = 'background'): Promise<number> {
    const keys = requests.map(keyOf);
    const present = await this.#o.db.bodies.bulkGet(keys);
    const missing = requests.flatMap((request, i) => (present[i] === undefined ? [{ key: keys[i] as string, request }] : []));
    const results = await Promise.allSettled(missing.map(({ key, request }) => this.#fetchOnce(key, request, priority)));
    let fetched = 0;
    for (const r of results) {
      if (r.status === 'fulfilled') fetched += 1;
      else this.#o.onError(toContentError(r.reason, 'prefetching bodies'));
    }
    return fetched;
  }

  /** Writes a body obtained elsewhere (e.g. a thread content page) into the cache. */
  async store(fetched: FetchedBody, request: BodyRequest): Promise<BodyRow> {
    const row: BodyRow =
      fetched.kind === 'content'
        ? { key: keyOf(request), message_id: fetched.messageId, kind: 'content', data: fetched.data, fetched_at: this.#o.now(), ...(fetched.etag ? { etag: fetched.etag } : {}) }
        : { key: keyOf(request), message_id: fetched.messageId, kind: 'raw', data: fetched.data, fetched_at: this.#o.now(), ...(fetched.etag ? { etag: fetched.etag } : {}) };
    const { db } = this.#o;
    await db.transaction('rw', db.bodies, db.cacheIndex, async () => {
      await db.bodies.put(row);
      await db.cacheIndex.put(this.#budget.indexRow(row.key, row.message_id, bodyBytes(row.data)));
    });
    this.updates.next(row);
    try {
      await this.#budget.enforce();
    } catch (error) {
      this.#o.onError(toContentError(error, 'evicting bodies'));
    }
    return row;
  }

  /**
   * Conditional GET of a cached body in the background. 304 keeps the cached body
   * (only its age is reset); a new body replaces it and is announced on `updates`.
   */
  revalidate(request: BodyRequest, cached: BodyRow): Promise<void> {
    const key = cached.key;
    const running = this.#revalidating.get(key);
    if (running) return running;
    const run = (async () => {
      try {
        const result = await this.#o.fetcher.revalidate(request, cached.etag);
        if (result === 'not_modified') await this.#o.db.bodies.update(key, { fetched_at: this.#o.now() });
        else await this.store(result, request);
      } catch (error) {
        // Offline or failing server: the cached body stays what the app shows.
        const e = toContentError(error, `revalidating ${key}`);
        if (e.code === 'not_found') await this.forgetMessages([cached.message_id]);
        this.#o.onError(e);
      }
    })().finally(() => this.#revalidating.delete(key));
    this.#revalidating.set(key, run);
    return run;
  }

  /** Evicts unpinned least-recently-used bodies until the cache fits its budget. */
  enforceBudget(): Promise<string[]> {
    return this.#budget.enforce();
  }

  /** Bytes currently cached. */
  totalBytes(): Promise<number> {
    return this.#budget.totalBytes();
  }

  /** Evicts every unpinned entry (storage quota exhausted); returns the bytes freed. */
  relieve(): Promise<number> {
    return this.#budget.evictUnpinned();
  }

  /** Drops every cached body of these messages (e.g. destroyed on the server). */
  forgetMessages(messageIds: readonly string[]): Promise<void> {
    return this.#budget.forgetMessages(messageIds);
  }

  #fetchOnce(key: string, request: BodyRequest, priority: Priority): Promise<BodyRow> {
    const running = this.#inflight.get(key);
    if (running) return running;
    const p = this.#o.fetcher
      .fetch(request, priority)
      .then((fetched) => this.store(fetched, request))
      .finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, p);
    return p;
  }
}
