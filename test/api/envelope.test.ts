// Envelope decoding and error mapping (pure functions, no I/O).
import { describe, expect, it } from 'vitest';
import { decodeError, decodeSuccess, retryAfterMsFrom } from '../../src/api/envelope.js';
import { SendmuxApiError } from '../../src/api/index.js';
import { specAvailable } from '../helpers/spec.js';
import { validateSchema } from '../helpers/openapi.js';

const NOW = Date.parse('2026-03-19T10:30:00Z');
const SECRET = 'smx_mbx_supersecret_key';
const ctx = { paginated: false, now: NOW, secret: SECRET };
const h = (init: Record<string, string> = {}) => new Headers(init);

function errorBody(code: string, retryable: boolean, extra: Record<string, unknown> = {}) {
  return { ok: false, error: { code, message: `${code} happened`, retryable, doc_url: `https://sendmux.ai/docs/api/errors#${code}`, ...extra }, meta: { request_id: 'req_meta' } };
}

function caught(fn: () => unknown): SendmuxApiError {
  try {
    fn();
  } catch (e) {
    if (e instanceof SendmuxApiError) return e;
    throw e;
  }
  throw new Error('expected a SendmuxApiError');
}

// docs/errors.md "Common codes": status, code, retryable.
const DOCUMENTED: Array<[number, string, boolean]> = [
  [400, 'invalid_parameter', false],
  [400, 'missing_parameter', false],
  [401, 'authentication_required', false],
  [403, 'insufficient_permissions', false],
  [404, 'not_found', false],
  [409, 'conflict', false],
  [409, 'idempotency_conflict', false],
  [413, 'payload_too_large', false],
  [422, 'validation_error', false],
  [429, 'rate_limit_exceeded', true],
  [500, 'internal_error', true],
  [503, 'service_unavailable', true],
];

describe('decodeError: every documented error status', () => {
  it.each(DOCUMENTED)('%i %s → SendmuxApiError fields', (status, code, retryable) => {
    const param = status === 400 ? 'cursor' : undefined;
    const body = errorBody(code, retryable, param ? { param } : {});
    if (specAvailable) expect(validateSchema('ApiError', body)).toEqual([]);
    const headers = status === 429 || status === 503 ? h({ 'retry-after': '30', 'x-request-id': 'req_hdr' }) : h({ 'x-request-id': 'req_hdr' });
    const err = decodeError(status, headers, JSON.stringify(body), ctx);
    expect(err).toBeInstanceOf(SendmuxApiError);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('SendmuxApiError');
    expect(err.status).toBe(status);
    expect(err.code).toBe(code);
    expect(err.message).toBe(`${code} happened`);
    expect(err.retryable).toBe(retryable);
    expect(err.requestId).toBe('req_hdr');
    expect(err.param).toBe(param);
    expect(err.docUrl).toBe(`https://sendmux.ai/docs/api/errors#${code}`);
    expect(err.retryAfterMs).toBe(status === 429 || status === 503 ? 30_000 : undefined);
  });

  it('keeps accumulated validation errors[]', () => {
    const body = errorBody('validation_error', false, { errors: [{ code: 'too_big', message: 'subject too long', field: 'subject' }, { code: 'invalid_string', message: 'bad to', field: 'to.0.email' }] });
    if (specAvailable) expect(validateSchema('ApiError', body)).toEqual([]);
    const err = decodeError(422, h(), JSON.stringify(body), ctx);
    expect(err.errors).toEqual([
      { code: 'too_big', message: 'subject too long', field: 'subject', param: 'subject' },
      { code: 'invalid_string', message: 'bad to', field: 'to.0.email', param: 'to.0.email' },
    ]);
    // Tolerates issues without the documented fields.
    const loose = decodeError(422, h(), JSON.stringify(errorBody('validation_error', false, { errors: [{ message: 'x' }, 'junk'] })), ctx);
    expect(loose.errors).toEqual([{ message: 'x' }]);
  });

  it('falls back to meta.request_id without X-Request-Id', () => {
    expect(decodeError(404, h(), JSON.stringify(errorBody('not_found', false)), ctx).requestId).toBe('req_meta');
  });

  it('tolerates unknown extra fields in the error envelope', () => {
    const body = { ...errorBody('conflict', false, { hint: 'x' }), extra: { nested: true } };
    const err = decodeError(409, h(), JSON.stringify(body), ctx);
    expect(err.code).toBe('conflict');
  });

  it('defaults retryable from the status when the server omits it', () => {
    const body = { ok: false, error: { code: 'internal_error', message: 'boom' }, meta: { request_id: 'r' } };
    expect(decodeError(500, h(), JSON.stringify(body), ctx).retryable).toBe(true);
    expect(decodeError(418, h(), JSON.stringify({ ...body, error: { code: 'teapot', message: 'x' } }), ctx).retryable).toBe(false);
  });

  it.each([
    ['HTML from a proxy', 502, '<html><body>Bad gateway</body></html>', true],
    ['empty body', 500, '', true],
    ['truncated JSON', 400, '{"ok":false,"error":{"code":"inv', false],
    ['JSON that is not an envelope', 404, '["not","an","envelope"]', false],
    ['error without code', 400, '{"ok":false,"error":{"message":"x"}}', false],
  ])('%s → invalid_response keeping the status', (_label, status, text, retryable) => {
    const err = decodeError(status, h({ 'x-request-id': 'req_x' }), text, ctx);
    expect(err.code).toBe('invalid_response');
    expect(err.status).toBe(status);
    expect(err.retryable).toBe(retryable);
    expect(err.requestId).toBe('req_x');
  });

  it('never echoes the API key from a body', () => {
    const err = decodeError(401, h(), JSON.stringify(errorBody('authentication_required', false, { message: `key ${SECRET} revoked` })), ctx);
    expect(err.message).not.toContain(SECRET);
    const html = decodeError(502, h(), `<p>Authorization: Bearer ${SECRET}</p>`, ctx);
    expect(html.message).not.toContain(SECRET);
    expect(JSON.stringify({ ...html, message: html.message })).not.toContain(SECRET);
  });
});

