// Pure parts of the outbox, without I/O: the entry reducer, failure classification,
// backoff bounds, and the coalescing planner (ordering per id, batch limits).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SendmuxApiError } from '../../src/api/index.js';
import { canonicalPatch } from '../../src/store/outbox.js';
import type { PendingOp } from '../../src/store/pending.js';
import { opKey, planRound, type PlanEntry } from '../../src/sync/outboxPlan.js';
import {
  DEFAULT_OUTBOX_BACKOFF,
  classifyFailure,
  initialEntryState,
  isTerminal,
  outboxBackoff,
  reduceEntry,
  type OutboxAction,
  type OutboxEntryState,
} from '../../src/sync/outboxState.js';

const apiError = (status: number, code: string, retryable = false, retryAfterMs?: number) =>
  new SendmuxApiError({ status, code, message: code, retryable, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });

function run(actions: OutboxAction[], from: OutboxEntryState = initialEntryState()): OutboxEntryState {
  return actions.reduce(reduceEntry, from);
}

describe('reduceEntry (pending → sending → acked | rebasing | failed)', () => {
  it('walks the happy path', () => {
    const s = run([{ type: 'send' }, { type: 'acked' }]);
    expect(s).toEqual({ status: 'acked', conflicts: 0, rebased: false, force: false });
    expect(isTerminal(s.status)).toBe(true);
  });

  it('rebases on a conflict, retries guarded, and stays rebased', () => {
    const conflict: OutboxAction = { type: 'conflict', policy: 'force', maxRebases: 3 };
    const s = run([{ type: 'send' }, conflict, { type: 'rebased' }, { type: 'send' }, { type: 'acked' }]);
    expect(s).toEqual({ status: 'acked', conflicts: 1, rebased: true, force: false });
  });

  it('forces after maxRebases conflicts under policy force', () => {
    const conflict: OutboxAction = { type: 'conflict', policy: 'force', maxRebases: 2 };
    const cycle: OutboxAction[] = [{ type: 'send' }, conflict, { type: 'rebased' }];
    const twice = run([...cycle, ...cycle]);
    expect(twice.force).toBe(false);
    const thrice = run(cycle, twice);
    expect(thrice).toMatchObject({ status: 'pending', conflicts: 3, force: true });
  });

  it('fails after maxRebases conflicts under policy fail, keeps rebasing under policy rebase', () => {
    const cycle = (policy: 'fail' | 'rebase'): OutboxAction[] => [{ type: 'send' }, { type: 'conflict', policy, maxRebases: 1 }, { type: 'rebased' }];
    expect(run([...cycle('fail'), ...cycle('fail')]).status).toBe('failed');
    const rebase = run([...cycle('rebase'), ...cycle('rebase'), ...cycle('rebase')]);
    expect(rebase).toMatchObject({ status: 'pending', conflicts: 3, force: false });
  });

  it('goes back to pending on transient failures, a 401 and on recovery', () => {
    const s = run([{ type: 'send' }, { type: 'retry_later' }, { type: 'send' }, { type: 'retry_later' }]);
    expect(s).toEqual({ status: 'pending', conflicts: 0, rebased: false, force: false });
    expect(run([{ type: 'send' }, { type: 'recovered' }]).status).toBe('pending');
    expect(run([{ type: 'send' }, { type: 'paused' }]).status).toBe('pending');
  });

  it('ignores transitions that do not apply, and terminal states are final', () => {
    const pending = initialEntryState();
    expect(reduceEntry(pending, { type: 'acked' })).toBe(pending);
    expect(reduceEntry(pending, { type: 'rebased' })).toBe(pending);
    expect(reduceEntry(pending, { type: 'recovered' })).toBe(pending);
    const acked = run([{ type: 'send' }, { type: 'acked' }]);
    for (const a of [{ type: 'send' }, { type: 'rejected' }, { type: 'retry_later' }] as OutboxAction[]) expect(reduceEntry(acked, a)).toBe(acked);
    expect(run([{ type: 'rejected' }]).status).toBe('failed');
  });
});

describe('classifyFailure', () => {
  it('branches on status and code (docs/errors.md)', () => {
    expect(classifyFailure(apiError(409, 'conflict'))).toBe('conflict');
    expect(classifyFailure(apiError(409, 'idempotency_conflict'))).toBe('permanent');
    expect(classifyFailure(apiError(0, 'network_error', true))).toBe('transient');
    expect(classifyFailure(apiError(0, 'timeout', true))).toBe('transient');
    expect(classifyFailure(apiError(0, 'aborted'))).toBe('aborted');
    expect(classifyFailure(apiError(429, 'rate_limit_exceeded', true, 2000))).toBe('transient');
    expect(classifyFailure(apiError(503, 'service_unavailable', true))).toBe('transient');
    expect(classifyFailure(apiError(500, 'internal_error', false))).toBe('transient');
    expect(classifyFailure(apiError(401, 'authentication_required'))).toBe('unauthorized');
    expect(classifyFailure(apiError(422, 'validation_error'))).toBe('permanent');
    expect(classifyFailure(apiError(400, 'invalid_parameter'))).toBe('permanent');
    expect(classifyFailure(apiError(403, 'forbidden'))).toBe('permanent');
    expect(classifyFailure(new TypeError('fetch failed'))).toBe('transient');
  });
});

