// The SSE stream GET /mailbox/events as a cold RxJS Observable.
//
// docs/sync.md: resume with the last SSE `id` as Last-Event-ID; `ping` asks the
// server for heartbeats. The `eventsource` package does the SSE parsing; its custom
// `fetch` hook adds the Bearer header (browsers' EventSource cannot) and lets us see
// the HTTP status and every byte. Reconnects are ours, not the package's fixed 3 s
// retry: each connection is a fresh EventSource, opened after backoff with full
// jitter and carrying the last id we saw, and a heartbeat watchdog replaces a
// stream that went silent (half-open TCP never errors on its own).
import { EventSource as DefaultEventSource, type EventSourceInit, type FetchLike } from 'eventsource';
import { Observable } from 'rxjs';
import { decodeError } from './envelope.js';
import { SendmuxApiError, redact } from './errors.js';
import type { RateLimiter } from './rateLimiter.js';
import { backoffDelay, type Clock } from './retry.js';
import type { EventsOptions, MailboxStreamEvent } from './types.js';

/** The fetch signature the `eventsource` package calls (its `FetchLike`). */
export type EventSourceFetch = FetchLike;

/** Minimal EventSource surface used here (satisfied by the `eventsource` package). */
export interface EventSourceLike {
  /** Listens for one event type (`open`, `error`, or an SSE event name). */
  addEventListener(type: string, listener: (event: MessageEvent | Event) => void): void;
  /** Closes the connection for good. */
  close(): void;
}

/** An EventSource constructor that accepts a custom `fetch` (the `eventsource` package, v3+). */
export type EventSourceConstructor = new (url: string, init: EventSourceInit) => EventSourceLike;

/** What the stream needs from the client. */
export interface EventStreamContext {
  baseUrl: string;
  apiKey: string;
  mailboxId?: string;
  fetch: typeof fetch;
  clock: Clock;
  limiter?: RateLimiter;
  EventSource?: EventSourceConstructor;
}

/** Event names listened for: the spec's MailboxRealtimeEvent.event_type enum, the default `message`, and `ping`. */
export const KNOWN_EVENT_TYPES = ['message', 'message.received', 'message.received.spam', 'sync_required'] as const;

/** Reconnect backoff for the stream. */
const RECONNECT = { baseDelayMs: 1_000, maxDelayMs: 30_000 };
const DEFAULT_PING_SECONDS = 15;

/**
 * Opens `/mailbox/events` on subscribe. Emits `{ type: 'open' }` on every
 * (re)connection, then one item per SSE event (`data` parsed as JSON when it is
 * JSON). Errors with a {@link SendmuxApiError} when the server refuses the stream
 * with a non-retryable status or 503 (events gated/unavailable: fall back to
 * polling); 429, other 5xx, network failures, a closed stream and a silent stream
 * reconnect with backoff. Completes on unsubscribe or when `signal` aborts.
 */
