// The rate limiter: pure core (sliding log, server headers, 429 pause) and the
// priority-queue shell under fake timers, plus the client keeping under budget.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMailboxApi } from '../../src/api/index.js';
import { RateLimiter, createRateLimitState, observeRateLimitHeaders, pauseUntil, recordSend, waitTime, type Priority } from '../../src/api/rateLimiter.js';
import { systemClock } from '../../src/api/retry.js';
import { fakeFetch, fail, json, seeded } from './fakeFetch.js';

const T0 = Date.parse('2026-03-19T10:30:00Z');
const h = (init: Record<string, string>) => new Headers(init);

/** Max number of sends inside any window of `windowMs` (sorted input). */
function maxInWindow(times: number[], windowMs: number): number {
  let max = 0;
  let lo = 0;
  for (let hi = 0; hi < times.length; hi++) {
    while ((times[hi] ?? 0) - (times[lo] ?? 0) >= windowMs) lo++;
    max = Math.max(max, hi - lo + 1);
  }
  return max;
}

describe('pure core', () => {
  it('allows `limit` sends per sliding window, then waits for the oldest to leave', () => {
    let s = createRateLimitState(3);
    expect(waitTime(s, T0)).toBe(0);
    s = recordSend(s, T0);
    s = recordSend(s, T0 + 10_000);
    s = recordSend(s, T0 + 20_000);
    expect(waitTime(s, T0 + 30_000)).toBe(30_000);
    expect(waitTime(s, T0 + 60_000)).toBe(0);
    s = recordSend(s, T0 + 60_000);
    expect(waitTime(s, T0 + 60_000)).toBe(10_000);
    expect(s.sent).toEqual([T0 + 10_000, T0 + 20_000, T0 + 60_000]);
  });

  it('X-RateLimit-Limit lowers (never raises) the budget', () => {
    let s = createRateLimitState(100);
    s = observeRateLimitHeaders(s, h({ 'x-ratelimit-limit': '2' }), T0);
    expect(s.limit).toBe(2);
    s = observeRateLimitHeaders(s, h({ 'x-ratelimit-limit': '5000' }), T0);
    expect(s.limit).toBe(100);
  });

  it('X-RateLimit-Remaining 0 waits until X-RateLimit-Reset, then the server window is forgotten', () => {
    let s = createRateLimitState(100);
    s = observeRateLimitHeaders(s, h({ 'x-ratelimit-limit': '100', 'x-ratelimit-remaining': '1', 'x-ratelimit-reset': String(T0 / 1000 + 40) }), T0);
    expect(waitTime(s, T0)).toBe(0);
    s = recordSend(s, T0);
    expect(s.serverRemaining).toBe(0);
    expect(waitTime(s, T0 + 1000)).toBe(39_000);
    expect(waitTime(s, T0 + 40_000)).toBe(0);
    s = recordSend(s, T0 + 40_000);
    expect(s.serverRemaining).toBeUndefined();
  });

  it('subtracts requests still in flight from the server remaining count', () => {
    const s = observeRateLimitHeaders(createRateLimitState(100), h({ 'x-ratelimit-remaining': '3', 'x-ratelimit-reset': String(T0 / 1000 + 10) }), T0, 3);
    expect(s.serverRemaining).toBe(0);
    expect(waitTime(s, T0)).toBe(10_000);
  });

  it('pauseUntil holds sends and never shortens an existing pause', () => {
    let s = pauseUntil(createRateLimitState(10), T0 + 5000, T0);
    s = pauseUntil(s, T0 + 1000, T0);
    expect(waitTime(s, T0)).toBe(5000);
  });

  it('rejects a nonsensical budget', () => {
    expect(() => createRateLimitState(0)).toThrow(RangeError);
  });
});

