// createMailboxApi: one method per Mailbox API operation over a single request
// pipeline — rate limiter → fetch (with timeout/abort) → envelope decoding → retry
// with backoff — plus cursor pagination, the ETag cache and the SSE stream.
import type { Observable } from 'rxjs';
import { MAX_SERVER_WAIT_MS, decodeError, decodeSuccess, requestedWaitMs } from './envelope.js';
import { EtagCache } from './etagCache.js';
import { SendmuxApiError, redact, redactCause } from './errors.js';
import { createEventStream, type EventSourceConstructor } from './events.js';
import { OPERATIONS, type OperationSpec, type PaginatedMethodName } from './operations.js';
import { RateLimiter } from './rateLimiter.js';
import { DEFAULT_RETRY, abortError, backoffDelay, sleep, systemClock, type Clock, type RetryPolicy } from './retry.js';
import type {
  ApiResponse,
  AttachmentResponse,
  BinaryBody,
  CallOptions,
  EventsOptions,
  MailboxStreamEvent,
  MethodArgs,
  MethodFn,
  MethodName,
  MethodResult,
} from './types.js';

/** The real service (mailbox-openapi.json `servers[0]`). */
export const DEFAULT_BASE_URL = 'https://app.sendmux.ai/api/v1';

/** Options of {@link createMailboxApi}. */
export interface MailboxApiOptions {
  /** Bearer credential (`smx_mbx_…`, agent or connected-app token). Never logged or put in errors. */
  apiKey: string;
  /** API base URL. Default `https://app.sendmux.ai/api/v1`. */
  baseUrl?: string;
  /** Sent as `mailbox_id` on every operation that accepts it (connected-app tokens). */
  mailboxId?: string;
  /** fetch implementation. Default `globalThis.fetch` (read at call time). */
  fetch?: typeof fetch;
  /** Clock (ms since epoch). Default `Date.now`. */
  now?: () => number;
  /** Timer functions (backoff, limiter, timeouts, SSE watchdog). Default the globals. */
  setTimeout?: (fn: () => void, ms: number) => unknown;
  /** Cancels a timer of `setTimeout`. Default the global. */
  clearTimeout?: (handle: unknown) => void;
  /** Randomness for jitter, in [0, 1). Default `Math.random`. */
  random?: () => number;
  /** Retry policy for retryable failures (429, 5xx, network, timeout). */
  retry?: { attempts?: number; baseDelayMs?: number; maxDelayMs?: number; maxRetryAfterMs?: number };
  /** Client-side budget (default 1800/min, docs/introduction.md), refined by X-RateLimit-*; `false` disables. */
  rateLimit?: { requestsPerMinute?: number } | false;
  /** Per-attempt timeout in ms. Default 30 000; 0 disables. */
  timeoutMs?: number;
  /** ETag cache size (entries). Default 200; 0 disables. */
  etagCacheSize?: number;
  /** ETag cache budget in characters of cached response bodies. Default 8 000 000. */
  etagCacheChars?: number;
  /** EventSource implementation. Default the `eventsource` package. */
  EventSource?: EventSourceConstructor;
  /**
   * Told when a response imposes a long wait (a minute or more of Retry-After, or an
   * exhausted quota until X-RateLimit-Reset), so that it is reported rather than
   * silent. Every such wait is capped at five minutes ({@link ServerWait.appliedMs});
   * past the cap the client retries on its own backoff. At most one call per five minutes.
   */
  onServerWait?: (wait: ServerWait) => void;
}

/** A long wait a server imposed (see {@link MailboxApiOptions.onServerWait}). */
export interface ServerWait {
  /** What the server asked for, in ms. */
  requestedMs: number;
  /** What the client waits: `requestedMs` capped at five minutes. */
  appliedMs: number;
  /** HTTP status of the response that asked for it. */
  status: number;
  /** `METHOD /path` of the operation. */
  operation: string;
}

/** Waits shorter than this are ordinary rate limiting and not reported. */
const REPORTED_WAIT_MS = 60_000;

/** The client: one method per operation plus `pages()` and `events()`. */
export type MailboxApi = { readonly [M in MethodName]: MethodFn<M> } & {
  /**
   * Iterates every page of a cursor-paginated list, following
   * `pagination.next_cursor` while `has_more`. Each item is one page's response.
   */
  pages<M extends PaginatedMethodName>(method: M, ...args: MethodArgs<M>): AsyncIterable<MethodResult<M>>;
  /** The SSE stream `/mailbox/events` as a cold Observable (see {@link EventsOptions}). */
  events(options?: EventsOptions): Observable<MailboxStreamEvent>;
  /** The base URL in use (no trailing slash). */
  readonly baseUrl: string;
  /** The client-side limiter, when enabled. */
  readonly rateLimiter: RateLimiter | undefined;
  /** Empties the ETag cache. */
  clearCache(): void;
};

