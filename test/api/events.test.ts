// events(): the SSE Observable against a tiny local SSE server (real sockets, real
// `eventsource` package). Backoff random is 0 so reconnects are immediate; tests
// assert order and counts, never wall-clock durations.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { firstValueFrom, filter, take, toArray, type Subscription } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMailboxApi, SendmuxApiError, type MailboxStreamEvent } from '../../src/api/index.js';

const KEY = 'smx_mbx_sse_secret';

interface Conn {
  req: IncomingMessage;
  res: ServerResponse;
  headers: IncomingMessage['headers'];
  url: URL;
  closed: boolean;
}

interface TestServer {
  url: string;
  conns: Conn[];
  handler: (conn: Conn, index: number) => void;
  close(): Promise<void>;
}

const servers: TestServer[] = [];
const subs: Subscription[] = [];

afterEach(async () => {
  for (const s of subs.splice(0)) s.unsubscribe();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function sseServer(handler: (conn: Conn, index: number) => void): Promise<TestServer> {
  const conns: Conn[] = [];
  const state: TestServer = { url: '', conns, handler, close: async () => {} };
  const server: Server = createServer((req, res) => {
    const conn: Conn = { req, res, headers: req.headers, url: new URL(req.url ?? '/', 'http://x'), closed: false };
    res.on('close', () => (conn.closed = true));
    conns.push(conn);
    state.handler(conn, conns.length - 1);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  servers.push(state);
  return state;
}

function openStream(res: ServerResponse): void {
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' });
  res.write(': hello\n\n');
}

function sendEvent(res: ServerResponse, id: string, type: string, data: unknown): void {
  res.write(`id: ${id}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function apiFor(server: TestServer, extra: Record<string, unknown> = {}) {
  return createMailboxApi({ apiKey: KEY, baseUrl: server.url, random: () => 0, rateLimit: false, ...extra });
}

function collect(api: ReturnType<typeof createMailboxApi>, options: Parameters<ReturnType<typeof createMailboxApi>['events']>[0]) {
  const events: MailboxStreamEvent[] = [];
  const state: { error?: unknown; complete: boolean } = { complete: false };
  subs.push(
    api.events(options).subscribe({
      next: (e) => events.push(e),
      error: (e: unknown) => (state.error = e),
      complete: () => (state.complete = true),
    }),
  );
  return { events, state };
}

describe('events()', () => {
  it('sends the Bearer header and query options, emits open then typed events with ids', async () => {
    const server = await sseServer((c) => {
      openStream(c.res);
      sendEvent(c.res, 'e1', 'message.received', { event_type: 'message.received', message_id: 'm1' });
      c.res.write('event: ping\ndata: {}\n\n');
      sendEvent(c.res, 'e2', 'sync_required', { event_type: 'sync_required' });
      c.res.write('id: e3\ndata: not json\n\n');
    });
    const api = apiFor(server, { mailboxId: 'mbx_7' });
    const got = await firstValueFrom(api.events({ eventTypes: ['message.received'], ping: 20, closeAfter: 60 }).pipe(take(4), toArray()));
    expect(got).toEqual([
      { type: 'open', data: undefined },
      { id: 'e1', type: 'message.received', data: { event_type: 'message.received', message_id: 'm1' } },
      { id: 'e2', type: 'sync_required', data: { event_type: 'sync_required' } },
      { id: 'e3', type: 'message', data: 'not json' },
    ]);
    const c = server.conns[0];
    expect(c?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(c?.headers.accept).toBe('text/event-stream');
    expect(c?.url.pathname).toBe('/api/v1/mailbox/events');
    expect(Object.fromEntries(c?.url.searchParams ?? [])).toEqual({ event_types: 'message.received', ping: '20', close_after: '60', mailbox_id: 'mbx_7' });
    expect(c?.url.href).not.toContain(KEY);
    await until(() => c?.closed === true, 'the connection to close on unsubscribe');
    await firstValueFrom(api.events({ ping: 1 }).pipe(take(1)));
    expect(server.conns[1]?.url.searchParams.get('ping')).toBe('10');
  });

  it('reconnects after a cut connection and resumes with Last-Event-ID, losing nothing', async () => {
    const server = await sseServer((c, i) => {
      openStream(c.res);
      if (i === 0) {
        sendEvent(c.res, 'e1', 'message.received', { n: 1 });
        sendEvent(c.res, 'e2', 'message.received', { n: 2 });
        setTimeout(() => c.res.socket?.destroy(), 20);
      } else {
        // Replays what came after the client's Last-Event-ID.
        if (c.headers['last-event-id'] === 'e2') sendEvent(c.res, 'e3', 'message.received', { n: 3 });
      }
    });
    const api = apiFor(server);
    const { events } = collect(api, { lastEventId: 'e0' });
    await until(() => events.filter((e) => e.type === 'message.received').length === 3, 'three events');
    expect(server.conns.map((c) => c.headers['last-event-id'])).toEqual(['e0', 'e2']);
    expect(events.map((e) => e.id ?? e.type)).toEqual(['open', 'e1', 'e2', 'open', 'e3']);
  });

  it('an event with an id but no data still sets the last event id: the reconnect sends it as Last-Event-ID', async () => {
    const server = await sseServer((c, i) => {
      openStream(c.res);
      if (i === 0) {
        sendEvent(c.res, 'e1', 'message.received', { n: 1 });
        // WHATWG SSE: no data, so nothing is dispatched, but the last event ID is now e2;
        // split across writes and CRLF-terminated to exercise the line scanner.
        c.res.write('i');
        c.res.write('d: e2\r');
        c.res.write('\n\r\n');
        setTimeout(() => c.res.socket?.destroy(), 20);
      } else if (i === 1) {
        // An id-only block after an event, LF-terminated, then a cut.
        c.res.write('event: sync_required\nid: e3\n\n');
        setTimeout(() => c.res.socket?.destroy(), 20);
      }
    });
    const { events } = collect(apiFor(server), {});
    await until(() => server.conns.length === 3, 'the third connection');
    expect(server.conns.map((c) => c.headers['last-event-id'])).toEqual([undefined, 'e2', 'e3']);
    // The id-only events were never emitted (they carry no data).
    expect(events.filter((e) => e.type !== 'open').map((e) => e.id)).toEqual(['e1']);
  });

  it('lastEventIdScanner follows the id field like the WHATWG parser (BOM, CR/LF/CRLF, NUL, empty id resets)', async () => {
    const { lastEventIdScanner } = await import('../../src/api/events.js');
    const seen: string[] = [];
    const scan = lastEventIdScanner((id) => seen.push(id));
    const enc = (t: string) => new TextEncoder().encode(t);
    scan(enc('\uFEFFid: a\n\n'));
    scan(enc('data: x\nid:b\r\rid: c\0d\n\n'));
    scan(enc('idle: 1\nid\n\n: comment\n\nid: d'));
    expect(seen).toEqual(['a', 'b', '']);
    scan(enc('\r\n\r\n'));
    expect(seen).toEqual(['a', 'b', '', 'd']);
  });

  it('reconnects when the server ends the stream (close_after)', async () => {
    const server = await sseServer((c, i) => {
      openStream(c.res);
      sendEvent(c.res, `e${i + 1}`, 'message.received', { n: i + 1 });
      if (i === 0) c.res.end();
    });
    const { events } = collect(apiFor(server), { closeAfter: 30 });
    await until(() => events.filter((e) => e.type === 'message.received').length === 2, 'two events');
    expect(server.conns[1]?.headers['last-event-id']).toBe('e1');
  });

  it('a silent stream past the heartbeat window is replaced, resuming from the last id', async () => {
    const server = await sseServer((c, i) => {
      openStream(c.res);
      if (i === 0) sendEvent(c.res, 'e1', 'message.received', { n: 1 }); // then silence, socket stays open
      else sendEvent(c.res, 'e2', 'message.received', { n: 2 });
    });
    const { events } = collect(apiFor(server), { heartbeatTimeoutMs: 150 });
    await until(() => events.some((e) => e.id === 'e2'), 'the event after the reconnect');
    expect(server.conns[0]?.closed).toBe(true);
    expect(server.conns[1]?.headers['last-event-id']).toBe('e1');
    expect(events.filter((e) => e.type === 'open')).toHaveLength(2);
  });

  it('pings keep a quiet stream alive (no reconnect while heartbeats arrive)', async () => {
    let pings = 0;
    const server = await sseServer((c) => {
      openStream(c.res);
      const t = setInterval(() => {
        pings += 1;
        c.res.write('event: ping\ndata: {}\n\n');
      }, 30);
      c.res.on('close', () => clearInterval(t));
    });
    const { events } = collect(apiFor(server), { heartbeatTimeoutMs: 200 });
    await until(() => pings >= 15, '15 pings (well past the heartbeat window)');
    expect(server.conns).toHaveLength(1);
    expect(events).toEqual([{ type: 'open', data: undefined }]);
  });

  it.each([
    [403, 'insufficient_permissions', false],
    [503, 'service_unavailable', true],
    [401, 'authentication_required', false],
  ])('a %i when opening errors the Observable with SendmuxApiError (no reconnect)', async (status, code, retryable) => {
    const server = await sseServer((c) => {
      c.res.writeHead(status, { 'Content-Type': 'application/json', 'X-Request-Id': 'req_sse' });
      c.res.end(JSON.stringify({ ok: false, error: { code, message: `${code} (${KEY})`, retryable }, meta: { request_id: 'req_sse' } }));
    });
    const { state } = collect(apiFor(server), {});
    await until(() => state.error !== undefined, 'the error');
    expect(state.error).toBeInstanceOf(SendmuxApiError);
    expect(state.error).toMatchObject({ status, code, retryable, requestId: 'req_sse' });
    expect((state.error as Error).message).not.toContain(KEY);
    await new Promise((r) => setTimeout(r, 50));
    expect(server.conns).toHaveLength(1);
  });

  it('429 (too many streams) and 500 reconnect instead of failing', async () => {
    const server = await sseServer((c, i) => {
      if (i < 2) {
        c.res.writeHead(i === 0 ? 429 : 500, { 'Content-Type': 'application/json', 'Retry-After': '0' });
        c.res.end(JSON.stringify({ ok: false, error: { code: i === 0 ? 'rate_limit_exceeded' : 'internal_error', message: 'x', retryable: true }, meta: { request_id: 'r' } }));
        return;
      }
      openStream(c.res);
      sendEvent(c.res, 'e1', 'message.received', {});
    });
    const { events, state } = collect(apiFor(server), {});
    await until(() => events.some((e) => e.id === 'e1'), 'the event');
    expect(state.error).toBeUndefined();
    expect(server.conns).toHaveLength(3);
  });

  it('a non-SSE 200 is an invalid_response error', async () => {
    const server = await sseServer((c) => {
      c.res.writeHead(200, { 'Content-Type': 'application/json' });
      c.res.end('{}');
    });
    const { state } = collect(apiFor(server), {});
    await until(() => state.error !== undefined, 'the error');
    expect(state.error).toMatchObject({ code: 'invalid_response', status: 200 });
  });

  it('completes when the signal aborts, closing the connection', async () => {
    const server = await sseServer((c) => openStream(c.res));
    const ac = new AbortController();
    const api = apiFor(server);
    const opened = firstValueFrom(api.events({ signal: ac.signal }).pipe(filter((e) => e.type === 'open')));
    const { state } = collect(api, { signal: ac.signal });
    await opened;
    await until(() => server.conns.length === 2, 'both streams');
    ac.abort();
    await until(() => state.complete, 'completion');
    await until(() => server.conns.every((c) => c.closed), 'connections closed');
  });

  it('opening a stream is counted by the rate limiter as a background request', async () => {
    const server = await sseServer((c) => openStream(c.res));
    const api = createMailboxApi({ apiKey: KEY, baseUrl: server.url, random: () => 0, rateLimit: { requestsPerMinute: 100 } });
    const { events } = collect(api, {});
    await until(() => events.length === 1, 'open');
    expect(api.rateLimiter?.state.sent).toHaveLength(1);
    expect(api.rateLimiter?.inFlight).toBe(0);
  });
});

describe('events() reconnect timing (fake timers, injected fetch)', () => {
  it('backs off exponentially with jitter between failed connects, honours Retry-After, and resets after data', async () => {
    vi.useFakeTimers({ now: Date.parse('2026-03-19T10:30:00Z') });
    try {
      const attempts: number[] = [];
      let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
      const fetchImpl = (async (_u: string | URL | Request, init?: RequestInit) => {
        attempts.push(Date.now());
        const n = attempts.length;
        if (n <= 3) throw new TypeError('fetch failed');
        if (n === 4) {
          return new Response(JSON.stringify({ ok: false, error: { code: 'rate_limit_exceeded', message: 'too many streams', retryable: true }, meta: { request_id: 'r' } }), {
            status: 429,
            headers: { 'content-type': 'application/json', 'retry-after': '20' },
          });
        }
        const body = new ReadableStream<Uint8Array>({
          start(c) {
            controller = c;
            c.enqueue(new TextEncoder().encode(': hi\n\n'));
          },
        });
        init?.signal?.addEventListener('abort', () => controller?.error(new DOMException('aborted', 'AbortError')));
        return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
      }) as typeof fetch;
      const api = createMailboxApi({ apiKey: KEY, baseUrl: 'http://sse.test/api/v1', fetch: fetchImpl, random: () => 0.999, rateLimit: false });
      const events: MailboxStreamEvent[] = [];
      const sub = api.events({ heartbeatTimeoutMs: 60_000 }).subscribe((e) => events.push(e));
      await vi.advanceTimersByTimeAsync(40_000);
      const gaps = attempts.slice(1).map((t, i) => t - (attempts[i] ?? 0));
      // Full jitter with random≈1: ceilings 1 s, 2 s, 4 s; then the 429's Retry-After (20 s) wins over 8 s.
      expect(gaps).toEqual([999, 1998, 3996, 20_000]);
      expect(events).toEqual([{ type: 'open', data: undefined }]);
      // Data arrived, so the next failure starts the backoff from the beginning again.
      controller?.close();
      const before = attempts.length;
      await vi.advanceTimersByTimeAsync(998);
      expect(attempts.length).toBe(before);
      await vi.advanceTimersByTimeAsync(1);
      expect(attempts.length).toBe(before + 1);
      sub.unsubscribe();
      await vi.advanceTimersByTimeAsync(60_000);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
