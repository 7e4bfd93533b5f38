// Live push: the SSE stream `/mailbox/events` (docs/sync.md "Event stream").
//
// `message.received` is shown at once from the event's snapshot (a summary built from
// the fields the snapshot carries), then confirmed by a changes pull, which replaces
// it with the server's record. `sync_required` triggers a catch-up. The last event id
// is persisted so a reload resumes the stream (Last-Event-ID). SSE carries only
// received mail: everything else arrives by polling (poll.ts). When the stream is
// gated or fails (503/403), the engine polls only and retries the stream later.
import type { Subscription } from 'rxjs';
import { SendmuxApiError, type MailboxStreamEvent, type Message, type RealtimeEvent } from '../api/index.js';
import { getSyncValue, putServerRecords, setSyncValue } from '../store/apply.js';
import { addProvisional, readProvisional } from './provisional.js';
import { checkMessage } from './recordChecks.js';
import type { SyncContext } from './context.js';
import { SyncError } from './errors.js';

/** Key of the last SSE event id in `syncState`. */
export const LAST_EVENT_ID_KEY = 'lastEventId';

/** Bounds of the event intake (DESIGN.md invariants 8 and 9: a flood changes nothing). */
export interface PushIntakeOptions {
  /** Snapshots buffered between two database writes; more are dropped (the pull brings them). Default 100. */
  maxSnapshots?: number;
  /** Records shown from snapshots and not yet confirmed by a pull, at most. Default 200. */
  maxProvisional?: number;
  /** Least time between two pulls the stream asks for (ms); the first is immediate. Default 1 000. */
  minPullIntervalMs?: number;
  /** More events than this within `floodWindowMs` is a flood. Default 1 000. */
  floodEvents?: number;
  /** Window of the flood count (ms). Default 1 000. */
  floodWindowMs?: number;
  /** After a flood the stream stays closed this long (polling only), then reopens (ms). Default 60 000. */
  floodCooldownMs?: number;
}

/** Options of {@link startPush}. */
export interface PushOptions {
  /** Called when a changes pull should run (coalesced by the engine). */
  requestPull: (reason: string) => void;
  /** Delay before reopening a stream that failed for good (ms). Default 60 000. */
  retryMs?: number;
  /** Bounds of the intake. */
  intake?: PushIntakeOptions;
}

/** Counters of the intake (tests assert on them: memory and pulls stay bounded). */
export interface PushStats {
  /** Events received (every type, `open` included). */
  events: number;
  /** Snapshots waiting for the next database write now, and the most ever. */
  buffered: number;
  maxBuffered: number;
  /** Snapshots not shown: the buffer or the provisional budget was full. */
  dropped: number;
  /** Pulls this stream asked for. */
  pulls: number;
  /** Floods detected (each closed the stream for `floodCooldownMs`). */
  floods: number;
}

/** How many snapshot ids the intake remembers to ignore repeated events. */
const RECENT_IDS = 1_000;

/** Handle of a running push loop. */
export interface PushHandle {
  stop(): void;
  /** The intake's counters. */
  stats(): PushStats;
}

const SUMMARY_FIELDS = [
  'id', 'thread_id', 'folder_ids', 'subject', 'preview', 'from', 'to', 'cc', 'bcc', 'received_at', 'sent_at', 'size_bytes', 'has_attachments', 'keywords', 'flags', 'attachments',
] as const;

/**
 * The summary record of a realtime message snapshot: the MailboxMessageSummary fields
 * it carries (the snapshot adds `body` and `rfc5322_message_id`, which a summary does
 * not have). Returns undefined when a required field is missing or mistyped.
 */
export function summaryFromEvent(event: RealtimeEvent): Message | undefined {
  const snap = event.message as Record<string, unknown> | null | undefined;
  if (!snap || typeof snap.id !== 'string') return undefined;
  const out: Record<string, unknown> = {};
  for (const key of SUMMARY_FIELDS) if (key in snap) out[key] = snap[key];
  // The same check as any listed record: a snapshot with a missing or mistyped
  // field is not shown early. The pull the event requests brings the real record,
  // so the event is dropped quietly rather than reported.
  try {
    return checkMessage(out, 'SSE message.received');
  } catch {
    return undefined;
  }
}

function isRealtimeEvent(data: unknown): data is RealtimeEvent {
  return typeof data === 'object' && data !== null && typeof (data as { event_type?: unknown }).event_type === 'string';
}

