// Shared setup of the content tests: a counting/offline-able fetch, a fresh
// fake-indexeddb per test, and a client + content database bound to a simulator.
import { testStore, type TestStore } from '../helpers/storage.js';
import { createMailboxApi } from '../../src/api/index.js';
import type { MailboxApi } from '../../src/api/index.js';
import { ContentDb } from '../../src/store/contentDb.js';
import type { Simulator } from '../../src/sim/index.js';

/** One request seen by {@link NetLog}. */
export interface LoggedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  /** The request body when it was a string (JSON calls). */
  body?: string;
  status: number | 'network_error';
}

/**
 * A fetch wrapper that records every request (with the status it got) and can go
 * "offline" (every call rejects like a dead network).
 */
export class NetLog {
  readonly requests: LoggedRequest[] = [];
  online = true;
  /** Optional per-request hook: return a Response to answer instead of the network. */
  intercept: ((url: string, init: RequestInit | undefined, real: typeof fetch) => Promise<Response> | undefined) | undefined;

  readonly fetch: typeof fetch = async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.toString() : input.url;
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((v, k) => {
      headers[k] = v;
    });
    const entry: LoggedRequest = { method: init?.method ?? 'GET', url, headers, status: 'network_error' };
    if (typeof init?.body === 'string') entry.body = init.body;
    this.requests.push(entry);
    if (!this.online) throw new TypeError('fetch failed (offline)');
    const answered = this.intercept?.(url, init, globalThis.fetch);
    const res = await (answered ?? globalThis.fetch(input, init));
    entry.status = res.status;
    return res;
  };

  /** Requests whose path (after the API base) matches. */
  matching(method: string, pathRe: RegExp): LoggedRequest[] {
    return this.requests.filter((r) => r.method === method && pathRe.test(new URL(r.url).pathname));
  }

  clear(): void {
    this.requests.length = 0;
  }
}

/** A client for `sim` over `net`, with quick retries so offline tests stay fast. */
export function apiFor(sim: Simulator, net: NetLog, retry: { attempts?: number } = {}): MailboxApi {
  return createMailboxApi({
    apiKey: sim.apiKey,
    baseUrl: sim.url,
    fetch: net.fetch,
    retry: { attempts: retry.attempts ?? 3, baseDelayMs: 1, maxDelayMs: 5 },
  });
}

/** A content database on its own fake IndexedDB (pass the same store to "reload"). */
export function contentDb(store: TestStore = testStore(), name = 'content-test'): { db: ContentDb; store: TestStore } {
  return { db: new ContentDb(name, store.options), store };
}

/** A manual clock. */
export function manualClock(start = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}