const CLIENT_KEYS = new Set(['body', 'contentType', 'range']);

type Input = Record<string, unknown>;

function queryValue(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) return v.map(String).join(',');
  return String(v);
}

/** Builds the request URL of `spec` from `input` (path + query), validating input keys. */
export function buildUrl(baseUrl: string, name: string, spec: OperationSpec, input: Input, mailboxId: string | undefined): string {
  for (const key of Object.keys(input)) {
    if (input[key] === undefined) continue;
    if (!spec.pathParams.includes(key) && !spec.query.includes(key) && !CLIENT_KEYS.has(key)) {
      throw new TypeError(`${name}: unknown input field '${key}'. Expected one of: ${[...spec.pathParams, ...spec.query].join(', ') || '(none)'}${spec.body ? ', body' : ''}`);
    }
  }
  const path = spec.path.replace(/\{([^}]+)\}/g, (_m, key: string) => {
    const v = input[key];
    if (v === undefined || v === null || v === '') throw new TypeError(`${name}: missing path parameter '${key}'`);
    return encodeURIComponent(String(v));
  });
  const params = new URLSearchParams();
  for (const key of spec.query) {
    const v = queryValue(input[key] ?? (key === 'mailbox_id' ? mailboxId : undefined));
    if (v !== undefined) params.append(key, v);
  }
  const qs = params.toString();
  return `${baseUrl}${path}${qs ? `?${qs}` : ''}`;
}

function isBinary(v: unknown): v is BinaryBody {
  return (typeof Blob !== 'undefined' && v instanceof Blob) || v instanceof Uint8Array || v instanceof ArrayBuffer;
}

function totalSizeFrom(headers: Headers, status: number): number | undefined {
  const range = headers.get('content-range');
  const m = range ? /\/(\d+)\s*$/.exec(range) : null;
  if (m?.[1]) return Number(m[1]);
  const len = headers.get('content-length');
  return status === 200 && len !== null && /^\d+$/.test(len) ? Number(len) : undefined;
}

/**
 * Creates a typed Mailbox API client.
 *
 * ```ts
 * const api = createMailboxApi({ apiKey, baseUrl: sim.url });
 * const { data: session } = await api.getSession();
 * const page = await api.listMessages({ folder_id, limit: 100 }, { priority: 'background' });
 * for await (const p of api.pages('listMessages', { limit: 100 })) p.data;
 * api.events({ lastEventId }).subscribe((e) => …);
 * ```
 *
 * Every call: waits for the rate limiter (user before background), sends with
 * `Authorization: Bearer`, decodes the envelope into an {@link ApiResponse} or
 * throws {@link SendmuxApiError}, and retries retryable failures with full-jitter
 * backoff (honouring Retry-After) unless the operation is a non-idempotent POST
 * without an Idempotency-Key.
 */