/**
 * Opens the stream and keeps it open until `stop()`. Status and errors are reported
 * through `ctx`; failures never throw.
 *
 * The intake is bounded whatever the server sends: events are handled as they come
 * without queueing work per event; snapshots wait in a small buffer keyed by id (a
 * repeated event is one entry) and are written in one transaction per batch; the
 * number of records shown before a pull confirms them is capped; pulls are coalesced
 * (one asked for however many events arrive meanwhile) and spaced by
 * `minPullIntervalMs`; and a flood closes the stream, reported as `push_flood`, so
 * the engine polls until the cooldown ends.
 */
export function startPush(ctx: SyncContext, options: PushOptions): PushHandle {
  const intake = options.intake ?? {};
  const maxSnapshots = Math.max(1, intake.maxSnapshots ?? 100);
  const maxProvisional = Math.max(0, intake.maxProvisional ?? 200);
  const minPullInterval = Math.max(0, intake.minPullIntervalMs ?? 1_000);
  const floodEvents = Math.max(1, intake.floodEvents ?? 1_000);
  const floodWindow = Math.max(1, intake.floodWindowMs ?? 1_000);
  const floodCooldown = Math.max(0, intake.floodCooldownMs ?? 60_000);
  const stats: PushStats = { events: 0, buffered: 0, maxBuffered: 0, dropped: 0, pulls: 0, floods: 0 };
  let subscription: Subscription | undefined;
  let retryTimer: unknown;
  let stopped = false;
  // Bumped when a stream is dropped (flood): its late events are ignored.
  let generation = 0;

  // --- pulls: coalesced and spaced ---------------------------------------------------
  let lastPullAt = -Infinity;
  let pullTimer: unknown;
  const firePull = (reason: string) => {
    if (stopped) return;
    lastPullAt = ctx.clock.now();
    stats.pulls += 1;
    options.requestPull(reason);
  };
  const wantPull = (reason: string) => {
    // One pull asked for while one is waiting: the waiting one covers both.
    if (stopped || pullTimer !== undefined) return;
    const wait = lastPullAt + minPullInterval - ctx.clock.now();
    if (wait <= 0) return firePull(reason);
    pullTimer = ctx.clock.setTimeout(() => {
      pullTimer = undefined;
      firePull(reason);
    }, wait);
  };

  // --- snapshots and the last event id: written in batches ------------------------------
  const snapshots = new Map<string, Message>();
  // Ids of snapshots taken lately (bounded): copies of one event are taken once.
  const recent = new Set<string>();
  let pendingId: string | undefined;
  let writtenId: string | undefined;
  let draining = false;
  const drain = async (): Promise<void> => {
    if (draining) return;
    draining = true;
    try {
      while (!stopped && (snapshots.size > 0 || pendingId !== writtenId)) {
        const batch = [...snapshots.values()];
        snapshots.clear();
        stats.buffered = 0;
        const id = pendingId;
        await ctx.db.transaction('rw', ctx.db.serverTables, async () => {
          if (batch.length > 0) {
            const ids = batch.map((m) => m.id);
            const [records, shadows, provisional] = await Promise.all([ctx.db.messages.bulkGet(ids), ctx.db.shadows.bulkGet(ids), readProvisional(ctx)]);
            // Only messages the replica does not know yet: a record from a pull is at
            // least as new as the event's snapshot. At most `maxProvisional` shown
            // unconfirmed: the rest wait for the pull, which brings the real records.
            let room = maxProvisional - provisional.length;
            const fresh: Message[] = [];
            batch.forEach((m, i) => {
              if (records[i] || shadows[i]) return;
              if (room <= 0) {
                stats.dropped += 1;
                return;
              }
              room -= 1;
              fresh.push(m);
            });
            if (fresh.length > 0) {
              await putServerRecords(ctx.db, 'messages', fresh);
              // Provisional until a pull confirms it: if the message was created and
              // destroyed before this event was handled, no change will mention it again.
              await addProvisional(ctx, fresh.map((m) => m.id));
            }
          }
          if (id !== undefined && id !== writtenId) await setSyncValue(ctx.db, LAST_EVENT_ID_KEY, id);
        });
        writtenId = id;
        // The pull that confirms (or removes) what was just shown.
        if (batch.length > 0) wantPull('message.received');
      }
    } catch (error) {
      if (!stopped) ctx.reportError(new SyncError('storage_failed', 'handling event stream snapshots failed', { cause: error }));
    } finally {
      draining = false;
    }
  };

  // --- flood detection --------------------------------------------------------------------
  let windowStart = -Infinity;
  let windowCount = 0;
  const flooded = (): boolean => {
    const now = ctx.clock.now();
    if (now - windowStart >= floodWindow) {
      windowStart = now;
      windowCount = 0;
    }
    windowCount += 1;
    return windowCount > floodEvents;
  };
  const degrade = () => {
    stats.floods += 1;
    generation += 1;
    subscription?.unsubscribe();
    subscription = undefined;
    ctx.dispatch({ type: 'push', at: ctx.clock.now(), state: 'unavailable' });
    ctx.reportError(
      new SyncError('push_flood', `the event stream sent more than ${floodEvents} events in ${floodWindow} ms; polling instead for ${Math.round(floodCooldown / 1000)} s`),
    );
    // What the flood may have announced arrives by one pull, then by polling.
    wantPull('push_flood');
    retryTimer = ctx.clock.setTimeout(() => void reopen(), floodCooldown);
  };

  const handle = (event: MailboxStreamEvent): void => {
    stats.events += 1;
    if (flooded()) return degrade();
    if (event.type === 'open') {
      ctx.dispatch({ type: 'push', at: ctx.clock.now(), state: 'connected' });
      // Whatever happened while disconnected and was not replayed arrives by a pull.
      wantPull('push-open');
      return;
    }
    if (event.id) pendingId = event.id;
    let buffered = false;
    if (event.type === 'sync_required') {
      wantPull('sync_required');
    } else if ((event.type === 'message.received' || event.type === 'message.received.spam') && isRealtimeEvent(event.data)) {
      const summary = summaryFromEvent(event.data);
      if (summary && (snapshots.has(summary.id) || recent.has(summary.id))) {
        // A repeat of a snapshot buffered or written lately: its write asked for the pull.
      } else if (summary && snapshots.size < maxSnapshots) {
        snapshots.set(summary.id, summary);
        if (recent.size >= RECENT_IDS) recent.clear();
        recent.add(summary.id);
        stats.buffered = snapshots.size;
        stats.maxBuffered = Math.max(stats.maxBuffered, snapshots.size);
        buffered = true;
      } else {
        // No usable snapshot, or the buffer is full: the pull brings the record.
        if (summary) stats.dropped += 1;
        wantPull('message.received');
      }
    }
    if (buffered || pendingId !== writtenId) void drain();
  };

  const open = async (): Promise<void> => {
    if (stopped) return;
    const lastEventId = await getSyncValue<string>(ctx.db, LAST_EVENT_ID_KEY);
    if (stopped) return;
    writtenId ??= lastEventId;
    const gen = generation;
    ctx.dispatch({ type: 'push', at: ctx.clock.now(), state: 'connecting' });
    subscription = ctx.api.events(lastEventId ? { lastEventId } : {}).subscribe({
      next: (event) => {
        if (stopped || gen !== generation) return;
        try {
          handle(event);
        } catch (error) {
          ctx.reportError(new SyncError('storage_failed', `handling ${event.type} event failed`, { cause: error }));
        }
      },
      error: (error: unknown) => {
        if (stopped || gen !== generation) return;
        ctx.dispatch({ type: 'push', at: ctx.clock.now(), state: 'unavailable' });
        // A rejected key pauses the whole network until syncNow() (which reopens the stream).
        if (error instanceof SendmuxApiError && error.status === 401) return ctx.unauthorized(error);
        ctx.reportError(new SyncError('push_unavailable', 'the event stream is unavailable; polling instead', { cause: error }));
        // 403: not allowed for this key (gated) — do not retry. Otherwise try later.
        if (error instanceof SendmuxApiError && error.status === 403) return;
        retryTimer = ctx.clock.setTimeout(() => void reopen(), options.retryMs ?? 60_000);
      },
      complete: () => {
        // The client reconnects on its own; a stream that still ends is reopened later.
        if (stopped || gen !== generation) return;
        ctx.dispatch({ type: 'push', at: ctx.clock.now(), state: 'unavailable' });
        retryTimer = ctx.clock.setTimeout(() => void reopen(), options.retryMs ?? 60_000);
      },
    });
  };
  const reopen = () => open().catch((error: unknown) => ctx.reportError(new SyncError('push_unavailable', 'opening the event stream failed', { cause: error })));

  void reopen();
  return {
    stop() {
      stopped = true;
      if (retryTimer !== undefined) ctx.clock.clearTimeout(retryTimer);
      if (pullTimer !== undefined) ctx.clock.clearTimeout(pullTimer);
      pullTimer = undefined;
      subscription?.unsubscribe();
      snapshots.clear();
    },
    stats: () => ({ ...stats }),
  };
}
