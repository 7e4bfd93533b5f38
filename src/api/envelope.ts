// Pure decoding of the API envelope (docs/introduction.md: `{ ok, data, pagination?,
// meta }` on success, `{ ok: false, error, meta }` on failure). No I/O here so the
// mapping of every status/body combination is unit-testable.
import { SendmuxApiError, redact, statusIsRetryable } from './errors.js';
import type { ApiResponse } from './types.js';

/** Header access both `Headers` and plain test doubles satisfy. */
export interface HeaderReader {
  get(name: string): string | null;
}

/** What the decoder needs to know about the operation. */
export interface DecodeContext {
  /** Response must carry `pagination` and an array `data`. */
  paginated: boolean;
  /** Current time (ms since epoch) for HTTP-date Retry-After and X-RateLimit-Reset. */
  now: number;
  /** Never echoed in any message (the API key). */
  secret: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The longest wait a server may impose (issue 19): a Retry-After or X-RateLimit-Reset
 * further ahead is cut to this, and past it the caller retries on its own backoff. A
 * day-long header would otherwise freeze every request of the key, and one past
 * 2^31-1 ms overflows setTimeout into a 1 ms spin.
 */
export const MAX_SERVER_WAIT_MS = 5 * 60_000;

/**
 * The wait the server asks for, uncapped: `Retry-After` (delta seconds or an HTTP
 * date, RFC 9110 §10.2.3), else — when the quota is exhausted — `X-RateLimit-Reset`
 * (epoch seconds per docs/introduction.md; small values are read as delta seconds).
 * Undefined when the response says nothing.
 */
export function requestedWaitMs(headers: HeaderReader, now: number, status?: number): number | undefined {
  const retryAfter = headers.get('retry-after')?.trim();
  if (retryAfter) {
    if (/^\d+(\.\d+)?$/.test(retryAfter)) return Math.max(0, Math.round(Number(retryAfter) * 1000));
    const at = Date.parse(retryAfter);
    if (!Number.isNaN(at)) return Math.max(0, at - now);
  }
  const remaining = headers.get('x-ratelimit-remaining');
  const reset = headers.get('x-ratelimit-reset');
  if (reset && (status === 429 || (remaining !== null && Number(remaining) <= 0))) {
    const ms = resetToEpochMs(reset, now);
    if (ms !== undefined) return Math.max(0, ms - now);
  }
  return undefined;
}

/**
 * Milliseconds to wait before retrying: {@link requestedWaitMs}, capped at
 * {@link MAX_SERVER_WAIT_MS}. Undefined when the response says nothing.
 */
export function retryAfterMsFrom(headers: HeaderReader, now: number, status?: number): number | undefined {
  const ms = requestedWaitMs(headers, now, status);
  return ms === undefined ? undefined : Math.min(ms, MAX_SERVER_WAIT_MS);
}

/** `X-RateLimit-Reset` as epoch ms: epoch seconds when large, else delta seconds from `now`. */
export function resetToEpochMs(value: string, now: number): number | undefined {
  const n = Number(value.trim());
  if (!Number.isFinite(n) || n < 0) return undefined;
  // 1e9 s ≈ 2001-09-09: anything smaller cannot be an epoch timestamp.
  return n >= 1e9 ? n * 1000 : now + n * 1000;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

function snippet(text: string, secret: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return redact(oneLine.length > 120 ? `${oneLine.slice(0, 120)}…` : oneLine, secret);
}

function invalid(status: number, headers: HeaderReader, ctx: DecodeContext, why: string, requestId?: string): SendmuxApiError {
  const rid = headers.get('x-request-id') ?? requestId;
  const retryAfterMs = retryAfterMsFrom(headers, ctx.now, status);
  return new SendmuxApiError({
    status,
    code: 'invalid_response',
    message: redact(`HTTP ${status}: ${why}`, ctx.secret),
    // A proxy's HTML 502 is still a transient 5xx; a malformed 2xx is a bug, not retried.
    retryable: statusIsRetryable(status),
    ...(rid ? { requestId: redact(rid, ctx.secret) } : {}),
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  });
}

/**
 * Decodes a success (2xx) response body. Unknown extra fields are kept/ignored;
 * anything that is not an `ok: true` envelope becomes `invalid_response`, and an
 * `ok: false` envelope with a 2xx status becomes the error it describes.
 */
export function decodeSuccess(status: number, headers: HeaderReader, text: string, ctx: DecodeContext): ApiResponse<unknown> {
  const parsed = parseJson(text);
  if (!parsed.ok) return throwIt(invalid(status, headers, ctx, `response is not JSON (${snippet(text, ctx.secret) || 'empty body'})`));
  const body = parsed.value;
  if (!isObject(body)) return throwIt(invalid(status, headers, ctx, 'response is not an envelope object'));
  if (body.ok === false) return throwIt(decodeError(status, headers, text, ctx));
  if (body.ok !== true) return throwIt(invalid(status, headers, ctx, 'envelope has no `ok: true`'));
  if (!('data' in body)) return throwIt(invalid(status, headers, ctx, 'envelope has no `data`'));
  const metaIn = body.meta;
  if (metaIn !== undefined && !isObject(metaIn)) return throwIt(invalid(status, headers, ctx, '`meta` is not an object'));
  const headerId = headers.get('x-request-id');
  const metaId = isObject(metaIn) && typeof metaIn.request_id === 'string' ? metaIn.request_id : undefined;
  const meta = { ...(metaIn ?? {}), request_id: metaId ?? headerId ?? '' };
  const out: ApiResponse<unknown> = { data: body.data, meta, status };
  if (body.pagination !== undefined) {
    const p = body.pagination;
    if (!isObject(p) || typeof p.has_more !== 'boolean' || (p.next_cursor !== undefined && p.next_cursor !== null && typeof p.next_cursor !== 'string')) {
      return throwIt(invalid(status, headers, ctx, '`pagination` is not `{ has_more, next_cursor? }`', metaId));
    }
    out.pagination = { has_more: p.has_more, ...(typeof p.next_cursor === 'string' ? { next_cursor: p.next_cursor } : {}) };
  }
  if (ctx.paginated && (!Array.isArray(body.data) || out.pagination === undefined)) {
    return throwIt(invalid(status, headers, ctx, 'list response needs an array `data` and `pagination`', metaId));
  }
  if (!ctx.paginated && body.data === undefined) return throwIt(invalid(status, headers, ctx, '`data` is undefined', metaId));
  const etag = headers.get('etag');
  if (etag) out.etag = etag;
  return out;
}

/**
 * Maps a failed response (or an `ok: false` envelope) to a SendmuxApiError. Non-JSON
 * and non-envelope bodies become `invalid_response` with the HTTP status kept so
 * callers can still tell a 502 from a 404.
 */
export function decodeError(status: number, headers: HeaderReader, text: string, ctx: DecodeContext): SendmuxApiError {
  const parsed = parseJson(text);
  if (!parsed.ok) return invalid(status, headers, ctx, `error response is not JSON (${snippet(text, ctx.secret) || 'empty body'})`);
  const body = parsed.value;
  if (!isObject(body) || !isObject(body.error)) return invalid(status, headers, ctx, 'error response is not an error envelope');
  const e = body.error;
  if (typeof e.code !== 'string' || typeof e.message !== 'string') {
    return invalid(status, headers, ctx, 'error envelope lacks `code`/`message`');
  }
  const meta = isObject(body.meta) ? body.meta : undefined;
  // Every string the server sends back is redacted: a hostile or buggy server may
  // echo the Authorization header into any field (found by the security tests).
  const clean = (v: string) => redact(v, ctx.secret);
  const rawRequestId = headers.get('x-request-id') ?? (typeof meta?.request_id === 'string' ? meta.request_id : undefined);
  const requestId = rawRequestId === undefined ? undefined : clean(rawRequestId);
  const retryAfterMs = retryAfterMsFrom(headers, ctx.now, status);
  const errors = Array.isArray(e.errors)
    ? e.errors.filter(isObject).map((d) => ({
        message: typeof d.message === 'string' ? redact(d.message, ctx.secret) : '',
        ...(typeof d.code === 'string' ? { code: clean(d.code) } : {}),
        ...(typeof d.param === 'string' ? { param: clean(d.param) } : typeof d.field === 'string' ? { param: clean(d.field) } : {}),
        ...(typeof d.field === 'string' ? { field: clean(d.field) } : {}),
      }))
    : undefined;
  return new SendmuxApiError({
    status,
    code: clean(e.code),
    message: redact(e.message, ctx.secret),
    retryable: typeof e.retryable === 'boolean' ? e.retryable : statusIsRetryable(status),
    ...(typeof e.param === 'string' ? { param: clean(e.param) } : {}),
    ...(errors ? { errors } : {}),
    ...(requestId ? { requestId } : {}),
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    ...(typeof e.doc_url === 'string' ? { docUrl: clean(e.doc_url) } : {}),
  });
}

function throwIt(error: SendmuxApiError): never {
  throw error;
}
