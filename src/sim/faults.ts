// Injected faults (control.failNext, dropNextResponses, setLatency): the world's
// network and servers misbehaving on cue, for retry and chaos tests.
import { SimError, codeForStatus } from './errors.js';

/** `path` relative to the API base; `{name}` segments match any one segment. */
function matcher(path: string | undefined): (p: string) => boolean {
  if (path === undefined) return () => true;
  const re = new RegExp('^' + path.split(/(\{[^}]+\})/).map((s) => (/^\{[^}]+\}$/.test(s) ? '[^/]+' : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('') + '$');
  return (p) => re.test(p);
}

interface Failure {
  left: number;
  status: number;
  matches: (p: string) => boolean;
  retryAfterSeconds?: number;
}

export class Faults {
  latencyMs = 0;
  private failures: Failure[] = [];
  private drops: Array<{ left: number; matches: (p: string) => boolean }> = [];
  private readonly timers = new Set<NodeJS.Timeout>();

  failNext(o: { count: number; status: number; path?: string; retryAfterSeconds?: number }): void {
    if (o.count <= 0) {
      this.failures = [];
      return;
    }
    const f: Failure = { left: o.count, status: o.status, matches: matcher(o.path) };
    if (o.retryAfterSeconds !== undefined) f.retryAfterSeconds = o.retryAfterSeconds;
    this.failures.push(f);
  }

  dropNextResponses(o: { count: number; path?: string }): void {
    if (o.count <= 0) {
      this.drops = [];
      return;
    }
    this.drops.push({ left: o.count, matches: matcher(o.path) });
  }

  /** The error to answer instead of running the request, if one is armed for `path`. */
  takeFailure(path: string): SimError | undefined {
    const f = this.failures.find((x) => x.left > 0 && x.matches(path));
    if (!f) return undefined;
    f.left -= 1;
    this.failures = this.failures.filter((x) => x.left > 0);
    const code = codeForStatus(f.status);
    return new SimError(f.status, code, `Injected failure (${f.status}).`, f.retryAfterSeconds !== undefined ? { retryAfterSeconds: f.retryAfterSeconds } : {});
  }

  /** True when the response to this (already applied) request must be dropped. */
  takeDrop(path: string): boolean {
    const d = this.drops.find((x) => x.left > 0 && x.matches(path));
    if (!d) return false;
    d.left -= 1;
    this.drops = this.drops.filter((x) => x.left > 0);
    return true;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }

  clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
