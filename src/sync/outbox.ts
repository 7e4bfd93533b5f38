// The outbox flusher: the upstream half of replication (STYLE.md "direction per
// file"). Only the network leader runs it (DESIGN.md invariant 7); it sends the
// mutation entries every tab writes to the outbox table as guarded batch calls:
//
// - coalescing: entries with the same op share `messages:batch-update` /
//   `messages:batch-delete` calls of at most `batchIds` ids; ops of one id go out in
//   `seq` order (outboxPlan.ts);
// - guarded: every call carries `if_in_state` = the replica's message token
//   (docs/search-and-batch.md; invariant 5). On success, when `states.old_state` is
//   the local token, the acknowledged ops are folded into the server copies and the
//   token fast-forwards to `new_state` in the same transaction (invariant 1): no
//   refetch. Otherwise the flusher pulls changes first and then drops the ops;
//   `not_found` / per-id `failed` roll back (or, for removes, finish) just those ids;
// - 409 conflict: pull changes (the overlay rebases pending ops on the new server
//   records), retry with the new state, bounded; then the conflict policy decides;
// - network errors, 5xx, 429 (Retry-After honoured) keep entries queued and retry with
//   backoff on the engine's injectable timers; other 4xx roll the batch back.
//
// Every effect is reported: outcomes to `onOutcomes`, failures to the engine's
// errors sink. Nothing throws into the void.
import { live } from '../store/live.js';
import { SendmuxApiError } from '../api/index.js';
import { getTokens } from '../store/apply.js';
import {
  activeMutations,
  pruneSettled,
  recoverMutations,
  setMutationStatus,
  settleMutations,
  type MutationEntry,
  type MutationErrorDetail,
  type MutationOutcome,
  type Settlement,
} from '../store/outbox.js';
import type { SyncContext } from './context.js';
import { SyncError, toSyncError } from './errors.js';
import { planRound, type PlannedBatch } from './outboxPlan.js';
import { defaultEnvironment, type EnvironmentSignals } from './poll.js';
import {
  DEFAULT_OUTBOX_BACKOFF,
  classifyFailure,
  initialEntryState,
  outboxBackoff,
  reduceEntry,
  type ConflictPolicy,
  type OutboxBackoff,
  type OutboxEntryState,
} from './outboxState.js';

/** Outcomes of one entry, as settled by the leader. */
export interface SettledOutcomes {
  seq: number;
  /** The engine instance that enqueued the entry. */
  origin: string;
  /** Outcomes settled by this commit. */
  outcomes: MutationOutcome[];
  /** When the entry has no unsettled id left: every outcome of the entry (earlier commits, or another leader, included). */
  all?: MutationOutcome[];
}

/** Options of {@link startOutboxFlusher}. */
export interface OutboxFlusherOptions {
  /** This engine instance's id: its own settled entries are deleted at once. */
  origin: string;
  /** After the bounded rebases (default `'force'`; see {@link ConflictPolicy}). */
  conflict?: ConflictPolicy;
  /** Guarded retries after a 409 before the policy applies (default 3). */
  maxRebases?: number;
  /** Backoff after network errors, 5xx and 429 (default 1 s doubling to 60 s, jittered). */
  backoff?: Partial<OutboxBackoff>;
  /** Settled entries of other tabs are kept this long for them to read (default 10 min). */
  settledRetentionMs?: number;
  /**
   * Connectivity: while it says offline nothing is sent; `online` flushes at once,
   * skipping any backoff. Default: the browser's signals, or always online in Node.
   */
  environment?: EnvironmentSignals;
  /** Called after each commit with the outcomes it settled (any origin). */
  onOutcomes(settled: SettledOutcomes[]): void;
}

/** Handle of a running flusher. */
export interface OutboxFlusher {
  /** New entries were written: flush soon (coalesced; respects a running backoff). */
  nudge(): void;
  /**
   * Defers flushing while a local enqueue is in flight, so mutations made together
   * coalesce into few calls. Returns the release function.
   */
  hold(): () => void;
  /** Skips any backoff and flushes now (e.g. on the `online` signal); resolves when the run ends. */
  flush(): Promise<void>;
  /** Stops timers and the outbox watcher (the engine's abort signal does this too). */
  stop(): void;
}

const USER = { priority: 'user', retry: false } as const;

