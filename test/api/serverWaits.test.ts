// Issue 19, point 2: one header froze every request. Every server-imposed wait
// (Retry-After, X-RateLimit-Reset) is capped at MAX_SERVER_WAIT_MS, never arms a
// timer past setTimeout's 2^31-1 ms, and a long one is reported (onServerWait).
// Fake timers; the assertions count requests, not elapsed time.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_SERVER_WAIT_MS, createMailboxApi, type MailboxApiOptions, type ServerWait } from '../../src/api/index.js';
import { MAX_TIMER_MS } from '../../src/api/retry.js';
import { fakeFetch, json, ok, type FakeFetch } from './fakeFetch.js';

const KEY = 'smx_mbx_waits';
const BASE = 'https://api.test/api/v1';
const NOW = Date.parse('2026-03-19T10:30:00Z');

const rateLimited = (headers: Record<string, string>) =>
  json(429, { ok: false, error: { code: 'rate_limit_exceeded', message: 'Too many requests', retryable: true }, meta: { request_id: 'req_429' } }, headers);

let f: FakeFetch;
let waits: ServerWait[];
let delays: number[];

function client(extra: Partial<MailboxApiOptions> = {}) {
  return createMailboxApi({
    apiKey: KEY,
    baseUrl: BASE,
    fetch: f.fetch,
    random: () => 0.5,
    retry: { attempts: 2 },
    // Every timer the client arms, recorded.
    setTimeout: (fn, ms) => {
      delays.push(ms);
      return globalThis.setTimeout(fn, ms);
    },
    onServerWait: (w) => waits.push(w),
    ...extra,
  });
}

beforeEach(() => {
  vi.useFakeTimers({ now: NOW });
  waits = [];
  delays = [];
});

afterEach(() => {
  vi.useRealTimers();
});

describe('server-imposed waits are capped (issue 19)', () => {
  it('a 429 with Retry-After: 999999 on background sync holds a user request at most five minutes, and is reported', async () => {
    f = fakeFetch(rateLimited({ 'retry-after': '999999' }), ok({ updated: [] }));
    const api = client();
    const background = api.getSession(undefined, { priority: 'background' }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(0);
    const error = (await background) as { code?: string; retryAfterMs?: number };
    expect(error.code).toBe('rate_limit_exceeded');
    expect(error.retryAfterMs).toBe(MAX_SERVER_WAIT_MS);
    expect(waits).toEqual([{ requestedMs: 999_999_000, appliedMs: MAX_SERVER_WAIT_MS, status: 429, operation: 'GET /mailbox/session' }]);
    // The user's mutation waits out the (capped) pause of the key, not eleven days.
    const user = api.batchUpdateMessages({ body: { ids: ['msg_1'], seen: true } });
    await vi.advanceTimersByTimeAsync(MAX_SERVER_WAIT_MS - 1);
    expect(f.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(f.requests).toHaveLength(2);
    expect(f.requests[1]?.url.pathname).toBe('/api/v1/mailbox/messages:batch-update');
    await user;
  });

  it('X-RateLimit-Remaining: 0 with a Reset a day ahead holds requests at most five minutes, and is reported', async () => {
    const dayAhead = String(Math.floor(NOW / 1000) + 86_400);
    f = fakeFetch(ok({}, {}, { 'x-ratelimit-limit': '1800', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': dayAhead }), ok({}));
    const api = client();
    await api.getSession(undefined, { priority: 'background' });
    expect(waits).toHaveLength(1);
    expect(waits[0]?.appliedMs).toBe(MAX_SERVER_WAIT_MS);
    expect(waits[0]?.requestedMs).toBeGreaterThan(86_000_000);
    const user = api.getSession();
    await vi.advanceTimersByTimeAsync(MAX_SERVER_WAIT_MS - 1);
    expect(f.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(f.requests).toHaveLength(2);
    await user;
  });

  it('a Retry-After past 24.8 days never arms a timer beyond 2^31-1 ms (no 1 ms spin)', async () => {
    f = fakeFetch(rateLimited({ 'retry-after': '3000000' }), ok({}));
    const api = client();
    await api.getSession(undefined, { priority: 'background' }).catch(() => undefined);
    const next = api.getSession();
    await vi.advanceTimersByTimeAsync(MAX_SERVER_WAIT_MS);
    await next;
    expect(f.requests).toHaveLength(2);
    expect(Math.max(...delays)).toBeLessThanOrEqual(MAX_TIMER_MS);
    expect(Math.max(...delays)).toBeLessThanOrEqual(MAX_SERVER_WAIT_MS);
  });
});
