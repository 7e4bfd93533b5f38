// A scripted fetch for unit tests: records every request and answers from a list of
// responders (the last one repeats). Time is whatever clock the test installed.
import { mulberry32 } from '../../src/sim/random.js';

export interface RecordedRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body: unknown;
  at: number;
  signal: AbortSignal | undefined;
}

export type Responder = (req: RecordedRequest) => Response | Promise<Response>;

export interface FakeFetch {
  fetch: typeof fetch;
  requests: RecordedRequest[];
  /** Replaces the script. */
  script(...responders: Responder[]): void;
}

export function fakeFetch(...initial: Responder[]): FakeFetch {
  let responders = initial;
  const requests: RecordedRequest[] = [];
  const fetchImpl = (async (input: string | URL | Request, init?: RequestInit) => {
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((v, k) => (headers[k] = v));
    const req: RecordedRequest = {
      method: init?.method ?? 'GET',
      url: new URL(String(input)),
      headers,
      body: init?.body,
      at: Date.now(),
      signal: init?.signal ?? undefined,
    };
    requests.push(req);
    if (req.signal?.aborted) throw new DOMException('aborted', 'AbortError');
    const responder = responders[Math.min(requests.length - 1, responders.length - 1)];
    if (!responder) throw new Error('fakeFetch: no responder scripted');
    return responder(req);
  }) as typeof fetch;
  return {
    fetch: fetchImpl,
    requests,
    script: (...r) => {
      responders = r;
      requests.length = 0;
    },
  };
}

/** Answers `body` as JSON (a fresh Response per request). */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Responder {
  return () => new Response(status === 304 ? null : JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

/** Answers an `ok: true` envelope. */
export function ok(data: unknown, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): Responder {
  return json(200, { ok: true, data, meta: { request_id: 'req_ok' }, ...extra }, headers);
}

/** Answers an `ok: false` envelope. */
export function fail(status: number, code: string, retryable: boolean, headers: Record<string, string> = {}): Responder {
  return json(status, { ok: false, error: { code, message: `${code}!`, retryable }, meta: { request_id: `req_${status}` } }, headers);
}

/** A fetch that never answers until its signal aborts (for timeout/abort tests). */
export function hang(req: RecordedRequest): Promise<Response> {
  return new Promise((_resolve, reject) => {
    req.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')), { once: true });
  });
}

/** Deterministic PRNG (mulberry32) for jitter; print the seed on failure. */
export const seeded: (seed: number) => () => number = mulberry32;