describe('decodeSuccess', () => {
  it('returns data, pagination, meta, status and etag; ignores unknown fields', () => {
    const text = JSON.stringify({ ok: true, data: [{ id: 'm1', future_field: 1 }], pagination: { has_more: true, next_cursor: 'c2', extra: 1 }, meta: { request_id: 'r1', identity_state: 's' }, surprise: true });
    const res = decodeSuccess(200, h({ etag: 'W/"1"' }), text, { ...ctx, paginated: true });
    expect(res).toEqual({ data: [{ id: 'm1', future_field: 1 }], pagination: { has_more: true, next_cursor: 'c2' }, meta: { request_id: 'r1', identity_state: 's' }, status: 200, etag: 'W/"1"' });
  });

  it('takes request_id from X-Request-Id when meta lacks it', () => {
    const res = decodeSuccess(200, h({ 'x-request-id': 'req_h' }), JSON.stringify({ ok: true, data: { a: 1 } }), ctx);
    expect(res.meta.request_id).toBe('req_h');
  });

  it.each([
    ['non-JSON', 'OK'],
    ['truncated JSON', '{"ok":true,"data":{"id":"m'],
    ['a bare array', '[1,2]'],
    ['no ok flag', '{"data":{}}'],
    ['no data', '{"ok":true,"meta":{"request_id":"r"}}'],
    ['meta not an object', '{"ok":true,"data":{},"meta":"r"}'],
    ['pagination without has_more', '{"ok":true,"data":[],"pagination":{"next_cursor":"x"},"meta":{"request_id":"r"}}'],
  ])('%s → invalid_response (not retryable on a 2xx)', (_label, text) => {
    const err = caught(() => decodeSuccess(200, h(), text, ctx));
    expect(err.code).toBe('invalid_response');
    expect(err.status).toBe(200);
    expect(err.retryable).toBe(false);
  });

  it('a list response must have an array and pagination', () => {
    const err = caught(() => decodeSuccess(200, h(), JSON.stringify({ ok: true, data: { id: 'x' }, meta: { request_id: 'r' } }), { ...ctx, paginated: true }));
    expect(err.code).toBe('invalid_response');
  });

  it('an ok:false envelope on a 2xx is the error it describes', () => {
    const err = caught(() => decodeSuccess(200, h(), JSON.stringify(errorBody('conflict', false)), ctx));
    expect(err.code).toBe('conflict');
  });
});

describe('retryAfterMsFrom', () => {
  it('reads delta seconds', () => expect(retryAfterMsFrom(h({ 'retry-after': '7' }), NOW)).toBe(7000));
  it('reads an HTTP date', () => expect(retryAfterMsFrom(h({ 'retry-after': new Date(NOW + 12_000).toUTCString() }), NOW)).toBe(12_000));
  it('a past HTTP date means now', () => expect(retryAfterMsFrom(h({ 'retry-after': new Date(NOW - 5_000).toUTCString() }), NOW)).toBe(0));
  it('uses X-RateLimit-Reset (epoch seconds) on a 429 without Retry-After', () =>
    expect(retryAfterMsFrom(h({ 'x-ratelimit-reset': String(NOW / 1000 + 20), 'x-ratelimit-remaining': '0' }), NOW, 429)).toBe(20_000));
  it('uses X-RateLimit-Reset when Remaining is 0 even on other statuses', () =>
    expect(retryAfterMsFrom(h({ 'x-ratelimit-reset': String(NOW / 1000 + 3), 'x-ratelimit-remaining': '0' }), NOW, 503)).toBe(3000));
  it('ignores X-RateLimit-Reset while quota remains', () =>
    expect(retryAfterMsFrom(h({ 'x-ratelimit-reset': String(NOW / 1000 + 3), 'x-ratelimit-remaining': '10' }), NOW, 500)).toBeUndefined());
  it('garbage is ignored', () => expect(retryAfterMsFrom(h({ 'retry-after': 'soon' }), NOW)).toBeUndefined());
});
