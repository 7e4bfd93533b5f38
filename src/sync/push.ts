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
import { addProvisional } from './provisional.js';
import { checkMessage } from './recordChecks.js';
import type { SyncContext } from './context.js';
import { SyncError } from './errors.js';

/** Key of the last SSE event id in `syncState`. */
export const LAST_EVENT_ID_KEY = 'lastEventId';

/** Options of {@link startPush}. */
export interface PushOptions {
  /** Called when a changes pull should run (coalesced by the engine). */
  requestPull: (reason: string) => void;
  /** Delay before reopening a stream that failed for good (ms). Default 60 000. */
  retryMs?: number;
}

/** Handle of a running push loop. */
export interface PushHandle {
  stop(): void;
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
 */
export function startPush(ctx: SyncContext, options: PushOptions): PushHandle {
  let subscription: Subscription | undefined;
  let retryTimer: unknown;
  let stopped = false;
  // Events are handled one at a time, in order.
  let queue: Promise<void> = Promise.resolve();

  const handle = async (event: MailboxStreamEvent): Promise<void> => {
    if (event.type === 'open') {
      ctx.dispatch({ type: 'push', at: ctx.clock.now(), state: 'connected' });
      // Whatever happened while disconnected and was not replayed arrives by a pull.
      options.requestPull('push-open');
      return;
    }
    if (event.type === 'sync_required') {
      options.requestPull('sync_required');
    } else if ((event.type === 'message.received' || event.type === 'message.received.spam') && isRealtimeEvent(event.data)) {
      const summary = summaryFromEvent(event.data);
      if (summary) {
        await ctx.db.transaction('rw', ctx.db.serverTables, async () => {
          // Only a message the replica does not know yet: a record from a pull is
          // at least as new as the event's snapshot.
          const known = (await ctx.db.messages.get(summary.id)) ?? (await ctx.db.shadows.get(summary.id));
          if (known) return;
          await putServerRecords(ctx.db, 'messages', [summary]);
          // Provisional until a pull confirms it: if the message was created and
          // destroyed before this event was handled, no change will mention it again.
          await addProvisional(ctx, [summary.id]);
        });
      }
      options.requestPull('message.received');
    }
    if (event.id) await ctx.db.transaction('rw', ctx.db.syncState, () => setSyncValue(ctx.db, LAST_EVENT_ID_KEY, event.id));
  };

  const open = async (): Promise<void> => {
    if (stopped) return;
    const lastEventId = await getSyncValue<string>(ctx.db, LAST_EVENT_ID_KEY);
    if (stopped) return;
    ctx.dispatch({ type: 'push', at: ctx.clock.now(), state: 'connecting' });
    subscription = ctx.api.events(lastEventId ? { lastEventId } : {}).subscribe({
      next: (event) => {
        queue = queue.then(() => handle(event)).catch((error: unknown) => {
          if (!stopped) ctx.reportError(new SyncError('storage_failed', `handling ${event.type} event failed`, { cause: error }));
        });
      },
      error: (error: unknown) => {
        if (stopped) return;
        ctx.dispatch({ type: 'push', at: ctx.clock.now(), state: 'unavailable' });
        ctx.reportError(new SyncError('push_unavailable', 'the event stream is unavailable; polling instead', { cause: error }));
        // 403: not allowed for this key (gated) — do not retry. Otherwise try later.
        if (error instanceof SendmuxApiError && error.status === 403) return;
        retryTimer = ctx.clock.setTimeout(() => void open(), options.retryMs ?? 60_000);
      },
      complete: () => {
        // The client reconnects on its own; a stream that still ends is reopened later.
        if (stopped) return;
        ctx.dispatch({ type: 'push', at: ctx.clock.now(), state: 'unavailable' });
        retryTimer = ctx.clock.setTimeout(() => void open(), options.retryMs ?? 60_000);
      },
    });
  };

  void open().catch((error: unknown) => ctx.reportError(new SyncError('push_unavailable', 'opening the event stream failed', { cause: error })));
  return {
    stop() {
      stopped = true;
      if (retryTimer !== undefined) ctx.clock.clearTimeout(retryTimer);
      subscription?.unsubscribe();
    },
  };
}