function errorDetail(error: unknown): MutationErrorDetail {
  if (error instanceof SendmuxApiError) return { code: error.code, message: error.message, status: error.status };
  return { code: 'unknown', message: error instanceof Error ? error.message : String(error) };
}

/** Starts the flusher of one engine; it runs only while `ctx` holds the leadership. */
export function startOutboxFlusher(ctx: SyncContext, options: OutboxFlusherOptions): OutboxFlusher {
  const { db, clock } = ctx;
  const policy = options.conflict ?? 'force';
  const maxRebases = Math.max(0, options.maxRebases ?? 3);
  const backoff: OutboxBackoff = { ...DEFAULT_OUTBOX_BACKOFF, ...options.backoff };
  const retention = options.settledRetentionMs ?? 10 * 60_000;
  const states = new Map<number, OutboxEntryState>();

  let stopped = false;
  let leader = false;
  let holds = 0;
  let dirty = false;
  let running: Promise<void> | undefined;
  let backoffTimer: unknown;
  let waiting = false;
  let transientFailures = 0;
  let pullAfter = false;
  let watcher: { unsubscribe(): void } | undefined;
  const env = options.environment ?? defaultEnvironment();

  // Flush failures are 'mutation_failed' (network failures become 'offline',
  // rejected keys 'unauthorized'), with an "outbox:" message prefix.
  const report = (step: string, error: unknown) => ctx.reportError(toSyncError('mutation_failed', `outbox: ${step}`, error));

  function kick(): void {
    if (stopped || !leader || waiting || holds > 0 || !dirty || !env.isOnline() || ctx.isPaused()) return;
    running ??= run().finally(() => {
      running = undefined;
      kick();
    });
  }

  function nudge(): void {
    dirty = true;
    kick();
  }

  function scheduleBackoff(failures: number, retryAfterMs?: number): void {
    if (stopped) return;
    if (backoffTimer !== undefined) clock.clearTimeout(backoffTimer);
    waiting = true;
    dirty = true;
    backoffTimer = clock.setTimeout(() => {
      backoffTimer = undefined;
      waiting = false;
      kick();
    }, outboxBackoff(failures, backoff, clock.random, retryAfterMs));
  }

  /** Wakes the flusher when the earliest delay (undo window) of `entries` ends. */
  let holdTimer: unknown;
  let holdAt = Infinity;
  function armHold(entries: readonly MutationEntry[], now: number): void {
    let next = Infinity;
    for (const e of entries) {
      const until = e.mutation.hold_until ?? 0;
      if (until > now && until < next) next = until;
    }
    if (next === holdAt) return;
    if (holdTimer !== undefined) clock.clearTimeout(holdTimer);
    holdTimer = undefined;
    holdAt = next;
    if (next === Infinity || stopped) return;
    holdTimer = clock.setTimeout(() => {
      holdTimer = undefined;
      holdAt = Infinity;
      nudge();
    }, next - now);
  }

  function clearBackoff(): void {
    if (backoffTimer !== undefined) clock.clearTimeout(backoffTimer);
    backoffTimer = undefined;
    waiting = false;
  }

  async function run(): Promise<void> {
    try {
      while (dirty && !stopped && leader && !waiting && holds === 0 && !ctx.isPaused() && env.isOnline()) {
        dirty = false;
        await round();
      }
      if (pullAfter && !stopped && leader && !dirty) {
        // Fast-forwarded acks moved the server's folders and threads too (counters,
        // folder_ids); their tokens were not fast-forwarded, so pull them now.
        pullAfter = false;
        ctx.pullChanges('outbox').catch(() => undefined); // failures are on errors$ already
      }
    } catch (error) {
      if (stopped) return;
      report('flushing the outbox', error);
      transientFailures += 1;
      scheduleBackoff(transientFailures);
    }
  }

  function stateOf(seq: number): OutboxEntryState {
    let s = states.get(seq);
    if (!s) {
      s = initialEntryState();
      states.set(seq, s);
    }
    return s;
  }

  function dispatchAll(seqs: Iterable<number>, action: Parameters<typeof reduceEntry>[1]): void {
    for (const seq of seqs) states.set(seq, reduceEntry(stateOf(seq), action));
  }

  async function round(): Promise<void> {
    await pruneSettled(db, clock.now() - retention);
    // Nothing of ours is in flight between rounds: whatever says otherwise was left
    // by a leader that is gone, or by an interrupted round of this one.
    await recoverMutations(db);
    const entries = await activeMutations(db);
    const live = new Set(entries.map((e) => e.seq));
    for (const seq of [...states.keys()]) if (!live.has(seq)) states.delete(seq);
    for (const e of entries) states.set(e.seq, reduceEntry(stateOf(e.seq), { type: 'recovered' }));
    if (entries.length === 0) return;
    // Went offline while this round read the outbox: send nothing; `online` nudges.
    if (!env.isOnline()) {
      dirty = true;
      return;
    }
    // Never synced: no token to guard with yet. The watcher nudges when one lands.
    if ((await ctx.messageState()) === undefined) return;
    const now = clock.now();
    const plan = planRound(
      entries.map((e) => ({ seq: e.seq, ids: e.ids, op: e.op, force: stateOf(e.seq).force, held: (e.mutation.hold_until ?? 0) > now })),
      ctx.limits().batchIds,
    );
    if (plan.deferred.length > 0) dirty = true;
    armHold(entries, now);
    const bySeq = new Map(entries.map((e) => [e.seq, e]));
    for (const batch of plan.batches) {
      if (stopped || !leader) return;
      if (holds > 0) {
        // Local mutations are being written: re-plan once they land, so they join.
        dirty = true;
        return;
      }
      if (!(await send(batch, bySeq))) return;
    }
  }

  /** Sends one batch and handles the answer; false ends the round. */
  async function send(planned: PlannedBatch, bySeq: ReadonlyMap<number, MutationEntry>): Promise<boolean> {
    // Claim the entries; one cancelled since the round read it (undo, from any tab) is
    // not claimed and not sent.
    const claimed = new Set(await setMutationStatus(db, [...new Set(planned.items.map((i) => i.seq))], 'sending', true));
    const batch: PlannedBatch = { ...planned, items: planned.items.filter((i) => claimed.has(i.seq)) };
    if (batch.items.length === 0) return true;
    const seqs = [...claimed];
    const ids = batch.items.map((i) => i.id);
    dispatchAll(seqs, { type: 'send' });
    const token = await ctx.messageState();
    const guard = batch.force || token === undefined ? {} : { if_in_state: token };
    let result: { ok: string[]; not_found: string[]; failed: { id: string; code: string; message: string }[]; states: { old_state: string | null; new_state: string | null } };
    try {
      if (batch.op.kind === 'update') {
        const p = batch.op.patch;
        const body = {
          ids,
          ...(p.seen !== undefined ? { seen: p.seen } : {}),
          ...(p.flagged !== undefined ? { flagged: p.flagged } : {}),
          ...(p.keywords ? { keywords: p.keywords } : {}),
          ...guard,
        };
        const { data } = await ctx.api.batchUpdateMessages({ body }, { ...USER, signal: ctx.stopped });
        result = { ok: data.updated, not_found: data.not_found, failed: data.failed, states: data.states };
      } else {
        const body = { ids, permanent: batch.op.permanent, ...guard };
        const { data } = await ctx.api.batchDeleteMessages({ body }, { ...USER, signal: ctx.stopped });
        result = { ok: data.deleted, not_found: data.not_found, failed: data.failed, states: data.states };
      }
    } catch (error) {
      return failed(batch, seqs, error);
    }
    transientFailures = 0;

    const ok = new Set(result.ok);
    const notFound = new Set(result.not_found);
    const failures = new Map(result.failed.map((f) => [f.id, f]));
    const settlements: Settlement[] = batch.items.map(({ seq, id }) => {
      const acked: MutationOutcome['status'] = stateOf(seq).rebased ? 'rebased' : 'applied';
      const f = failures.get(id);
      if (f) return { seq, id, server: 'keep', outcome: { id, status: 'rolled_back', reason: 'failed', error: { code: f.code, message: f.message } } };
      if (notFound.has(id)) {
        // A remove of a message the server no longer has is done (a retry after a
        // crash between server apply and local ack lands here); an update is not.
        const outcome: MutationOutcome =
          batch.op.kind === 'remove' ? { id, status: acked, reason: 'not_found' } : { id, status: 'rolled_back', reason: 'not_found' };
        return { seq, id, server: 'gone', outcome };
      }
      if (ok.has(id)) return { seq, id, server: 'apply', outcome: { id, status: acked } };
      return {
        seq,
        id,
        server: 'keep',
        outcome: { id, status: 'rolled_back', reason: 'failed', error: { code: 'protocol_error', message: 'the batch result did not list this id' } },
      };
    });

    const { old_state: oldState, new_state: newState } = result.states;
    let committed = false;
    // docs/sync.md: old_state is the state the batch applied to; when it is ours (a
    // guarded call always; a forced one when nothing else changed), the batch is the
    // only change between the two states and new_state describes exactly "our
    // records + these ops". settleMutations re-checks the token in its transaction.
    if (token !== undefined && oldState !== null && newState !== null && oldState === token) {
      committed = await settle(settlements, bySeq, { oldState, newState });
      if (committed) pullAfter = true;
    }
    if (!committed) {
      // The replica is not at the state the server applied this batch to (a forced
      // write, or a pull landed meanwhile): pull, so the server copies include the
      // batch's effect, then drop the ops without folding them in again.
      try {
        await ctx.pullChanges('outbox');
      } catch (error) {
        return transient(seqs, error);
      }
      await settle(
        settlements.map((s) => (s.server === 'apply' ? { ...s, server: 'keep' } : s)),
        bySeq,
      );
    }
    return true;
  }

  /** Commits settlements and reports them; the round's entries in `bySeq` are updated in place. */
  async function settle(settlements: Settlement[], bySeq: ReadonlyMap<number, MutationEntry>, fastForward?: { oldState: string; newState: string }): Promise<boolean> {
    const done = await settleMutations(db, settlements, {
      ...(fastForward ? { fastForward } : {}),
      keepSettled: (entry) => entry.mutation.origin !== options.origin,
      now: clock.now(),
    });
    if (!done) return false;
    const bySeqOutcomes = new Map<number, MutationOutcome[]>();
    for (const s of settlements) {
      const list = bySeqOutcomes.get(s.seq) ?? [];
      list.push(s.outcome);
      bySeqOutcomes.set(s.seq, list);
    }
    const settled: SettledOutcomes[] = [];
    for (const [seq, outcomes] of bySeqOutcomes) {
      const entry = bySeq.get(seq);
      if (!entry) continue;
      // Keep the round's copy of the entry current (an entry can span several batches).
      const remaining = entry.ids.filter((id) => !outcomes.some((o) => o.id === id));
      const all = [...(entry.mutation.outcomes ?? []), ...outcomes];
      entry.ids = remaining;
      entry.mutation = { ...entry.mutation, outcomes: all };
      settled.push({ seq, origin: entry.mutation.origin, outcomes, ...(remaining.length === 0 ? { all } : {}) });
      if (remaining.length === 0) {
        dispatchAll([seq], outcomes.every((o) => o.status === 'rolled_back') ? { type: 'rejected' } : { type: 'acked' });
        states.delete(seq);
      }
    }
    if (settled.length > 0) options.onOutcomes(settled);
    return true;
  }

  /**
   * 401 (on the batch call, or the pull it needed): keeps the entries queued without
   * counting a failure, and pauses the network until syncNow(); resuming flushes them.
   */
  async function unauthorized(seqs: number[], error: unknown): Promise<false> {
    if (stopped) return false;
    dispatchAll(seqs, { type: 'paused' });
    await setMutationStatus(db, seqs, 'pending');
    dirty = true;
    ctx.unauthorized(error);
    return false;
  }

  /** Keeps the entries queued and backs off (network, 5xx, 429, or a failed pull). */
  async function transient(seqs: number[], error: unknown): Promise<false> {
    if (stopped) return false;
    if (error instanceof SyncError && error.code === 'unauthorized') return unauthorized(seqs, error);
    dispatchAll(seqs, { type: 'retry_later' });
    await setMutationStatus(db, seqs, 'pending');
    transientFailures += 1;
    // A failed pull is already on errors$ (the engine reports its own pulls).
    if (!(error instanceof SyncError)) report('sending queued mutations (will retry)', error);
    scheduleBackoff(transientFailures, error instanceof SendmuxApiError ? error.retryAfterMs : undefined);
    return false;
  }

  async function failed(batch: PlannedBatch, seqs: number[], error: unknown): Promise<boolean> {
    const kind = classifyFailure(error);
    if (kind === 'aborted' || stopped) return false;
    if (kind === 'transient') return transient(seqs, error);
    if (kind === 'unauthorized') return unauthorized(seqs, error);
    transientFailures = 0;
    const bySeq = new Map((await activeMutations(db)).map((e) => [e.seq, e]));
    if (kind === 'permanent') {
      report(`the server rejected a ${batch.op.kind} of ${batch.items.length} message(s); rolled back`, error);
      const detail = errorDetail(error);
      dispatchAll(seqs, { type: 'rejected' });
      await settle(batch.items.map(({ seq, id }) => ({ seq, id, server: 'keep', outcome: { id, status: 'rolled_back', reason: 'rejected', error: detail } })), bySeq);
      return true;
    }
    // 409 conflict: pull (the overlay rebases every pending op on the new server
    // records), then retry with the new state, or apply the policy.
    await setMutationStatus(db, seqs, 'rebasing');
    dispatchAll(seqs, { type: 'conflict', policy, maxRebases });
    try {
      await ctx.pullChanges('outbox conflict');
    } catch (pullError) {
      return transient(seqs, pullError);
    }
    const rejected = seqs.filter((seq) => stateOf(seq).status === 'failed');
    if (rejected.length > 0) {
      const detail = errorDetail(error);
      const gone = new Set(rejected);
      await settle(
        batch.items.filter((i) => gone.has(i.seq)).map(({ seq, id }) => ({ seq, id, server: 'keep', outcome: { id, status: 'rolled_back', reason: 'conflict', error: detail } })),
        bySeq,
      );
    }
    const retry = seqs.filter((seq) => stateOf(seq).status === 'rebasing');
    dispatchAll(retry, { type: 'rebased' });
    await setMutationStatus(db, retry, 'pending');
    dirty = true;
    // Policy 'rebase' past the bounded attempts: keep trying guarded, but back off.
    const overdue = Math.max(0, ...retry.map((seq) => stateOf(seq).conflicts - maxRebases));
    if (policy === 'rebase' && overdue > 0) scheduleBackoff(overdue);
    return false;
  }

  // --- leadership and the outbox watcher ---------------------------------------------
  function startWatching(): void {
    let lastSeq = -1;
    let hadToken = false;
    watcher = live(async () => ({
      last: ((await db.outbox.orderBy(':id').lastKey()) as number | undefined) ?? 0,
      token: (await getTokens(db)).messages !== undefined,
    })).subscribe({
      next: ({ last, token }) => {
        // New entries (from this tab or a follower tab), or the first token after a
        // bootstrap: flush. Our own status writes do not move `last`.
        if (last > lastSeq || (token && !hadToken)) nudge();
        lastSeq = Math.max(lastSeq, last);
        hadToken = token;
      },
      error: (error: unknown) => report('watching the outbox', error),
    });
  }

  const leaderSub = ctx.leader$.subscribe((isLeader) => {
    if (isLeader === leader || stopped) return;
    leader = isLeader;
    if (leader) {
      startWatching();
      nudge();
    } else {
      watcher?.unsubscribe();
      watcher = undefined;
      clearBackoff();
    }
  });

  // syncNow() after a 401: what waited goes now.
  const pausedSub = ctx.paused$.subscribe((isPaused) => {
    if (!isPaused && !stopped) nudge();
  });

  // Back online: whatever waits (offline, or backing off after network errors) goes now.
  const unsubscribeEnv = env.subscribe((event) => {
    if (event !== 'online') return;
    clearBackoff();
    nudge();
  });

  function stop(): void {
    if (stopped) return;
    stopped = true;
    leader = false;
    clearBackoff();
    if (holdTimer !== undefined) clock.clearTimeout(holdTimer);
    holdTimer = undefined;
    watcher?.unsubscribe();
    leaderSub.unsubscribe();
    pausedSub.unsubscribe();
    unsubscribeEnv();
  }
  ctx.stopped.addEventListener('abort', stop, { once: true });
  if (ctx.stopped.aborted) stop();

  return {
    nudge,
    hold() {
      holds += 1;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        holds -= 1;
        kick();
      };
    },
    async flush() {
      clearBackoff();
      nudge();
      await running;
    },
    stop,
  };
}