describe('RateLimiter (shell)', () => {
  beforeEach(() => vi.useFakeTimers({ now: T0 }));
  afterEach(() => vi.useRealTimers());

  it('serves queued user requests before queued background ones, FIFO within a priority', async () => {
    const limiter = new RateLimiter({ requestsPerMinute: 1, clock: systemClock() });
    const order: string[] = [];
    const take = (name: string, p: Priority) => limiter.acquire(p).then((release) => (order.push(name), release()));
    const all = [take('bg1', 'background'), take('bg2', 'background'), take('bg3', 'background'), take('u1', 'user'), take('u2', 'user')];
    await vi.advanceTimersByTimeAsync(0);
    expect(order).toEqual(['bg1']);
    expect(limiter.queued).toEqual({ user: 2, background: 2 });
    await vi.advanceTimersByTimeAsync(4 * 60_000);
    await Promise.all(all);
    expect(order).toEqual(['bg1', 'u1', 'u2', 'bg2', 'bg3']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it.each([1, 2, 3, 4, 5])('never exceeds the budget under a random schedule (seed %i)', async (seed) => {
    const random = seeded(seed);
    const limit = 7;
    const limiter = new RateLimiter({ requestsPerMinute: limit, clock: systemClock() });
    const grants: Array<{ at: number; p: Priority; queuedUser: number }> = [];
    const pending: Promise<void>[] = [];
    for (let i = 0; i < 40; i++) {
      await vi.advanceTimersByTimeAsync(Math.floor(random() * 9000));
      const p: Priority = random() < 0.4 ? 'user' : 'background';
      pending.push(
        limiter.acquire(p).then((release) => {
          grants.push({ at: Date.now(), p, queuedUser: limiter.queued.user });
          release();
        }),
      );
    }
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    await Promise.all(pending);
    expect(grants, `seed ${seed}`).toHaveLength(40);
    expect(maxInWindow(grants.map((g) => g.at), 60_000), `seed ${seed}`).toBeLessThanOrEqual(limit);
    // A background grant never happens while a user request is waiting.
    expect(grants.filter((g) => g.p === 'background' && g.queuedUser > 0), `seed ${seed}`).toEqual([]);
  });

  it('dispose() rejects waiters and clears the timer', async () => {
    const limiter = new RateLimiter({ requestsPerMinute: 1, clock: systemClock() });
    (await limiter.acquire())();
    const p = limiter.acquire('background').catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(0);
    limiter.dispose(new Error('gone'));
    expect(await p).toEqual(new Error('gone'));
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('the client under a budget', () => {
  beforeEach(() => vi.useFakeTimers({ now: T0 }));
  afterEach(() => vi.useRealTimers());

  it('sends at most requestsPerMinute in any minute and user calls overtake background ones', async () => {
    const f = fakeFetch(json(200, { ok: true, data: {}, meta: { request_id: 'r' } }));
    const api = createMailboxApi({ apiKey: 'k', baseUrl: 'http://x/api/v1', fetch: f.fetch, rateLimit: { requestsPerMinute: 5 } });
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < 12; i++) calls.push(api.getFolder({ folder_id: `bg${i}` }, { priority: 'background' }));
    await vi.advanceTimersByTimeAsync(1000);
    calls.push(api.getFolder({ folder_id: 'user' }));
    await vi.advanceTimersByTimeAsync(5 * 60_000);
    await Promise.all(calls);
    expect(f.requests).toHaveLength(13);
    expect(maxInWindow(f.requests.map((r) => r.at), 60_000)).toBeLessThanOrEqual(5);
    // The user call was queued behind 7 background calls and went first.
    expect(f.requests[5]?.url.pathname).toBe('/api/v1/mailbox/folders/user');
  });

  it('follows the server: X-RateLimit-Remaining 0 holds the next call until Reset', async () => {
    const reset = String(T0 / 1000 + 30);
    const f = fakeFetch(json(200, { ok: true, data: {}, meta: { request_id: 'r' } }, { 'x-ratelimit-limit': '1800', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset }));
    const api = createMailboxApi({ apiKey: 'k', baseUrl: 'http://x/api/v1', fetch: f.fetch });
    await api.getSession();
    const next = api.getSession();
    await vi.advanceTimersByTimeAsync(29_999);
    expect(f.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    await next;
    expect(f.requests).toHaveLength(2);
  });

  it("a 429's Retry-After holds every queued call, not just the one retried", async () => {
    const f = fakeFetch(fail(429, 'rate_limit_exceeded', true, { 'retry-after': '10' }), json(200, { ok: true, data: {}, meta: { request_id: 'r' } }));
    const api = createMailboxApi({ apiKey: 'k', baseUrl: 'http://x/api/v1', fetch: f.fetch, random: () => 0 });
    const first = api.getSession();
    await vi.advanceTimersByTimeAsync(0);
    const second = api.getMe();
    await vi.advanceTimersByTimeAsync(9_999);
    expect(f.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    await Promise.all([first, second]);
    expect(f.requests).toHaveLength(3);
    expect(f.requests[1]!.at - f.requests[0]!.at).toBe(10_000);
  });
});
