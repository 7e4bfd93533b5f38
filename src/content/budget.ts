// Byte budget with least-recently-used eviction for one cache kind (bodies or
// attachments). The choice of victims is a pure function (selectEvictions) so it is
// unit-tested without IndexedDB; the shell below reads the small index rows, picks,
// and deletes index + payload in one transaction.
import type { CacheIndexRow, CacheKind, ContentDb, PayloadTable } from '../store/contentDb.js';

/** An index row as eviction sees it. */
export type EvictionCandidate = Pick<CacheIndexRow, 'key' | 'message_id' | 'bytes' | 'last_used'>;

/**
 * Keys to evict so the total fits `budgetBytes`: least recently used first, never a
 * row whose message is pinned. When the pinned rows alone exceed the budget the
 * result still evicts every unpinned row and the cache stays over budget — pinned
 * content is what the user is looking at, so it wins over the budget.
 */
export function selectEvictions(rows: readonly EvictionCandidate[], budgetBytes: number, isPinned: (messageId: string) => boolean): string[] {
  let total = 0;
  for (const r of rows) total += r.bytes;
  if (total <= budgetBytes) return [];
  const order = [...rows].sort((a, b) => a.last_used - b.last_used || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const victims: string[] = [];
  for (const r of order) {
    if (total <= budgetBytes) break;
    if (isPinned(r.message_id)) continue;
    victims.push(r.key);
    total -= r.bytes;
  }
  return victims;
}

/** Options of {@link CacheBudget}. */
export interface CacheBudgetOptions {
  db: ContentDb;
  kind: CacheKind;
  /** The payload table whose rows share keys with the index rows. */
  payload: PayloadTable;
  budgetBytes: number;
  isPinned: (messageId: string) => boolean;
  now: () => number;
}

/** LRU bookkeeping of one cache kind. */
export class CacheBudget {
  readonly #o: CacheBudgetOptions;
  #enforcing: Promise<string[]> | undefined;
  #again = false;

  constructor(options: CacheBudgetOptions) {
    if (!(options.budgetBytes >= 0)) throw new RangeError(`CacheBudget: budgetBytes must be >= 0 (got ${options.budgetBytes})`);
    this.#o = options;
  }

  /** The index row to store with a payload written now. */
  indexRow(key: string, messageId: string, bytes: number): CacheIndexRow {
    return { key, kind: this.#o.kind, message_id: messageId, bytes, last_used: this.#o.now() };
  }

  /** Marks `keys` as just used (moves them to the young end of the LRU order). */
  async touch(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    const at = this.#o.now();
    await this.#o.db.transaction('rw', this.#o.db.cacheIndex, async () => {
      for (const key of keys) await this.#o.db.cacheIndex.update(key, { last_used: at });
    });
  }

  /** Bytes currently accounted to this kind. */
  async totalBytes(): Promise<number> {
    let total = 0;
    await this.#rows().each((r) => {
      total += r.bytes;
    });
    return total;
  }

  /**
   * Evicts least recently used, unpinned entries until the kind fits its budget.
   * Concurrent calls coalesce into one pass plus at most one follow-up.
   */
  enforce(): Promise<string[]> {
    if (this.#enforcing) {
      this.#again = true;
      return this.#enforcing;
    }
    const run = async (): Promise<string[]> => {
      const evicted: string[] = [];
      do {
        this.#again = false;
        evicted.push(...(await this.#pass()));
      } while (this.#again);
      return evicted;
    };
    this.#enforcing = run().finally(() => {
      this.#enforcing = undefined;
    });
    return this.#enforcing;
  }

  /**
   * Storage pressure (the origin's quota is exhausted): evicts every unpinned entry of
   * this kind, whatever the budget. Returns the bytes freed.
   */
  async evictUnpinned(): Promise<number> {
    const { db, payload } = this.#o;
    return db.transaction('rw', db.cacheIndex, payload, async () => {
      const rows = await this.#rows().toArray();
      const victims = new Set(selectEvictions(rows, 0, this.#o.isPinned));
      if (victims.size === 0) return 0;
      await db.cacheIndex.bulkDelete([...victims]);
      await payload.bulkDelete([...victims]);
      return rows.filter((r) => victims.has(r.key)).reduce((n, r) => n + r.bytes, 0);
    });
  }

  /** Removes every entry of the given messages (e.g. messages destroyed on the server). */
  async forgetMessages(messageIds: readonly string[]): Promise<void> {
    if (messageIds.length === 0) return;
    const { db, payload, kind } = this.#o;
    await db.transaction('rw', db.cacheIndex, payload, async () => {
      const rows = await db.cacheIndex.where('message_id').anyOf([...messageIds]).toArray();
      const keys = rows.filter((r) => r.kind === kind).map((r) => r.key);
      await db.cacheIndex.bulkDelete(keys);
      await payload.bulkDelete(keys);
    });
  }

  #rows() {
    return this.#o.db.cacheIndex.where('[kind+last_used]').between([this.#o.kind, -Infinity], [this.#o.kind, Infinity]);
  }

  async #pass(): Promise<string[]> {
    const { db, payload } = this.#o;
    return db.transaction('rw', db.cacheIndex, payload, async () => {
      const rows = await this.#rows().toArray();
      const victims = selectEvictions(rows, this.#o.budgetBytes, this.#o.isPinned);
      if (victims.length > 0) {
        await db.cacheIndex.bulkDelete(victims);
        await payload.bulkDelete(victims);
      }
      return victims;
    });
  }
}
