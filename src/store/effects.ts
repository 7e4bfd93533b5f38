// Pending mutations in memory (issue 14 "Views that change in one frame"): what this
// engine's update() calls do to the visible records, applied by the views to what
// they last read before the outbox transaction has committed, so an optimistic
// change reaches every subscribed view in the same task, without a database read.
//
// An effect is added when update() is called and ends when its mutation settles.
// Meanwhile the database holds the same op in the overlay (visible = server +
// pending): an update is an absolute set, so applying it again to a record read after
// its commit changes nothing, and a view shows the same record before and after the
// commit lands (no flicker). Each view read is stamped with the version of the
// effects when it started: an acknowledged effect still applies to reads that started
// before it ended (a paced view may not have re-read since the commit), never to later
// ones. A rolled-back one (or one whose local write failed) applies to no read at
// all: the database's rollback is what the next read shows, and until then the read
// it has holds the op from the overlay. Other tabs and processes learn of the change
// through the database, as before.
import { BehaviorSubject, type Observable } from 'rxjs';
import type { Message } from '../api/index.js';
import { addMessageDelta, applyOps, emptyDelta, type CounterDelta, type MessagePatch, type PendingOp } from './pending.js';

/** Records kept for {@link PendingEffects.remembered} (about a screen of lists, many times over). */
const REMEMBERED = 5_000;

/** How long an acknowledged effect is kept for reads that started before it ended. */
const RETAIN_MS = 60_000;

/** A stamp for reads that see only effects still pending. */
export const LATEST = Number.POSITIVE_INFINITY;

interface Entry {
  ids: Set<string>;
  op: PendingOp;
  /** The version at which it ended (undefined: pending), and when. */
  endedAt?: number;
  endedMs?: number;
}

/** One engine's not-yet-settled update() calls, in call order. */
export class PendingEffects {
  private next = 0;
  private readonly entries = new Map<number, Entry>();
  private readonly versions = new BehaviorSubject(0);
  /** Records the views last read, by id (insertion order: the oldest is evicted first). */
  private readonly seen = new Map<string, Message>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Emits (the current version first) whenever an effect is added or ends. */
  get changes$(): Observable<number> {
    return this.versions.asObservable();
  }

  /** The current version: stamp a read with it when it starts. */
  get version(): number {
    return this.versions.value;
  }

  /**
   * Registers an update of `ids`. Returns the function that ends it: with the ids
   * the server refused (rolled back), or `'all'` when the local write failed.
   */
  add(ids: readonly string[], patch: MessagePatch): (refused?: Iterable<string> | 'all') => void {
    const key = this.next++;
    this.prune();
    const entry: Entry = { ids: new Set(ids), op: { kind: 'update', patch } };
    this.entries.set(key, entry);
    this.bump();
    return (refused) => {
      if (entry.endedAt !== undefined || !this.entries.has(key)) return;
      if (refused === 'all') this.entries.delete(key);
      else {
        for (const id of refused ?? []) entry.ids.delete(id);
        entry.endedAt = this.version + 1;
        entry.endedMs = this.now();
      }
      this.bump();
    };
  }

  private bump(): void {
    this.versions.next(this.versions.value + 1);
  }

  /** Forgets acknowledged effects every view has had time to re-read past. */
  private prune(): void {
    const now = this.now();
    for (const [key, e] of this.entries) if (e.endedMs !== undefined && now - e.endedMs > RETAIN_MS) this.entries.delete(key);
  }

  private applies(e: Entry, readAt: number): boolean {
    return e.endedAt === undefined || readAt < e.endedAt;
  }

  /** Whether no effect applies to a read stamped `readAt` (views then pass it through untouched). */
  emptyFor(readAt: number = LATEST): boolean {
    for (const e of this.entries.values()) if (this.applies(e, readAt) && e.ids.size > 0) return false;
    return true;
  }

  /** The ids with an effect that applies to a read stamped `readAt`. */
  ids(readAt: number = LATEST): Set<string> {
    const out = new Set<string>();
    for (const e of this.entries.values()) if (this.applies(e, readAt)) for (const id of e.ids) out.add(id);
    return out;
  }

  /** The ops of one message that apply to a read stamped `readAt`, in call order. */
  opsOf(id: string, readAt: number = LATEST): PendingOp[] {
    const ops: PendingOp[] = [];
    for (const e of this.entries.values()) if (e.ids.has(id) && this.applies(e, readAt)) ops.push(e.op);
    return ops;
  }

  /** A record as read at `readAt`, with the effects that apply to it (the same object when none does). */
  apply(message: Message, readAt?: number): Message;
  apply(message: Message | undefined, readAt?: number): Message | undefined;
  apply(message: Message | undefined, readAt: number = LATEST): Message | undefined {
    if (!message || this.entries.size === 0) return message;
    const ops = this.opsOf(message.id, readAt);
    return ops.length === 0 ? message : applyOps(message, ops);
  }

  /**
   * Counter deltas (effects applied − as read) of records read together with a
   * counter: added to the counters read in the same transaction, they give the
   * counters the effects lead to. A record read after its effect committed
   * contributes nothing (the effect is already in it).
   */
  delta(read: Iterable<Message | undefined>, readAt: number = LATEST): CounterDelta {
    const out = emptyDelta();
    for (const message of read) if (message) addMessageDelta(out, message, this.apply(message, readAt));
    return out;
  }

  /**
   * Notes records a view read, so that a counter can apply an effect at once to a
   * record it did not read itself (until its own re-read, which reads the records).
   */
  remember(records: Iterable<Message | undefined>): void {
    // Only the last REMEMBERED of a long list can stay: skip the rest (a 100k list re-read).
    const list = Array.isArray(records) ? records.slice(-REMEMBERED) : records;
    for (const m of list as Iterable<Message | undefined>) {
      if (!m) continue;
      this.seen.delete(m.id);
      this.seen.set(m.id, m);
    }
    for (const id of this.seen.keys()) {
      if (this.seen.size <= REMEMBERED) break;
      this.seen.delete(id);
    }
  }

  /** The record of `id` a view last read, when one did recently. */
  remembered(id: string): Message | undefined {
    return this.seen.get(id);
  }
}