describe('outboxBackoff', () => {
  it('grows exponentially within [ceiling/2, ceiling], caps, and honours Retry-After', () => {
    const p = { baseDelayMs: 100, maxDelayMs: 1000 };
    expect(outboxBackoff(1, p, () => 0)).toBe(50);
    expect(outboxBackoff(1, p, () => 0.999)).toBeLessThanOrEqual(100);
    expect(outboxBackoff(3, p, () => 0)).toBe(200);
    expect(outboxBackoff(10, p, () => 0.999)).toBeLessThanOrEqual(1000);
    expect(outboxBackoff(10, p, () => 0)).toBe(500);
    expect(outboxBackoff(1, p, () => 0, 5000)).toBe(5000);
    expect(outboxBackoff(1, DEFAULT_OUTBOX_BACKOFF, () => 0.5)).toBeGreaterThan(0);
  });
});

const seen = (on: boolean): PendingOp => ({ kind: 'update', patch: { seen: on } });
const trash: PendingOp = { kind: 'remove', permanent: false, trashFolderId: 'trash' };

describe('planRound (coalescing)', () => {
  it('coalesces entries with the same op into calls of at most maxIds ids', () => {
    const entries: PlanEntry[] = Array.from({ length: 250 }, (_, i) => ({ seq: i + 1, ids: [`m${i}`], op: seen(true) }));
    const plan = planRound(entries, 100);
    expect(plan.batches.map((b) => b.items.length)).toEqual([100, 100, 50]);
    expect(plan.deferred).toEqual([]);
  });

  it('groups by canonical op: keyword case and key order do not split a group; force and kind do', () => {
    expect(opKey({ kind: 'update', patch: { keywords: { B: true, a: false } } })).toBe(opKey({ kind: 'update', patch: { keywords: { a: false, b: true } } }));
    expect(opKey(seen(true))).not.toBe(opKey(seen(true), true));
    expect(opKey(trash)).not.toBe(opKey({ kind: 'remove', permanent: true, trashFolderId: null }));
    expect(canonicalPatch({ keywords: { Zed: true, alpha: false }, seen: true })).toEqual({ seen: true, keywords: { alpha: false, zed: true } });
    const plan = planRound(
      [
        { seq: 1, ids: ['a'], op: seen(true) },
        { seq: 2, ids: ['b'], op: trash },
        { seq: 3, ids: ['c'], op: seen(true) },
        { seq: 4, ids: ['d'], op: seen(true), force: true },
      ],
      100,
    );
    expect(plan.batches.map((b) => b.items.map((i) => i.id))).toEqual([['a', 'c'], ['b'], ['d']]);
    expect(plan.batches[2]?.force).toBe(true);
  });

  it('defers a later op on a busy id, and everything that touches the ids it blocks', () => {
    const plan = planRound(
      [
        { seq: 1, ids: ['a'], op: seen(true) },
        { seq: 2, ids: ['a', 'b'], op: seen(false) },
        { seq: 3, ids: ['b'], op: seen(true) },
        { seq: 4, ids: ['c'], op: seen(true) },
      ],
      100,
    );
    expect(plan.batches.map((b) => b.items.map((i) => `${i.seq}:${i.id}`))).toEqual([['1:a', '4:c']]);
    expect(plan.deferred).toEqual([2, 3]);
  });

  it('property: rounds send every (entry, id) once, ids unique per round, each id in seq order, calls ≤ maxIds', () => {
    const ops = [seen(true), seen(false), { kind: 'update', patch: { flagged: true } } as PendingOp, trash];
    fc.assert(
      fc.property(
        fc.array(fc.record({ ids: fc.uniqueArray(fc.integer({ min: 0, max: 12 }), { minLength: 1, maxLength: 5 }), op: fc.integer({ min: 0, max: 3 }) }), { maxLength: 40 }),
        fc.integer({ min: 1, max: 7 }),
        (raw, maxIds) => {
          let entries: PlanEntry[] = raw.map((r, i) => ({ seq: i + 1, ids: r.ids.map((n) => `m${n}`), op: ops[r.op] as PendingOp }));
          const sent = new Map<string, number[]>();
          let rounds = 0;
          while (entries.length > 0) {
            rounds += 1;
            const plan = planRound(entries, maxIds);
            const inRound = new Set<string>();
            for (const b of plan.batches) {
              expect(b.items.length).toBeLessThanOrEqual(maxIds);
              for (const { seq, id } of b.items) {
                expect(inRound.has(id)).toBe(false);
                inRound.add(id);
                sent.set(id, [...(sent.get(id) ?? []), seq]);
              }
            }
            expect(plan.batches.length).toBeGreaterThan(0);
            const left = new Set(plan.deferred);
            entries = entries.filter((e) => left.has(e.seq));
          }
          expect(rounds).toBeLessThanOrEqual(raw.length);
          const expected = new Map<string, number[]>();
          raw.forEach((r, i) => r.ids.forEach((n) => expected.set(`m${n}`, [...(expected.get(`m${n}`) ?? []), i + 1])));
          expect(sent).toEqual(expected);
        },
      ),
      { seed: 5, numRuns: 300 },
    );
  });
});