export function createMailboxApi(options: MailboxApiOptions): MailboxApi {
  if (!options || typeof options.apiKey !== 'string' || options.apiKey === '') {
    throw new TypeError('createMailboxApi: options.apiKey is required');
  }
  const apiKey = options.apiKey;
  const baseUrl = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
  const clock: Clock = systemClock({
    ...(options.now ? { now: options.now } : {}),
    ...(options.setTimeout ? { setTimeout: options.setTimeout } : {}),
    ...(options.clearTimeout ? { clearTimeout: options.clearTimeout } : {}),
    ...(options.random ? { random: options.random } : {}),
  });
  const fetchImpl: typeof fetch = (input, init) => (options.fetch ?? globalThis.fetch)(input, init);
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...stripUndefined(options.retry ?? {}) };
  if (!(policy.attempts >= 1)) throw new RangeError('createMailboxApi: retry.attempts must be >= 1');
  const limiter =
    options.rateLimit === false ? undefined : new RateLimiter({ requestsPerMinute: options.rateLimit?.requestsPerMinute ?? 1800, clock });
  const cache = new EtagCache(options.etagCacheSize ?? 200, options.etagCacheChars ?? 8_000_000);
  const defaultTimeout = options.timeoutMs ?? 30_000;
  let lastWaitReport = -Infinity;

  /** Reports a long server-imposed wait (issue 19: a day-long header froze every request, silently). */
  function noteServerWait(res: Response, spec: OperationSpec): void {
    if (!options.onServerWait) return;
    const remaining = res.headers.get('x-ratelimit-remaining');
    const asked = res.status === 429 || res.status === 503 || (remaining !== null && Number(remaining) <= 0);
    const now = clock.now();
    const requestedMs = asked ? requestedWaitMs(res.headers, now, res.status) : undefined;
    if (requestedMs === undefined || requestedMs < REPORTED_WAIT_MS || now - lastWaitReport < MAX_SERVER_WAIT_MS) return;
    lastWaitReport = now;
    options.onServerWait({ requestedMs, appliedMs: Math.min(requestedMs, MAX_SERVER_WAIT_MS), status: res.status, operation: `${spec.method} ${spec.path}` });
  }

  async function attempt(name: MethodName, spec: OperationSpec, url: string, input: Input, call: CallOptions): Promise<ApiResponse<unknown>> {
    const release = limiter ? await limiter.acquire(call.priority ?? 'user', call.signal) : () => {};
    const controller = new AbortController();
    let timedOut = false;
    const onAbort = () => controller.abort();
    call.signal?.addEventListener('abort', onAbort, { once: true });
    const timeoutMs = call.timeoutMs ?? defaultTimeout;
    const timer =
      timeoutMs > 0
        ? clock.setTimeout(() => {
            timedOut = true;
            controller.abort();
          }, timeoutMs)
        : undefined;
    const fail = (cause: unknown, what: string): SendmuxApiError => {
      if (call.signal?.aborted) return abortError(call.signal);
      if (timedOut) {
        return new SendmuxApiError({ status: 0, code: 'timeout', message: `${spec.method} ${spec.path} timed out after ${timeoutMs} ms`, retryable: true });
      }
      const c = redactCause(cause, apiKey);
      return new SendmuxApiError({
        status: 0,
        code: 'network_error',
        message: redact(`${what} ${spec.method} ${spec.path}: ${c?.message ?? 'unknown error'}`, apiKey),
        retryable: true,
        ...(c ? { cause: c } : {}),
      });
    };
    try {
      const cached = spec.etag ? cache.get(url) : undefined;
      const headers = requestHeaders(spec, input, call, cached?.etag);
      let body: BodyInit | undefined;
      if (spec.body === 'json') body = JSON.stringify(input.body ?? {});
      else if (spec.body === 'binary') {
        if (!isBinary(input.body)) throw new TypeError(`${name}: body must be a Blob, Uint8Array or ArrayBuffer`);
        body = input.body as BodyInit;
      }
      let res: Response;
      try {
        res = await fetchImpl(url, { method: spec.method, headers, ...(body !== undefined ? { body } : {}), signal: controller.signal });
      } catch (cause) {
        throw fail(cause, 'Network error calling');
      }
      limiter?.observe(res.headers);
      noteServerWait(res, spec);
      const ctx = { paginated: spec.paginated, now: clock.now(), secret: apiKey };
      if (name === 'getMessageAttachment' && (res.status === 200 || res.status === 206)) {
        let bytes: Uint8Array;
        try {
          bytes = new Uint8Array(await res.arrayBuffer());
        } catch (cause) {
          throw fail(cause, 'Connection lost reading');
        }
        const out: AttachmentResponse = { data: bytes, meta: { request_id: res.headers.get('x-request-id') ?? '' }, status: res.status };
        const contentRange = res.headers.get('content-range');
        const contentType = res.headers.get('content-type');
        const totalSize = totalSizeFrom(res.headers, res.status);
        const etag = res.headers.get('etag');
        if (contentRange) out.contentRange = contentRange;
        if (contentType) out.contentType = contentType;
        if (totalSize !== undefined) out.totalSize = totalSize;
        if (etag) out.etag = etag;
        return out;
      }
      let text: string;
      try {
        text = await res.text();
      } catch (cause) {
        throw fail(cause, 'Connection lost reading');
      }
      if (res.status === 304) {
        const sentTag = headers['If-None-Match'];
        if (cached && sentTag === cached.etag) {
          const rid = res.headers.get('x-request-id');
          // A copy: callers may mutate what they get without corrupting the cache.
          const copy = structuredClone(cached.response);
          return { ...copy, meta: { ...copy.meta, ...(rid ? { request_id: rid } : {}) }, status: 304, notModified: true };
        }
        throw new SendmuxApiError({
          status: 304,
          code: 'not_modified',
          message: `${spec.method} ${spec.path}: not modified since the given If-None-Match, and no cached copy to return`,
          retryable: false,
          ...(res.headers.get('x-request-id') ? { requestId: res.headers.get('x-request-id') as string } : {}),
        });
      }
      if (res.status >= 200 && res.status < 300) {
        const decoded = decodeSuccess(res.status, res.headers, text, ctx);
        if (spec.etag && decoded.etag) cache.set(url, { etag: decoded.etag, response: structuredClone(decoded), size: text.length });
        return decoded;
      }
      if (spec.etag && (res.status === 404 || res.status === 410)) cache.delete(url);
      throw decodeError(res.status, res.headers, text, ctx);
    } finally {
      release();
      if (timer !== undefined) clock.clearTimeout(timer);
      call.signal?.removeEventListener('abort', onAbort);
    }
  }

  function requestHeaders(spec: OperationSpec, input: Input, call: CallOptions, cachedEtag: string | undefined): Record<string, string> {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(call.headers ?? {})) {
      // The credential comes only from options.apiKey.
      if (k.toLowerCase() !== 'authorization') headers[k] = v;
    }
    // Attachment downloads answer raw bytes (errors are still JSON).
    headers.Accept = spec === OPERATIONS.getMessageAttachment ? '*/*' : 'application/json';
    headers.Authorization = `Bearer ${apiKey}`;
    if (spec.body === 'json') headers['Content-Type'] = 'application/json';
    if (spec.body === 'binary') {
      const blobType = typeof Blob !== 'undefined' && input.body instanceof Blob ? input.body.type : '';
      headers['Content-Type'] = (typeof input.contentType === 'string' && input.contentType) || blobType || 'application/octet-stream';
    }
    const inm = call.ifNoneMatch ?? cachedEtag;
    if (inm && spec.method === 'GET') headers['If-None-Match'] = inm;
    if (call.ifMatch) headers['If-Match'] = call.ifMatch;
    if (call.idempotencyKey) headers['Idempotency-Key'] = call.idempotencyKey;
    const range = input.range as { start: number; end?: number } | undefined;
    if (range) headers.Range = `bytes=${range.start}-${range.end ?? ''}`;
    return headers;
  }

  async function call(name: MethodName, rawInput: unknown, callOptions: CallOptions = {}): Promise<ApiResponse<unknown>> {
    const spec: OperationSpec = OPERATIONS[name];
    const input = (rawInput ?? {}) as Input;
    const url = buildUrl(baseUrl, name, spec, input, options.mailboxId);
    const canRetry = callOptions.retry !== false && (spec.idempotent || Boolean(callOptions.idempotencyKey));
    const maxAttempts = canRetry ? policy.attempts : 1;
    for (let n = 1; ; n++) {
      try {
        return await attempt(name, spec, url, input, callOptions);
      } catch (e) {
        if (!(e instanceof SendmuxApiError)) throw e;
        // docs/errors.md: a 429's Retry-After applies to the key, so hold every queued call.
        if (e.status === 429 && limiter) limiter.pauseFor(e.retryAfterMs ?? policy.baseDelayMs);
        if (!e.retryable || n >= maxAttempts || callOptions.signal?.aborted) throw e;
        if (e.retryAfterMs !== undefined && e.retryAfterMs > policy.maxRetryAfterMs) throw e;
        await sleep(backoffDelay(n, policy, clock.random, e.retryAfterMs), clock, callOptions.signal);
      }
    }
  }

  async function* pages(name: PaginatedMethodName, input?: unknown, callOptions?: CallOptions): AsyncGenerator<ApiResponse<unknown>> {
    const base = { ...((input ?? {}) as Input) };
    let cursor = typeof base.cursor === 'string' ? base.cursor : undefined;
    const seen = new Set<string>();
    for (;;) {
      const res = await call(name, cursor === undefined ? base : { ...base, cursor }, callOptions);
      yield res;
      if (!res.pagination?.has_more) return;
      const next = res.pagination.next_cursor;
      if (!next || seen.has(next)) {
        throw new SendmuxApiError({
          status: res.status,
          code: 'invalid_response',
          message: `${name}: has_more is true but next_cursor is ${next ? 'repeated' : 'missing'}`,
          retryable: false,
          ...(res.meta.request_id ? { requestId: res.meta.request_id } : {}),
        });
      }
      seen.add(next);
      cursor = next;
    }
  }

  const api: Record<string, unknown> = {
    baseUrl,
    rateLimiter: limiter,
    clearCache: () => cache.clear(),
    pages,
    events: (eventOptions?: EventsOptions) =>
      createEventStream(
        {
          baseUrl,
          apiKey,
          ...(options.mailboxId ? { mailboxId: options.mailboxId } : {}),
          fetch: fetchImpl,
          clock,
          ...(limiter ? { limiter } : {}),
          ...(options.EventSource ? { EventSource: options.EventSource } : {}),
        },
        eventOptions,
      ),
  };
  for (const name of Object.keys(OPERATIONS) as MethodName[]) {
    api[name] = (input?: unknown, callOptions?: CallOptions) => call(name, input, callOptions);
  }
  return api as MailboxApi;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
