// The engine's mutation service: durable enqueue (with group commit), outcome
// delivery to the caller's promise and to `outcomes$`, and the leader's flusher.
//
// Every engine (leader or follower tab) writes mutations to the shared outbox table
// in one transaction with their optimistic effect (DESIGN.md invariant 4); only the
// leader sends them (invariant 7). The caller's promise resolves when the server
// acknowledged or rolled back every id. Outcomes of entries written by this engine
// reach it directly when it leads, or through the outbox table (the leader keeps
// settled entries of other tabs until their origin takes them) when it follows.
import { live } from '../store/live.js';
import { Subject, type Observable } from 'rxjs';
import { cancelMutation, enqueueMutations, takeSettled, type MutationOutcome, type NewMutation } from '../store/outbox.js';
import type { SyncContext } from './context.js';
import { SyncError, toSyncError } from './errors.js';
import { startOutboxFlusher, type OutboxFlusher, type OutboxFlusherOptions, type SettledOutcomes } from './outbox.js';

/** Options of the outbox flusher (`createMailboxSync({ outbox })`) (flusher settings; all optional). */
export type OutboxOptions = Partial<Omit<OutboxFlusherOptions, 'onOutcomes'>>;

/** The mutation service of one engine. */
export interface Outbox {
  /**
   * Writes one mutation to the outbox with its optimistic effect (committed together
   * with other mutations submitted in the same tick) and resolves with one outcome per
   * id once the server acknowledged or rolled back every id. Offline, it stays
   * pending until the network is back. Rejects with a SyncError when the write fails
   * (`storage_failed`) or when the engine stops first (`stopped`: the entry stays
   * queued and the next engine on this database sends it).
   */
  submit(mutation: NewMutation, options?: SubmitOptions): Promise<MutationOutcome[]>;
  /**
   * Cancels entry `seq` if no leader has sent it yet (undo): its ids settle as
   * `rolled_back` / `cancelled` and the optimistic effect is undone. Returns the
   * outcomes, or undefined when it was already sent, in flight or settled.
   */
  cancel(seq: number): Promise<MutationOutcome[] | undefined>;
  /** Every outcome this engine learns: all it settles as leader, and its own as follower. */
  readonly outcomes$: Observable<MutationOutcome>;
  /** Flushes now, skipping any backoff (leader only; resolves when the run ends). */
  flush(): Promise<void>;
  /** Stops the flusher and watchers; pending promises reject with `stopped`. Also runs when the engine's signal aborts. */
  stop(): void;
}

/** Options of {@link Outbox.submit}. */
export interface SubmitOptions {
  /**
   * Aborting it cancels the mutation while it is not sent yet (with `holdUntil`, during
   * its delay): the promise then resolves with `rolled_back` / `cancelled` outcomes.
   * Once sent, aborting changes nothing.
   */
  signal?: AbortSignal;
}

interface Waiter {
  resolve(outcomes: MutationOutcome[]): void;
  reject(error: unknown): void;
}

interface Queued {
  mutation: NewMutation;
  done(seq: number): void;
  fail(error: unknown): void;
}

function randomOrigin(random: () => number): string {
  const uuid = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto?.randomUUID;
  if (uuid) return uuid.call((globalThis as { crypto: unknown }).crypto);
  return `o${Math.floor(random() * 2 ** 52).toString(36)}${Date.now().toString(36)}`;
}

function stoppedError(): SyncError {
  return new SyncError('stopped', 'the engine stopped before the server answered; the mutation stays queued and the next engine on this database sends it', {
    retryable: false,
  });
}

