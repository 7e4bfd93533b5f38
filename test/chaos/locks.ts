// An in-process Web Locks manager (the subset of `navigator.locks.request` the
// engine's leader election uses; passed as the `locks` option), so two engines in
// one Node process behave like two tabs of one origin: one holds the leader lock,
// the other waits and takes over when the holder stops or "crashes" (a crashed
// tab's locks are released by the browser).

interface Waiter {
  callback: (lock: unknown) => Promise<void>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  signal?: AbortSignal;
}

/** Exclusive locks by name, granted in request order. */
export class InProcessLocks {
  private readonly held = new Set<string>();
  private readonly queues = new Map<string, Waiter[]>();

  request(name: string, options: { signal?: AbortSignal }, callback: (lock: unknown) => Promise<void>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { callback, resolve, reject, ...(options.signal ? { signal: options.signal } : {}) };
      if (options.signal?.aborted) {
        reject(new DOMException('The request was aborted.', 'AbortError'));
        return;
      }
      options.signal?.addEventListener('abort', () => {
        const q = this.queues.get(name);
        const i = q?.indexOf(waiter) ?? -1;
        if (q && i >= 0) {
          q.splice(i, 1);
          reject(new DOMException('The request was aborted.', 'AbortError'));
        }
      });
      const q = this.queues.get(name) ?? [];
      q.push(waiter);
      this.queues.set(name, q);
      this.grant(name);
    });
  }

  private grant(name: string): void {
    if (this.held.has(name)) return;
    const next = this.queues.get(name)?.shift();
    if (!next) return;
    this.held.add(name);
    const lock = { name, mode: 'exclusive' };
    void Promise.resolve()
      .then(() => next.callback(lock))
      .then(next.resolve, next.reject)
      .finally(() => {
        this.held.delete(name);
        this.grant(name);
      });
  }
}
