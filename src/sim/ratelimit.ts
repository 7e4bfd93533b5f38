// Per-key request budget (docs/introduction.md "Rate limiting": 1800 requests per
// minute, X-RateLimit-* on every response, 429 rate_limit_exceeded + Retry-After).

export interface RateDecision {
  allowed: boolean;
  headers: Record<string, string>;
  retryAfterSeconds?: number;
}

/** Fixed one-minute windows per key; `limit` 0 or Infinity disables limiting. */
export class RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private limit: number,
    private readonly now: () => number,
  ) {}

  setLimit(limit: number): void {
    this.limit = limit;
    this.windows.clear();
  }

  take(key: string): RateDecision {
    const enabled = Number.isFinite(this.limit) && this.limit > 0;
    const now = this.now();
    let w = this.windows.get(key);
    if (!w || now - w.start >= 60_000) {
      w = { start: now, count: 0 };
      this.windows.set(key, w);
    }
    const reset = Math.ceil((w.start + 60_000) / 1000);
    const limit = enabled ? this.limit : 1_000_000;
    if (enabled && w.count >= this.limit) {
      const retryAfterSeconds = Math.max(1, Math.ceil((w.start + 60_000 - now) / 1000));
      return {
        allowed: false,
        retryAfterSeconds,
        headers: { 'X-RateLimit-Limit': String(limit), 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': String(reset) },
      };
    }
    w.count += 1;
    return {
      allowed: true,
      headers: { 'X-RateLimit-Limit': String(limit), 'X-RateLimit-Remaining': String(Math.max(0, limit - w.count)), 'X-RateLimit-Reset': String(reset) },
    };
  }
}