/** Creates the mutation service of an engine (call once per engine, with its context). */
export function createOutbox(ctx: SyncContext, options: OutboxOptions = {}): Outbox {
  const origin = options.origin ?? randomOrigin(ctx.clock.random);
  const outcomes = new Subject<MutationOutcome>();
  const waiters = new Map<number, Waiter>();
  let stopped = false;

  function deliver(settled: readonly SettledOutcomes[]): void {
    for (const s of settled) {
      for (const o of s.outcomes) outcomes.next(o);
      if (s.all && s.origin === origin) {
        waiters.get(s.seq)?.resolve(s.all);
        waiters.delete(s.seq);
      }
    }
  }

  const flusher: OutboxFlusher = startOutboxFlusher(ctx, { ...options, origin, onOutcomes: deliver });

  // --- outcomes of our entries settled by another tab's leader -------------------------
  let taking = false;
  let again = false;
  function takeOurs(): void {
    if (waiters.size === 0 || stopped) return;
    if (taking) {
      again = true;
      return;
    }
    taking = true;
    takeSettled(ctx.db, origin)
      .then((entries) => {
        for (const e of entries) {
          const all = e.mutation.outcomes ?? [];
          for (const o of all) outcomes.next(o);
          waiters.get(e.seq)?.resolve(all);
          waiters.delete(e.seq);
        }
      })
      .catch((error: unknown) => ctx.reportError(toSyncError('storage_failed', 'outbox: reading settled mutations', error)))
      .finally(() => {
        taking = false;
        if (again) {
          again = false;
          takeOurs();
        }
      });
  }
  const settledWatch = live(() => ctx.db.outbox.where('status').anyOf(['acked', 'failed']).primaryKeys()).subscribe({
    next: takeOurs,
    error: (error: unknown) => ctx.reportError(toSyncError('storage_failed', 'outbox: watching settled mutations', error)),
  });

  // --- group commit ----------------------------------------------------------------------
  // Mutations submitted in the same tick share one transaction (each keeps its own
  // entry and order); the flusher is held until they are committed, so a burst of
  // calls coalesces into few batch requests.
  let queue: Queued[] = [];
  let release: (() => void) | undefined;
  let committing = false;

  async function commit(): Promise<void> {
    committing = true;
    while (queue.length > 0) {
      const batch = queue;
      queue = [];
      try {
        const seqs = await enqueueMutations(ctx.db, batch.map((q) => q.mutation), origin, ctx.clock.now());
        // Stopped while writing: the entries are durable, but no one will settle them here.
        batch.forEach((q, i) => (stopped ? q.fail(stoppedError()) : q.done(seqs[i] as number)));
      } catch (error) {
        const e = toSyncError('storage_failed', 'outbox: writing mutations', error);
        for (const q of batch) q.fail(e);
      }
    }
    committing = false;
    const r = release;
    release = undefined;
    r?.();
    flusher.nudge();
  }

  function stop(): void {
    if (stopped) return;
    stopped = true;
    flusher.stop();
    settledWatch.unsubscribe();
    const error = stoppedError();
    for (const w of waiters.values()) w.reject(error);
    waiters.clear();
    for (const q of queue.splice(0)) q.fail(error);
    release?.();
    release = undefined;
    outcomes.complete();
  }
  ctx.stopped.addEventListener('abort', stop, { once: true });
  if (ctx.stopped.aborted) stop();

  async function cancel(seq: number): Promise<MutationOutcome[] | undefined> {
    const all = await cancelMutation(ctx.db, seq, {
      // Another tab's entry: kept for its origin to take, like any settled one.
      keepSettled: (entry) => entry.mutation.origin !== origin,
      now: ctx.clock.now(),
    });
    if (!all) return undefined;
    flusher.nudge(); // entries that waited behind it (same ids) may go now
    const waiter = waiters.get(seq);
    if (waiter) {
      for (const o of all) outcomes.next(o);
      waiters.delete(seq);
      waiter.resolve(all);
    }
    return all;
  }

  function cancelOnAbort(seq: number, signal: AbortSignal | undefined): void {
    if (!signal) return;
    const onAbort = () => {
      cancel(seq).catch((error: unknown) => ctx.reportError(toSyncError('storage_failed', 'outbox: cancelling a mutation', error)));
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  }

  return {
    submit(mutation, submitOptions = {}) {
      if (stopped) return Promise.reject(new SyncError('stopped', 'the engine is stopped: create a new engine to mutate', { retryable: false }));
      if (mutation.ids.length === 0) return Promise.resolve([]);
      return new Promise<MutationOutcome[]>((resolve, reject) => {
        queue.push({
          mutation,
          done: (seq) => {
            waiters.set(seq, { resolve, reject });
            cancelOnAbort(seq, submitOptions.signal);
          },
          fail: reject,
        });
        release ??= flusher.hold();
        if (!committing) {
          committing = true;
          // Let the rest of this tick's calls join the transaction.
          void Promise.resolve().then(commit);
        }
      });
    },
    cancel,
    outcomes$: outcomes.asObservable(),
    flush: () => flusher.flush(),
    stop,
  };
}