export function createEventStream(ctx: EventStreamContext, options: EventsOptions = {}): Observable<MailboxStreamEvent> {
  return new Observable<MailboxStreamEvent>((subscriber) => {
    const ES = ctx.EventSource ?? DefaultEventSource;
    // Spec: ping is 10–300 s; an out-of-range value would make the server refuse the stream.
    const ping = Math.min(300, Math.max(10, Math.round(options.ping ?? DEFAULT_PING_SECONDS)));
    const heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? ping * 2000 + 5000;
    const url = streamUrl(ctx, options, ping);
    const types = new Set<string>([...KNOWN_EVENT_TYPES, ...(options.eventTypes ?? [])]);
    let lastEventId = options.lastEventId;
    let source: EventSourceLike | undefined;
    let generation = 0;
    let failures = 0;
    let closed = false;
    let lastActivity = 0;
    let watchdog: unknown;
    let reconnectTimer: unknown;
    const stop = new AbortController();

    const clearWatchdog = () => {
      if (watchdog !== undefined) ctx.clock.clearTimeout(watchdog);
      watchdog = undefined;
    };
    const armWatchdog = (gen: number, delay: number) => {
      clearWatchdog();
      watchdog = ctx.clock.setTimeout(() => {
        watchdog = undefined;
        if (gen !== generation || closed) return;
        const idle = ctx.clock.now() - lastActivity;
        if (idle >= heartbeatTimeoutMs) reconnect(gen);
        else armWatchdog(gen, heartbeatTimeoutMs - idle);
      }, delay);
    };
    const touch = () => {
      lastActivity = ctx.clock.now();
    };

    const teardownSource = (deferClose = false) => {
      generation += 1;
      clearWatchdog();
      const s = source;
      source = undefined;
      // Inside the package's own error dispatch its 3 s reconnect timer is armed only
      // after listeners return; closing one microtask later clears that timer too.
      if (deferClose) queueMicrotask(() => s?.close());
      else s?.close();
    };

    const finishWithError = (error: SendmuxApiError) => {
      if (closed) return;
      closed = true;
      teardownSource();
      subscriber.error(error);
    };

    // Replace the current connection after a backoff (network error, stream end, silence, 429/5xx).
    const reconnect = (gen: number, retryAfterMs?: number, fromErrorEvent = false) => {
      if (gen !== generation || closed) return;
      teardownSource(fromErrorEvent);
      failures += 1;
      const delay = backoffDelay(failures, RECONNECT, ctx.clock.random, retryAfterMs);
      reconnectTimer = ctx.clock.setTimeout(() => {
        reconnectTimer = undefined;
        void connect();
      }, delay);
    };

    const connect = async () => {
      if (closed) return;
      const gen = generation;
      let release: (() => void) | undefined;
      if (ctx.limiter) {
        try {
          release = await ctx.limiter.acquire('background', stop.signal);
        } catch {
          return; // unsubscribed while waiting
        }
        if (closed || gen !== generation) {
          release();
          return;
        }
      }
      let refusal: SendmuxApiError | undefined;
      let sawData = false;
      // True once this connection's bytes go through the id scanner, which then owns
      // `lastEventId` (it sees the ids of events the parser never dispatches).
      let scanning = false;
      const customFetch: EventSourceFetch = async (u, init) => {
        const headers: Record<string, string> = { ...init.headers, Authorization: `Bearer ${ctx.apiKey}` };
        // The spec accepts Last-Event-ID as a header; send our own tracked id so a
        // fresh EventSource resumes where the previous connection stopped.
        if (lastEventId) headers['Last-Event-ID'] = lastEventId;
        else delete headers['Last-Event-ID'];
        let res: Response;
        try {
          res = await ctx.fetch(u, { ...(init as RequestInit), headers });
        } finally {
          release?.();
          release = undefined;
        }
        if (res.status !== 200) {
          const text = await res.text().catch(() => '');
          refusal = decodeError(res.status, res.headers, text, { paginated: false, now: ctx.clock.now(), secret: ctx.apiKey });
          return { body: null, url: res.url, status: res.status, redirected: res.redirected, headers: res.headers };
        }
        if (!(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
          refusal = new SendmuxApiError({
            status: res.status,
            code: 'invalid_response',
            message: `HTTP ${res.status}: the event stream answered ${res.headers.get('content-type') ?? 'no content type'}, not text/event-stream`,
            retryable: false,
          });
        }
        if (!res.body || refusal) return res;
        // WHATWG HTML "Server-sent events" (dispatch step 1): an event's `id:` sets the
        // last event ID even when the event has no data and is never dispatched; the
        // parser drops such events, so the ids are read off the bytes here.
        scanning = true;
        const scanIds = lastEventIdScanner((id) => {
          if (gen === generation) lastEventId = id === '' ? undefined : id;
        });
        // Any byte (event, comment ping, retry field) proves the connection is alive.
        const observed = res.body.pipeThrough(
          new TransformStream<Uint8Array, Uint8Array>({
            transform(chunk, controller) {
              if (gen === generation) {
                touch();
                scanIds(chunk);
                if (!sawData) {
                  sawData = true;
                  failures = 0;
                }
              }
              controller.enqueue(chunk);
            },
          }),
        );
        return { body: observed, url: res.url, status: res.status, redirected: res.redirected, headers: res.headers };
      };

      let es: EventSourceLike;
      try {
        es = new ES(url, { fetch: customFetch });
      } catch (e) {
        release?.();
        finishWithError(
          new SendmuxApiError({ status: 0, code: 'invalid_response', message: redact(`Cannot open the event stream: ${String(e)}`, ctx.apiKey), retryable: false }),
        );
        return;
      }
      source = es;
      touch();
      armWatchdog(gen, heartbeatTimeoutMs);

      es.addEventListener('open', () => {
        if (gen !== generation || closed) return;
        touch();
        subscriber.next({ type: 'open', data: undefined });
      });
      const onMessage = (event: MessageEvent | Event) => {
        if (gen !== generation || closed) return;
        touch();
        if (event.type === 'ping') return;
        const m = event as MessageEvent;
        const id = typeof m.lastEventId === 'string' && m.lastEventId !== '' ? m.lastEventId : undefined;
        if (id && !scanning) lastEventId = id;
        subscriber.next({ ...(id ? { id } : {}), type: event.type, data: parseData(m.data) });
      };
      for (const type of types) es.addEventListener(type, onMessage);
      es.addEventListener('ping', onMessage);
      es.addEventListener('error', () => {
        if (gen !== generation || closed) return;
        const r = refusal;
        if (r && (r.status === 503 || !r.retryable)) {
          // 403 insufficient_permissions / 503 events unavailable / 401 / 400: polling is the fallback.
          finishWithError(r);
          return;
        }
        reconnect(gen, r?.retryAfterMs, true);
      });
    };

    const onAbort = () => {
      if (closed) return;
      closed = true;
      cleanup();
      subscriber.complete();
    };
    const cleanup = () => {
      teardownSource();
      if (reconnectTimer !== undefined) ctx.clock.clearTimeout(reconnectTimer);
      reconnectTimer = undefined;
      stop.abort();
      options.signal?.removeEventListener('abort', onAbort);
    };

    if (options.signal?.aborted) {
      closed = true;
      subscriber.complete();
      return;
    }
    options.signal?.addEventListener('abort', onAbort, { once: true });
    void connect();
    return () => {
      closed = true;
      cleanup();
    };
  });
}

/** Longest `id:` line kept (a longer one is not an id this client resumes from). */
const MAX_ID_LINE = 4096;

/**
 * Follows the `id` field of an SSE byte stream (WHATWG HTML "Server-sent events",
 * "Interpreting an event stream"): lines end in CRLF, LF or CR; a leading BOM is
 * skipped; `id` with a value containing NUL is ignored; at the blank line that ends
 * an event, the id seen in it (possibly empty, which resets the last event ID) is
 * reported, whether or not the event had data. Only id lines are buffered, so memory
 * stays bounded whatever the stream sends.
 */
export function lastEventIdScanner(onId: (id: string) => void): (chunk: Uint8Array) => void {
  const decoder = new TextDecoder();
  let line = '';
  // The current line cannot be an id line (or is too long): stop buffering it.
  let skip = false;
  let afterCR = false;
  let start = true;
  let blockId: string | undefined;
  const feed = (text: string) => {
    if (skip) return;
    line += text;
    if (line.length >= 3 && !line.startsWith('id:')) skip = true;
    else if (line.length > MAX_ID_LINE) skip = true;
    if (skip) line = '';
  };
  const endLine = () => {
    if (!skip) {
      if (line === '') {
        if (blockId !== undefined) onId(blockId);
        blockId = undefined;
      } else if (line === 'id' || line.startsWith('id:')) {
        let value = line.slice(3);
        if (value.startsWith(' ')) value = value.slice(1);
        if (!value.includes('\0')) blockId = value;
      }
    }
    line = '';
    skip = false;
  };
  const breaks = /[\r\n]/g;
  return (chunk) => {
    let text = decoder.decode(chunk, { stream: true });
    if (start && text.length > 0) {
      start = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    let from = 0;
    if (afterCR && text.startsWith('\n')) from = 1;
    afterCR = false;
    breaks.lastIndex = from;
    for (let m = breaks.exec(text); m; m = breaks.exec(text)) {
      feed(text.slice(from, m.index));
      endLine();
      from = m.index + 1;
      if (m[0] === '\r') {
        if (from === text.length) afterCR = true;
        else if (text[from] === '\n') from += 1;
      }
      breaks.lastIndex = from;
    }
    if (from < text.length) feed(text.slice(from));
  };
}

function parseData(data: unknown): unknown {
  if (typeof data !== 'string') return data;
  try {
    return JSON.parse(data) as unknown;
  } catch {
    return data;
  }
}

function streamUrl(ctx: EventStreamContext, options: EventsOptions, ping: number): string {
  const params = new URLSearchParams();
  if (options.eventTypes?.length) params.set('event_types', options.eventTypes.join(','));
  params.set('ping', String(ping));
  if (options.closeAfter !== undefined) params.set('close_after', String(options.closeAfter));
  if (ctx.mailboxId) params.set('mailbox_id', ctx.mailboxId);
  return `${ctx.baseUrl}/mailbox/events?${params.toString()}`;
}
