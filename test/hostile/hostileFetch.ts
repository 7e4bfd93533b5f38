// A fetch wrapper that lets a test corrupt chosen responses of a real server (the
// simulator) on their way to the engine: a hostile proxy, in process.

/** What a corruption sees of the real response. */
export interface RealResponse {
  status: number;
  headers: Headers;
  text: string;
}

/** A corrupted response: new body text and optionally a new status and extra headers. */
export interface Corrupted {
  status?: number;
  text: string;
  headers?: Record<string, string>;
}

interface Armed {
  method: string;
  /** Path relative to the API base, without the query (exact, or a RegExp). */
  path: string | RegExp;
  left: number;
  corrupt: (res: RealResponse, url: URL) => Corrupted;
}

interface Injection {
  left: number;
  /** Raw SSE text injected at the start of the next event stream. */
  chunk: string;
}

function requestUrl(input: Parameters<typeof fetch>[0]): URL {
  return new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
}

/** The hostile proxy. `fetch` goes to the engine. */
export class HostileFetch {
  /** Responses corrupted so far. */
  corrupted = 0;
  /** Event streams that received injected events. */
  injected = 0;
  private armed: Armed[] = [];
  private injections: Injection[] = [];

  constructor(
    private readonly baseUrl: string,
    private readonly base: typeof fetch = fetch,
  ) {}

  /** Corrupts the next `times` responses to `method path`. */
  corruptNext(method: string, path: string | RegExp, corrupt: (res: RealResponse, url: URL) => Corrupted, times = 1): void {
    this.armed.push({ method: method.toUpperCase(), path, left: times, corrupt });
  }

  /** Injects raw SSE text at the start of the next `times` event streams. */
  injectEvents(chunk: string, times = 1): void {
    this.injections.push({ left: times, chunk });
  }

  /** Disarms everything. */
  heal(): void {
    this.armed = [];
    this.injections = [];
  }

  /** True while armed corruptions have not all fired. */
  pending(): boolean {
    return this.armed.some((a) => a.left > 0);
  }

  readonly fetch: typeof fetch = async (input, init) => {
    const url = requestUrl(input);
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    const path = url.pathname.slice(new URL(this.baseUrl).pathname.length);
    const res = await this.base(input, init);
    if (path === '/mailbox/events') {
      const inj = this.injections.find((i) => i.left > 0);
      if (!inj || !res.ok || !res.body) return res;
      inj.left -= 1;
      this.injected += 1;
      const original = res.body;
      const head = new TextEncoder().encode(inj.chunk);
      const body = new ReadableStream<Uint8Array>({
        async start(controller) {
          controller.enqueue(head);
          const reader = original.getReader();
          for (;;) {
            const { done, value } = await reader.read().catch(() => ({ done: true as const, value: undefined }));
            if (done) break;
            controller.enqueue(value);
          }
          controller.close();
        },
        cancel: (reason) => original.cancel(reason),
      });
      return new Response(body, { status: res.status, headers: res.headers });
    }
    const a = this.armed.find((x) => x.left > 0 && x.method === method && (typeof x.path === 'string' ? x.path === path : x.path.test(path)));
    if (!a) return res;
    a.left -= 1;
    this.corrupted += 1;
    const text = await res.text();
    const out = a.corrupt({ status: res.status, headers: res.headers, text }, url);
    const headers = new Headers(res.headers);
    headers.delete('content-length');
    headers.delete('content-encoding');
    headers.delete('etag');
    for (const [k, v] of Object.entries(out.headers ?? {})) headers.set(k, v);
    return new Response(out.text, { status: out.status ?? res.status, headers });
  };
}

/** Parses, edits and re-serialises a JSON envelope. */
export function editJson(edit: (body: Record<string, unknown>) => unknown): (res: RealResponse) => Corrupted {
  return (res) => {
    const body = JSON.parse(res.text) as Record<string, unknown>;
    const out = edit(body);
    return { text: JSON.stringify(out === undefined ? body : out) };
  };
}
