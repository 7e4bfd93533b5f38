// Pending mutations in memory (issue 14 "Views that change in one frame"): what this
// engine's update() calls do to the visible records, applied by the views to what
// they last read before the outbox transaction has committed, so an optimistic
// change reaches every subscribed view in the same task, without a database read.
//
// An effect is added when update() is called and dropped when its mutation settles
// (acknowledged, rebased, rolled back) or its local write fails. Meanwhile the
// database holds the same op in the overlay (visible = server + pending): an update
// is an absolute set, so applying it again to a record read after its commit changes
// nothing, and a view shows the same record before and after the commit lands (no
// flicker). When a rollback drops the op, the overlay's recompute and the effect's
// removal both lead to the server's record. Other tabs and processes learn of the
// change through the database, as before.
import { BehaviorSubject, type Observable } from 'rxjs';
import type { Message } from '../api/index.js';
import { addMessageDelta, applyOps, emptyDelta, type CounterDelta, type MessagePatch, type PendingOp } from './pending.js';

/** Records kept for {@link PendingEffects.remembered} (about a screen of lists, many times over). */
const REMEMBERED = 5_000;

/** One engine's not-yet-settled update() calls, in call order. */
export class PendingEffects {
  private next = 0;
  private readonly entries = new Map<number, { ids: ReadonlySet<string>; op: PendingOp }>();
  private readonly version = new BehaviorSubject(0);
  /** Records the views last read, by id (insertion order: the oldest is evicted first). */
  private readonly seen = new Map<string, Message>();

  /** Emits (the current version first) whenever an effect is added or dropped. */
  get changes$(): Observable<number> {
    return this.version.asObservable();
  }

  /** Registers an update of `ids`; returns the function that drops it (idempotent). */
  add(ids: readonly string[], patch: MessagePatch): () => void {
    const key = this.next++;
    this.entries.set(key, { ids: new Set(ids), op: { kind: 'update', patch } });
    this.version.next(this.version.value + 1);
    return () => {
      if (this.entries.delete(key)) this.version.next(this.version.value + 1);
    };
  }

  /**
   * Notes records a view read, so that a counter can apply an effect at once to a
   * record it did not read itself (until its own re-read, which reads the records).
   */
  remember(records: Iterable<Message | undefined>): void {
    for (const m of records) {
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

  /** Whether no effect is pending (views then pass what they read through untouched). */
  get empty(): boolean {
    return this.entries.size === 0;
  }

  /** The ids with a pending effect. */
  ids(): Set<string> {
    const out = new Set<string>();
    for (const { ids } of this.entries.values()) for (const id of ids) out.add(id);
    return out;
  }

  /** The pending ops of one message, in call order. */
  opsOf(id: string): PendingOp[] {
    const ops: PendingOp[] = [];
    for (const { ids, op } of this.entries.values()) if (ids.has(id)) ops.push(op);
    return ops;
  }

  /** A record as read, with this engine's pending effects applied (the same object when none applies). */
  apply(message: Message): Message;
  apply(message: Message | undefined): Message | undefined;
  apply(message: Message | undefined): Message | undefined {
    if (!message || this.entries.size === 0) return message;
    const ops = this.opsOf(message.id);
    return ops.length === 0 ? message : applyOps(message, ops);
  }

  /**
   * Counter deltas (effects applied − as read) of records read together with a
   * counter: added to the counters read in the same transaction, they give the
   * counters the effects lead to. A record read after its effect committed
   * contributes nothing (the effect is already in it).
   */
  delta(read: Iterable<Message | undefined>): CounterDelta {
    const out = emptyDelta();
    for (const message of read) if (message) addMessageDelta(out, message, this.apply(message));
    return out;
  }
}
