// Optimistic mutation entry points (issue 5 "Mutations"): `update()` and `remove()`
// change the visible records at once (the views re-emit before any network call),
// survive reloads in the outbox, and resolve with one typed outcome per id once the
// server acknowledged or rolled back. The same outcomes stream on `outcomes$`, so an
// app can show "unsent" and "failed" states.
import { from, switchMap, takeUntil, type Observable } from 'rxjs';
import type { PendingEffects } from '../store/effects.js';
import { checkHoldDelay, type MutationOutcome } from '../store/outbox.js';
import type { MessagePatch } from '../store/pending.js';
import type { Outbox } from '../sync/mutations.js';

export type { MutationErrorDetail, MutationOutcome, MutationReason } from '../store/outbox.js';
export type { MessagePatch } from '../store/pending.js';

/** Options of {@link MailboxMutations.remove}. */
export interface RemoveOptions {
  /** Delete for good instead of moving to Trash (docs/search-and-batch.md). Default false. */
  permanent?: boolean;
  /**
   * Undo window: the messages leave their folders at once, but the outbox holds the
   * request this long (kept across reloads) before the leader sends it. Default 0, at
   * most 1 hour.
   */
  delayMs?: number;
  /**
   * Undo: aborting it before the request is sent cancels the remove; the messages come
   * back exactly as they were and the promise resolves with `rolled_back` outcomes of
   * reason `cancelled`. The server never sees it. Aborting later changes nothing.
   */
  signal?: AbortSignal;
}

/** Optimistic, durable, guarded mutations of messages. */
export interface MailboxMutations {
  /**
   * Sets flags/keywords of messages (absolute sets: `seen: true` marks read, a keyword
   * `false` clears it). The visible records, folder counters and thread unread counts
   * change at once; the promise resolves with one outcome per id when the server
   * acknowledged (`applied`, or `rebased` after a conflict) or refused it
   * (`rolled_back`: the local effect is undone). Offline it stays pending until the
   * network is back; it rejects only when the local write fails or the engine stops
   * first (the mutation then stays queued for the next engine on this database).
   */
  update(ids: readonly string[], patch: MessagePatch): Promise<MutationOutcome[]>;
  /** Moves messages to Trash (or deletes them with `permanent: true`); same contract as `update`. */
  remove(ids: readonly string[], options?: RemoveOptions): Promise<MutationOutcome[]>;
  /** Outcomes as they are settled (this engine's own; all of them on the leader). Completes on stop. */
  readonly outcomes$: Observable<MutationOutcome>;
}

function checkIds(method: string, ids: unknown): string[] {
  if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string' || id.length === 0)) {
    throw new TypeError(`${method}: ids must be an array of message ids (non-empty strings)`);
  }
  return [...new Set(ids as string[])];
}

function checkPatch(patch: unknown): MessagePatch {
  if (typeof patch !== 'object' || patch === null) throw new TypeError('update: patch must be an object like { seen: true }');
  const p = patch as Record<string, unknown>;
  for (const key of Object.keys(p)) {
    if (key !== 'seen' && key !== 'flagged' && key !== 'keywords') {
      throw new TypeError(`update: unknown field "${key}"; only seen, flagged and keywords can be set (use remove() to move to Trash)`);
    }
  }
  const out: MessagePatch = {};
  for (const key of ['seen', 'flagged'] as const) {
    if (p[key] === undefined) continue;
    if (typeof p[key] !== 'boolean') throw new TypeError(`update: ${key} must be a boolean`);
    out[key] = p[key];
  }
  if (p.keywords !== undefined) {
    if (typeof p.keywords !== 'object' || p.keywords === null || Array.isArray(p.keywords)) {
      throw new TypeError('update: keywords must be an object of keyword → boolean');
    }
    // Keyword names are data (issue 19): a null-prototype map, so `__proto__` is a
    // keyword like any other rather than a prototype write that drops it.
    const keywords: Record<string, boolean> = Object.create(null) as Record<string, boolean>;
    for (const [name, on] of Object.entries(p.keywords)) {
      if (typeof on !== 'boolean' || name.length === 0) throw new TypeError(`update: keyword "${name}" must map to a boolean`);
      // BatchUpdateMailboxMessagesBody: lifecycle keywords such as $draft are read-only.
      if (name.toLowerCase() === '$draft') throw new TypeError('update: $draft is read-only');
      keywords[name] = on;
    }
    if (Object.keys(keywords).length > 0) out.keywords = keywords;
  }
  if (out.seen === undefined && out.flagged === undefined && out.keywords === undefined) {
    throw new TypeError('update: nothing to change; pass seen, flagged or keywords');
  }
  return out;
}

/** A promise the caller may ignore without an unhandled rejection (it still rejects for those who await it). */
function settled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

/**
 * The mutation entry points of an engine over its (possibly not yet open) outbox.
 * Misuse (bad ids, an empty patch) throws a TypeError synchronously. With `effects`,
 * an update shows in this engine's views before `update()` returns, until it settles.
 */
export function createMutations(outbox: Promise<Outbox>, until: Observable<unknown>, effects?: PendingEffects): MailboxMutations {
  return {
    update(ids, patch) {
      const list = checkIds('update', ids);
      const clean = checkPatch(patch);
      const end = effects?.add(list, clean);
      const submitted = outbox.then((o) => o.submit({ kind: 'update', ids: list, patch: clean }));
      // Settled: the database holds the outcome, which the views' next reads show (a
      // refused id's effect ends for every read). Failed: nothing was written.
      if (end) {
        submitted.then(
          (outcomes) => end(outcomes.filter((o) => o.status === 'rolled_back').map((o) => o.id)),
          () => end('all'),
        );
      }
      return settled(submitted);
    },
    remove(ids, options = {}) {
      const list = checkIds('remove', ids);
      const permanent = options.permanent ?? false;
      if (typeof permanent !== 'boolean') throw new TypeError('remove: options.permanent must be a boolean');
      const delayMs = checkHoldDelay('remove: options.delayMs', options.delayMs);
      const { signal } = options;
      if (signal !== undefined && !(typeof signal === 'object' && signal !== null && 'aborted' in signal)) {
        throw new TypeError('remove: options.signal must be an AbortSignal (from new AbortController().signal)');
      }
      return settled(
        outbox.then((o) =>
          o.submit(
            { kind: 'remove', ids: list, permanent, ...(delayMs > 0 ? { delayMs } : {}) },
            signal ? { signal } : {},
          ),
        ),
      );
    },
    outcomes$: from(outbox).pipe(
      switchMap((o) => o.outcomes$),
      takeUntil(until),
    ),
  };
}
