// Query states for messages/query-changes and folders/query-changes. RFC 8620 §5.6
// (Foo/queryChanges): `removed` then `added {id,index}`; applying them to the old
// result (remove all, then insert in ascending index) yields the new result.
import { invalidParam } from './errors.js';
import { hash32 } from './random.js';
import { positionAfter, type SortKey, type SortedResult } from './query.js';

export interface QueryChangesResult {
  old_query_state: string | null;
  new_query_state: string;
  has_more: boolean;
  removed: string[];
  added: Array<{ id: string; index: number }>;
  total: number | null;
}

interface Remembered {
  key: string;
  result: SortedResult;
}

/** A bounded cache of past query results keyed by their query state. */
export class QueryStates {
  private readonly cache = new Map<string, Remembered>();
  private counter = 0;

  constructor(
    private readonly epoch: () => string,
    private readonly max = 128,
  ) {}

  /** The query state of `key` at data `version` (deterministic, so repeats reuse it). */
  tokenFor(key: string, version: string): string {
    return 'qs' + Buffer.from(`${this.epoch()}:${hash32(key)}:${version}`).toString('base64url');
  }

  private remember(token: string, entry: Remembered): void {
    this.cache.delete(token);
    this.cache.set(token, entry);
    while (this.cache.size > this.max) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.cache.delete(oldest);
    }
  }

  /** Forgets every query state (control.expireChangeLog). */
  clear(): void {
    this.cache.clear();
  }

  changes(
    key: string,
    current: SortedResult,
    version: string,
    since: string | undefined,
    opts: { limit: number; upToId?: string; calculateTotal: boolean },
  ): QueryChangesResult {
    const token = this.tokenFor(key, version);
    const total = opts.calculateTotal ? current.ids.length : null;
    if (since === undefined) {
      this.remember(token, { key, result: current });
      return { old_query_state: null, new_query_state: token, has_more: false, removed: [], added: [], total };
    }
    const old = this.cache.get(since);
    if (!old) throw invalidParam('since_query_state', 'The query state is unknown or has expired; fetch the query again.');
    if (old.key !== key) throw invalidParam('since_query_state', 'The query state belongs to a different filter or sort.');
    this.remember(token, { key, result: current });
    if (since === token) return { old_query_state: since, new_query_state: token, has_more: false, removed: [], added: [], total };

    // upToId (RFC 8620 §5.6): compare only the client's window, i.e. everything that
    // sorts at or before that id. Sort keys are immutable, so its key still applies.
    let oldIds = old.result.ids;
    let oldKeys = old.result.keys;
    let newCount = current.ids.length;
    if (opts.upToId !== undefined) {
      const at = oldIds.indexOf(opts.upToId);
      if (at >= 0) {
        const upKey = oldKeys[at] as SortKey;
        oldIds = oldIds.slice(0, at + 1);
        oldKeys = oldKeys.slice(0, at + 1);
        newCount = positionAfter(current, upKey, opts.upToId);
      }
    }
    const newIds = current.ids.slice(0, newCount);
    const { removed, added } = diff(oldIds, newIds);
    if (removed.length + added.length <= opts.limit) {
      return { old_query_state: since, new_query_state: token, has_more: false, removed, added, total };
    }
    // Too many changes for one answer: return a prefix of them and an intermediate
    // state equal to the old result with exactly that prefix applied.
    const keyOf = new Map<string, SortKey>();
    oldIds.forEach((id, i) => keyOf.set(id, oldKeys[i] as SortKey));
    current.ids.forEach((id, i) => keyOf.set(id, current.keys[i] as SortKey));
    let partRemoved: string[];
    let partAdded: Array<{ id: string; index: number }>;
    let ids: string[];
    if (removed.length >= opts.limit) {
      partRemoved = removed.slice(0, opts.limit);
      partAdded = [];
      const drop = new Set(partRemoved);
      ids = oldIds.filter((id) => !drop.has(id));
    } else {
      partRemoved = removed;
      partAdded = added.slice(0, opts.limit - removed.length);
      const drop = new Set(removed);
      ids = oldIds.filter((id) => !drop.has(id));
      for (const a of partAdded) ids.splice(a.index, 0, a.id);
    }
    this.counter += 1;
    const intermediate = `${token}.${this.counter.toString(36)}`;
    this.remember(intermediate, { key, result: { ids, keys: ids.map((id) => keyOf.get(id) as SortKey), direction: current.direction } });
    return { old_query_state: since, new_query_state: intermediate, has_more: true, removed: partRemoved, added: partAdded, total };
  }
}

/**
 * Minimal-ish diff: ids kept in both lists in the same relative order (a longest
 * increasing subsequence of old positions) stay; every other old id is removed and
 * every other new id is added at its new index.
 */
export function diff(oldIds: string[], newIds: string[]): { removed: string[]; added: Array<{ id: string; index: number }> } {
  const oldPos = new Map<string, number>();
  oldIds.forEach((id, i) => oldPos.set(id, i));
  const seq: Array<{ id: string; pos: number }> = [];
  for (const id of newIds) {
    const pos = oldPos.get(id);
    if (pos !== undefined) seq.push({ id, pos });
  }
  const stable = longestIncreasing(seq);
  const removed = oldIds.filter((id) => !stable.has(id));
  const added: Array<{ id: string; index: number }> = [];
  newIds.forEach((id, index) => {
    if (!stable.has(id)) added.push({ id, index });
  });
  return { removed, added };
}

function longestIncreasing(seq: Array<{ id: string; pos: number }>): Set<string> {
  const tails: number[] = [];
  const prev: number[] = new Array<number>(seq.length).fill(-1);
  for (let i = 0; i < seq.length; i++) {
    const pos = (seq[i] as { pos: number }).pos;
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((seq[tails[mid] as number] as { pos: number }).pos < pos) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) prev[i] = tails[lo - 1] as number;
    tails[lo] = i;
  }
  const out = new Set<string>();
  let k = tails.length > 0 ? (tails[tails.length - 1] as number) : -1;
  while (k >= 0) {
    out.add((seq[k] as { id: string }).id);
    k = prev[k] as number;
  }
  return out;
}

