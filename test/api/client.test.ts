// Unit tests of the request pipeline with an injected fetch and fake timers:
// request shape, retries/backoff/Retry-After, unsafe POSTs, abort, timeout, ETags.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { inspect } from 'node:util';
import { createMailboxApi, SendmuxApiError, type MailboxApiOptions } from '../../src/api/index.js';
import { fail, fakeFetch, hang, json, ok, type Responder } from './fakeFetch.js';

const KEY = 'smx_mbx_very_secret_key_123';
const BASE = 'http://api.test/api/v1';

function client(responders: Responder[], extra: Partial<MailboxApiOptions> = {}) {
  const f = fakeFetch(...responders);
  const api = createMailboxApi({ apiKey: KEY, baseUrl: BASE, fetch: f.fetch, random: () => 0.5, rateLimit: false, ...extra });
  return { api, f };
}

async function settle<T>(p: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  return p.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}

beforeEach(() => {
  vi.useFakeTimers({ now: Date.parse('2026-03-19T10:30:00Z') });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('request shape', () => {
  it('sends the Bearer key, JSON accept, path params encoded, query params and mailbox_id', async () => {
    const { api, f } = client([ok({ id: 'a/b' }), ok([], { pagination: { has_more: false } })], { mailboxId: 'mbx_1' });
    await api.getMessage({ message_id: 'a/b' });
    await api.listMessages({ folder_id: 'inbox', limit: 5, is_unread: true, sort_direction: 'desc' });
    await api.listMessages({ mailbox_id: 'mbx_override' });
    await api.listGrantedMailboxes({ q: 'sup' });
    const [get, list, override, granted] = f.requests;
    expect(get?.url.pathname).toBe('/api/v1/mailbox/messages/a%2Fb');
    expect(get?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(get?.headers.accept).toBe('application/json');
    expect(get?.url.searchParams.get('mailbox_id')).toBe('mbx_1');
    expect(Object.fromEntries(list?.url.searchParams ?? [])).toEqual({ folder_id: 'inbox', limit: '5', is_unread: 'true', sort_direction: 'desc', mailbox_id: 'mbx_1' });
    expect(override?.url.searchParams.get('mailbox_id')).toBe('mbx_override');
    // GET /mailbox/mailboxes takes no mailbox_id in the spec.
    expect(granted?.url.searchParams.has('mailbox_id')).toBe(false);
    expect(granted?.url.searchParams.get('q')).toBe('sup');
  });

  it('defaults to the real service base URL', async () => {
    const f = fakeFetch(ok({}));
    const api = createMailboxApi({ apiKey: KEY, fetch: f.fetch, rateLimit: false });
    await api.getSession();
    expect(f.requests[0]?.url.href).toBe('https://app.sendmux.ai/api/v1/mailbox/session');
    expect(api.baseUrl).toBe('https://app.sendmux.ai/api/v1');
  });

  it('sends JSON bodies, If-Match and Idempotency-Key; extra headers cannot replace Authorization', async () => {
    const { api, f } = client([ok({})]);
    await api.batchUpdateMessages({ body: { ids: ['m1'], seen: true, if_in_state: 's1' } });
    await api.updateMessage({ message_id: 'm1', body: { flagged: true } }, { ifMatch: 'W/"3"', headers: { Authorization: 'Bearer other', 'X-Trace': 't' } });
    await api.sendMessage({ body: { to: [{ email: 'a@b.c', name: null }], subject: 's', text_body: 'x' } }, { idempotencyKey: 'k-1' });
    const [batch, patch, send] = f.requests;
    expect(batch?.method).toBe('POST');
    expect(batch?.url.pathname).toBe('/api/v1/mailbox/messages:batch-update');
    expect(batch?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(String(batch?.body))).toEqual({ ids: ['m1'], seen: true, if_in_state: 's1' });
    expect(patch?.method).toBe('PATCH');
    expect(patch?.headers['if-match']).toBe('W/"3"');
    expect(patch?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(patch?.headers['x-trace']).toBe('t');
    expect(send?.headers['idempotency-key']).toBe('k-1');
  });

  it('uploads raw bytes with filename and content type', async () => {
    const { api, f } = client([ok({ blob_id: 'b1', filename: 'a.pdf', content_type: 'application/pdf', size_bytes: 3 })]);
    const res = await api.uploadAttachment({ filename: 'a.pdf', body: new Uint8Array([1, 2, 3]), contentType: 'application/pdf' });
    expect(res.data.blob_id).toBe('b1');
    expect(f.requests[0]?.url.searchParams.get('filename')).toBe('a.pdf');
    expect(f.requests[0]?.headers['content-type']).toBe('application/pdf');
    expect(f.requests[0]?.body).toEqual(new Uint8Array([1, 2, 3]));
    await api.uploadAttachment({ filename: 'b.bin', body: new Blob([new Uint8Array([9])]) });
    expect(f.requests[1]?.headers['content-type']).toBe('application/octet-stream');
  });

  it('downloads attachment bytes with a Range', async () => {
    const { api, f } = client([
      () => new Response(new Uint8Array([5, 6, 7]), { status: 206, headers: { 'content-range': 'bytes 10-12/100', 'content-type': 'application/pdf', 'x-request-id': 'req_att' } }),
    ]);
    const res = await api.getMessageAttachment({ message_id: 'm1', attachment_id: 'a1', range: { start: 10, end: 12 } });
    expect(f.requests[0]?.headers.range).toBe('bytes=10-12');
    expect(res.data).toEqual(new Uint8Array([5, 6, 7]));
    expect(res).toMatchObject({ status: 206, contentRange: 'bytes 10-12/100', contentType: 'application/pdf', totalSize: 100, meta: { request_id: 'req_att' } });
  });

  it('rejects programmer mistakes before sending anything', async () => {
    const { api, f } = client([ok({})]);
    // @ts-expect-error camelCase is not a spec parameter
    await expect(api.listMessages({ folderId: 'inbox' })).rejects.toThrow(/unknown input field 'folderId'/);
    // @ts-expect-error message_id is required
    await expect(api.getMessage({})).rejects.toThrow(/missing path parameter 'message_id'/);
    expect(f.requests).toHaveLength(0);
    expect(() => createMailboxApi({ apiKey: '' })).toThrow(/apiKey is required/);
  });
});

describe('retries', () => {
  it('retries a 500 with full-jitter backoff, then succeeds', async () => {
    const { api, f } = client([fail(500, 'internal_error', true), fail(502, 'internal_error', true), ok({ id: 's' })], {
      random: () => 0.999,
      retry: { baseDelayMs: 1000, maxDelayMs: 10_000 },
    });
    const p = settle(api.getSession());
    await vi.advanceTimersByTimeAsync(0);
    expect(f.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(998); // first retry waits random * 1000 = 999 ms
    expect(f.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(f.requests).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1997); // second retry: random * 2000 = 1998 ms
    expect(f.requests).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect((await p).value?.data).toEqual({ id: 's' });
    expect(f.requests).toHaveLength(3);
  });

  it('honours Retry-After seconds on 429 (never sooner)', async () => {
    const { api, f } = client([fail(429, 'rate_limit_exceeded', true, { 'retry-after': '5' }), ok({})], { random: () => 0 });
    const p = settle(api.getSession());
    await vi.advanceTimersByTimeAsync(4999);
    expect(f.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(f.requests).toHaveLength(2);
    expect((await p).error).toBeUndefined();
    expect(f.requests[1]!.at - f.requests[0]!.at).toBe(5000);
  });

  it('honours Retry-After as an HTTP date on 503', async () => {
    const when = new Date(Date.now() + 8000).toUTCString();
    const { api, f } = client([fail(503, 'service_unavailable', true, { 'retry-after': when }), ok({})], { random: () => 0 });
    const p = settle(api.getSession());
    await vi.advanceTimersByTimeAsync(7999);
    expect(f.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect((await p).error).toBeUndefined();
    expect(f.requests).toHaveLength(2);
  });

  it('honours X-RateLimit-Reset on a 429 without Retry-After', async () => {
    const reset = String(Math.floor(Date.now() / 1000) + 12);
    const { api, f } = client([fail(429, 'rate_limit_exceeded', true, { 'x-ratelimit-reset': reset, 'x-ratelimit-remaining': '0' }), ok({})], { random: () => 0 });
    const p = settle(api.getSession());
    await vi.advanceTimersByTimeAsync(11_999);
    expect(f.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect((await p).error).toBeUndefined();
  });

  it('stops at the attempt limit and throws the last error', async () => {
    const { api, f } = client([fail(503, 'service_unavailable', true)], { retry: { attempts: 3 } });
    const p = settle(api.getSession());
    await vi.runAllTimersAsync();
    const { error } = await p;
    expect(f.requests).toHaveLength(3);
    expect(error).toBeInstanceOf(SendmuxApiError);
    expect(error).toMatchObject({ status: 503, code: 'service_unavailable', retryable: true, requestId: 'req_503' });
  });

  it('does not wait for a Retry-After beyond maxRetryAfterMs', async () => {
    const { api, f } = client([fail(429, 'rate_limit_exceeded', true, { 'retry-after': '3600' })]);
    const { error } = await settle(api.getSession());
    expect(f.requests).toHaveLength(1);
    expect(error).toMatchObject({ code: 'rate_limit_exceeded', retryAfterMs: 300_000 }); // capped at MAX_SERVER_WAIT_MS (issue 19)
  });

  it.each([400, 401, 403, 404, 409, 413, 422])('never retries a non-retryable %i', async (status) => {
    const { api, f } = client([fail(status, 'conflict', false)]);
    const { error } = await settle(api.batchDeleteMessages({ body: { ids: ['m1'] } }));
    expect(f.requests).toHaveLength(1);
    expect(error).toMatchObject({ status, retryable: false });
  });

  it('retry: false disables retries for one call', async () => {
    const { api, f } = client([fail(500, 'internal_error', true)]);
    await settle(api.getSession(undefined, { retry: false }));
    expect(f.requests).toHaveLength(1);
  });

  const unsafe: Array<[string, (api: ReturnType<typeof createMailboxApi>, key?: string) => Promise<unknown>]> = [
    ['sendMessage', (api, key) => api.sendMessage({ body: { to: [{ email: 'a@b.c', name: null }], subject: 's', text_body: 't' } }, key ? { idempotencyKey: key } : {})],
    ['uploadAttachment', (api, key) => api.uploadAttachment({ filename: 'f', body: new Uint8Array([1]) }, key ? { idempotencyKey: key } : {})],
    ['createAttachmentUpload', (api, key) => api.createAttachmentUpload({ body: { filename: 'f', content_type: 'text/plain', size_bytes: 1 } }, key ? { idempotencyKey: key } : {})],
    ['createFolder', (api, key) => api.createFolder({ body: { name: 'F' } }, key ? { idempotencyKey: key } : {})],
  ];

  it.each(unsafe)('%s is never retried without an Idempotency-Key (503, 429, network)', async (_name, run) => {
    for (const responder of [fail(503, 'service_unavailable', true), fail(429, 'rate_limit_exceeded', true, { 'retry-after': '1' })]) {
      const { api, f } = client([responder, ok({})]);
      const p = settle(run(api));
      await vi.runAllTimersAsync();
      expect((await p).error).toBeInstanceOf(SendmuxApiError);
      expect(f.requests).toHaveLength(1);
    }
    const { api, f } = client([
      () => {
        throw new TypeError('fetch failed');
      },
      ok({}),
    ]);
    const p = settle(run(api));
    await vi.runAllTimersAsync();
    expect((await p).error).toMatchObject({ code: 'network_error', retryable: true });
    expect(f.requests).toHaveLength(1);
  });

  it.each(unsafe)('%s is retried with its Idempotency-Key, the same key on every attempt', async (_name, run) => {
    const { api, f } = client([fail(503, 'service_unavailable', true), () => Promise.reject(new TypeError('fetch failed')), ok({})]);
    const p = settle(run(api, 'idem-42'));
    await vi.runAllTimersAsync();
    expect((await p).error).toBeUndefined();
    expect(f.requests.map((r) => r.headers['idempotency-key'])).toEqual(['idem-42', 'idem-42', 'idem-42']);
  });

  const safe: Array<[string, (api: ReturnType<typeof createMailboxApi>) => Promise<unknown>]> = [
    ['batchUpdateMessages', (api: ReturnType<typeof createMailboxApi>) => api.batchUpdateMessages({ body: { ids: ['m'], seen: true } })],
    ['batchDeleteMessages', (api: ReturnType<typeof createMailboxApi>) => api.batchDeleteMessages({ body: { ids: ['m'] } })],
    ['batchGetMessages', (api: ReturnType<typeof createMailboxApi>) => api.batchGetMessages({ body: { ids: ['m'] } })],
    ['updateMessage', (api: ReturnType<typeof createMailboxApi>) => api.updateMessage({ message_id: 'm', body: { seen: true } })],
    ['deleteMessage', (api: ReturnType<typeof createMailboxApi>) => api.deleteMessage({ message_id: 'm' })],
  ];
  it.each(safe)('%s is safe to retry', async (_name, run) => {
    const { api, f } = client([fail(500, 'internal_error', true), ok({})]);
    const p = settle(run(api));
    await vi.runAllTimersAsync();
    expect((await p).error).toBeUndefined();
    expect(f.requests).toHaveLength(2);
  });

  it('maps transport failures to network_error without leaking the key', async () => {
    const { api } = client([
      () => Promise.reject(new TypeError('fetch failed', { cause: new Error(`connect ECONNREFUSED; headers: Authorization: Bearer ${KEY}`) })),
    ]);
    const p = settle(api.getSession(undefined, { retry: false }));
    const { error } = await p;
    expect(error).toMatchObject({ status: 0, code: 'network_error', retryable: true });
    const e = error as SendmuxApiError;
    expect(e.message).not.toContain(KEY);
    expect(inspect(e, { depth: 10 })).not.toContain(KEY);
    expect(JSON.stringify(e)).not.toContain(KEY);
    expect(String(e.stack)).not.toContain(KEY);
  });

  it('times out a hanging attempt (code timeout, retried)', async () => {
    const { api, f } = client([hang, ok({ id: 1 })], { timeoutMs: 1000, random: () => 0 });
    const p = settle(api.getSession());
    await vi.advanceTimersByTimeAsync(999);
    expect(f.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(10);
    expect(f.requests).toHaveLength(2);
    expect((await p).value?.data).toEqual({ id: 1 });
    const { api: api2 } = client([hang], { timeoutMs: 500 });
    const q = settle(api2.getSession(undefined, { retry: false }));
    await vi.advanceTimersByTimeAsync(500);
    expect((await q).error).toMatchObject({ code: 'timeout', status: 0, retryable: true });
  });
});

describe('abort', () => {
  it('an already-aborted signal sends nothing', async () => {
    const { api, f } = client([ok({})], { rateLimit: { requestsPerMinute: 10 } });
    const { error } = await settle(api.getSession(undefined, { signal: AbortSignal.abort() }));
    expect(error).toMatchObject({ code: 'aborted', status: 0, retryable: false });
    expect(f.requests).toHaveLength(0);
  });

  it('aborts an in-flight request', async () => {
    const { api } = client([hang]);
    const ac = new AbortController();
    const p = settle(api.getSession(undefined, { signal: ac.signal }));
    await vi.advanceTimersByTimeAsync(0);
    ac.abort();
    expect((await p).error).toMatchObject({ code: 'aborted' });
  });

  it('cancels a backoff wait', async () => {
    const { api, f } = client([fail(503, 'service_unavailable', true, { 'retry-after': '60' }), ok({})]);
    const ac = new AbortController();
    const p = settle(api.getSession(undefined, { signal: ac.signal }));
    await vi.advanceTimersByTimeAsync(1000);
    ac.abort();
    expect((await p).error).toMatchObject({ code: 'aborted' });
    await vi.advanceTimersByTimeAsync(120_000);
    expect(f.requests).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('cancels a rate-limiter wait', async () => {
    const { api, f } = client([ok({})], { rateLimit: { requestsPerMinute: 1 } });
    await api.getSession();
    const ac = new AbortController();
    const p = settle(api.getSession(undefined, { signal: ac.signal }));
    await vi.advanceTimersByTimeAsync(1000);
    expect(api.rateLimiter?.queued.user).toBe(1);
    ac.abort();
    expect((await p).error).toMatchObject({ code: 'aborted' });
    expect(api.rateLimiter?.queued.user).toBe(0);
    expect(f.requests).toHaveLength(1);
  });
});

describe('ETag cache', () => {
  it('sends If-None-Match from the cache and answers a 304 with the cached data', async () => {
    const { api, f } = client([
      ok({ id: 'm1', subject: 'hi' }, {}, { etag: 'W/"v1"' }),
      json(304, null, { etag: 'W/"v1"', 'x-request-id': 'req_304' }),
    ]);
    const first = await api.getMessage({ message_id: 'm1' });
    expect(first).toMatchObject({ status: 200, etag: 'W/"v1"' });
    expect(first.notModified).toBeUndefined();
    expect(f.requests[0]?.headers['if-none-match']).toBeUndefined();
    const second = await api.getMessage({ message_id: 'm1' });
    expect(f.requests[1]?.headers['if-none-match']).toBe('W/"v1"');
    expect(second).toMatchObject({ status: 304, notModified: true, etag: 'W/"v1"', data: { id: 'm1', subject: 'hi' }, meta: { request_id: 'req_304' } });
    // Mutating a returned object never leaks into the cache.
    (first.data as { subject: string }).subject = 'mutated';
    (second.data as { subject: string }).subject = 'mutated too';
    f.script(json(304, null, { etag: 'W/"v1"' }));
    expect((await api.getMessage({ message_id: 'm1' })).data).toMatchObject({ subject: 'hi' });
  });

  it('a changed resource replaces the cached entry', async () => {
    const { api, f } = client([ok({ v: 1 }, {}, { etag: 'W/"1"' }), ok({ v: 2 }, {}, { etag: 'W/"2"' }), json(304, null)]);
    await api.getFolder({ folder_id: 'f' });
    expect((await api.getFolder({ folder_id: 'f' })).data).toEqual({ v: 2 });
    const third = await api.getFolder({ folder_id: 'f' });
    expect(f.requests[2]?.headers['if-none-match']).toBe('W/"2"');
    expect(third.data).toEqual({ v: 2 });
  });

  it('keys by URL (query and mailbox_id included), evicts LRU, forgets on 404, and only for single-resource GETs', async () => {
    const { api, f } = client([ok({}, {}, { etag: 'W/"x"' })], { etagCacheSize: 1 });
    await api.listBody({ message_id: 'm', part: 'text' });
    await api.listBody({ message_id: 'm', part: 'html' }); // evicts the text entry
    await api.listBody({ message_id: 'm', part: 'text' });
    expect(f.requests[2]?.headers['if-none-match']).toBeUndefined();
    f.script(ok([], { pagination: { has_more: false } }, { etag: 'W/"l"' }));
    await api.listMessages();
    await api.listMessages();
    expect(f.requests[1]?.headers['if-none-match']).toBeUndefined();
    f.script(fail(404, 'not_found', false), ok({}));
    await settle(api.listBody({ message_id: 'm', part: 'text' }));
    expect(f.requests[0]?.headers['if-none-match']).toBe('W/"x"');
    await api.listBody({ message_id: 'm', part: 'text' });
    expect(f.requests[1]?.headers['if-none-match']).toBeUndefined();
  });

  it('a 304 to a caller-supplied If-None-Match with nothing cached is a typed not_modified error', async () => {
    const { api, f } = client([json(304, null)]);
    const { error } = await settle(api.getThread({ thread_id: 't' }, { ifNoneMatch: 'W/"old"' }));
    expect(f.requests[0]?.headers['if-none-match']).toBe('W/"old"');
    expect(error).toMatchObject({ status: 304, code: 'not_modified', retryable: false });
  });

  it('clearCache() drops every entry', async () => {
    const { api, f } = client([ok({}, {}, { etag: 'W/"x"' })]);
    await api.getMe();
    api.clearCache();
    await api.getMe();
    expect(f.requests[1]?.headers['if-none-match']).toBeUndefined();
  });
});

describe('pages()', () => {
  it('follows next_cursor while has_more and yields each page', async () => {
    const { api, f } = client([
      ok([{ id: 1 }], { pagination: { has_more: true, next_cursor: 'c1' } }),
      ok([{ id: 2 }], { pagination: { has_more: true, next_cursor: 'c2' } }),
      ok([{ id: 3 }], { pagination: { has_more: false } }),
    ]);
    const seen: unknown[] = [];
    for await (const page of api.pages('listMessages', { limit: 1, folder_id: 'inbox' }, { priority: 'background' })) seen.push(...page.data);
    expect(seen).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
    expect(f.requests.map((r) => r.url.searchParams.get('cursor'))).toEqual([null, 'c1', 'c2']);
    expect(f.requests.every((r) => r.url.searchParams.get('folder_id') === 'inbox')).toBe(true);
  });

  it('stops with invalid_response on has_more without a cursor, or a repeated cursor', async () => {
    const { api } = client([ok([], { pagination: { has_more: true } })]);
    await expect(async () => {
      for await (const _ of api.pages('listFolders')) void _;
    }).rejects.toMatchObject({ code: 'invalid_response' });
    const { api: api2, f } = client([ok([], { pagination: { has_more: true, next_cursor: 'same' } })]);
    await expect(async () => {
      for await (const _ of api2.pages('listThreads')) void _;
    }).rejects.toMatchObject({ code: 'invalid_response' });
    expect(f.requests).toHaveLength(2);
  });
});
