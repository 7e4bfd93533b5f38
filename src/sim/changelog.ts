// One bounded change log for every record family, and the per-type state tokens
// derived from it. RFC 8620 §5.2 (Foo/changes) governs collapsing and paging.
import type { Changes, ObjectType } from './types.js';
import { OBJECT_TYPES } from './types.js';

export type ChangeKind = 'created' | 'updated' | 'destroyed';

export interface ChangeEntry {
  seq: number;
  type: ObjectType;
  id: string;
  kind: ChangeKind;
}

const TYPE_CODE: Record<ObjectType, string> = {
  messages: 'm',
  folders: 'f',
  threads: 't',
  submissions: 's',
  identities: 'i',
  quotas: 'q',
};

/** Result of reading a client's state token. */
export type TokenCheck = { kind: 'ok'; seq: number } | { kind: 'malformed' } | { kind: 'expired' };

export class ChangeLog {
  private readonly instance: string;
  /** Bumped by expire(): tokens of an earlier generation are too old to serve. */
  private generation = 0;
  private seq = 0;
  private entries: ChangeEntry[] = [];
  private head = 0;
  /** Per type, the highest sequence number of a change no longer in the log. */
  private readonly floor: Record<ObjectType, number>;
  private readonly lastSeq: Record<ObjectType, number>;
  private readonly limit: number;

  constructor(instance: string, limit: number) {
    this.instance = instance;
    this.limit = Math.max(1, limit);
    this.lastSeq = Object.fromEntries(OBJECT_TYPES.map((t) => [t, 0])) as Record<ObjectType, number>;
    this.floor = { ...this.lastSeq };
  }

  /** Distinguishes this server instance and log generation (tokens of others are expired). */
  get epoch(): string {
    return `${this.instance}g${this.generation.toString(36)}`;
  }

  /** Records one change; the type's state moves. */
  record(type: ObjectType, id: string, kind: ChangeKind): void {
    this.seq += 1;
    this.entries.push({ seq: this.seq, type, id, kind });
    this.lastSeq[type] = this.seq;
    if (this.entries.length - this.head > this.limit) {
      const dropped = this.entries[this.head];
      if (dropped) this.floor[dropped.type] = dropped.seq;
      this.head += 1;
      // Compact occasionally so the array does not grow without bound.
      if (this.head > 4096 && this.head > this.entries.length / 2) {
        this.entries = this.entries.slice(this.head);
        this.head = 0;
      }
    }
  }

  /** Current sequence of a type (internal; tokens wrap it). */
  seqOf(type: ObjectType): number {
    return this.lastSeq[type];
  }

  /** Global sequence number (every change of any type). */
  get current(): number {
    return this.seq;
  }

  /** The opaque state token of `type` now. */
  stateOf(type: ObjectType): string {
    return this.token(type, this.lastSeq[type]);
  }

  token(type: ObjectType, seq: number): string {
    return Buffer.from(`${TYPE_CODE[type]}:${this.epoch}:${seq.toString(36)}`).toString('base64url');
  }

  /** Every earlier token now answers sync_required (control.expireChangeLog). */
  expire(): void {
    this.generation += 1;
    // Tokens of the old generation are refused by their epoch. A type's current state
    // (lastSeq, minted under the new epoch by the session and changes) must stay
    // servable: a floor above it would answer sync_required to the very token a
    // client just re-listed with, forever (found by chaos seed 3).
    for (const t of OBJECT_TYPES) this.floor[t] = this.lastSeq[t];
    this.entries = [];
    this.head = 0;
  }

  /** Decodes a token for `type`; tokens of another instance or before the log's floor are expired. */
  check(type: ObjectType, token: string): TokenCheck {
    if (!/^[A-Za-z0-9_-]{1,200}$/.test(token)) return { kind: 'malformed' };
    const parts = Buffer.from(token, 'base64url').toString('utf8').split(':');
    if (parts.length !== 3 || parts[0] !== TYPE_CODE[type] || !/^[0-9a-z]+$/.test(parts[2] ?? '')) return { kind: 'malformed' };
    if (!/^[0-9a-z]+$/.test(parts[1] ?? '')) return { kind: 'malformed' };
    const seq = parseInt(parts[2] ?? '', 36);
    if (parts[1] !== this.epoch) return { kind: 'expired' };
    if (!Number.isSafeInteger(seq) || seq > this.seq) return { kind: 'malformed' };
    // A token at seq s needs every change of its type after s; gone when s < floor.
    if (seq < this.floor[type]) return { kind: 'expired' };
    return { kind: 'ok', seq };
  }

  /**
   * Changes of `type` after `sinceSeq`, at most `limit` distinct ids. RFC 8620 §5.2:
   * an id appears in at most one list; created+updated is created; updated+destroyed
   * is destroyed; created-then-destroyed within the window is reported in `destroyed`
   * only (the RFC's MAY, rather than its SHOULD of omitting it): the list endpoints
   * carry no state token, so a client that captured a token and then listed (get
   * state, then read) may hold such a record, and only this tells it to drop it.
   * When the window is cut, new_state is an intermediate token from which the rest
   * follows.
   */
  changes(type: ObjectType, sinceSeq: number, limit: number): Changes {
    const byId = new Map<string, { first: ChangeKind; last: ChangeKind }>();
    let upTo = sinceSeq;
    let hasMore = false;
    if (sinceSeq < this.lastSeq[type]) {
      for (let i = this.startIndex(sinceSeq); i < this.entries.length; i++) {
        const e = this.entries[i];
        if (!e || e.type !== type) continue;
        const seen = byId.get(e.id);
        if (seen) {
          seen.last = e.kind;
        } else {
          if (byId.size >= limit) {
            hasMore = true;
            break;
          }
          byId.set(e.id, { first: e.kind, last: e.kind });
        }
        upTo = e.seq;
      }
      if (!hasMore) upTo = this.lastSeq[type];
    }
    const created: string[] = [];
    const updated: string[] = [];
    const destroyed: string[] = [];
    for (const [id, { first, last }] of byId) {
      const existedBefore = first !== 'created';
      const existsNow = last !== 'destroyed';
      if (!existsNow) destroyed.push(id);
      else if (!existedBefore) created.push(id);
      else updated.push(id);
    }
    return {
      old_state: this.token(type, sinceSeq),
      new_state: this.token(type, upTo),
      has_more: hasMore,
      created,
      updated,
      destroyed,
    };
  }

  /** Index of the first entry with seq > sinceSeq (binary search; seqs ascend). */
  private startIndex(sinceSeq: number): number {
    let lo = this.head;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.entries[mid]?.seq ?? Infinity) <= sinceSeq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
