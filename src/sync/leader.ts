// One network leader per mailbox across tabs (DESIGN.md invariant 7).
//
// Browsers: the Web Locks API (`navigator.locks.request`) — the lock is held for the
// leader's lifetime and passes to a waiting tab when the leader's tab closes or
// crashes (the browser releases locks of a dead context). Browsers without Web Locks
// fall back to a lease row in the shared IndexedDB (lease.ts). Node has no Web Locks
// (unless injected), so there too the default is the lease: several engines on one
// database (one process, or processes sharing a persistent IndexedDB) elect one
// leader, never two (invariant 7). `leader: 'always'` opts out for an engine known to
// be alone on its database.

/** Handle of a leadership claim. */
export interface LeaderElection {
  /** Resolves when this engine becomes the leader (never, for a follower). */
  readonly acquired: Promise<void>;
  /** True once acquired and until released. */
  isLeader(): boolean;
  /**
   * Gives leadership up (or stops waiting for it). Settles once the hand-over is
   * durable: a lease row is deleted, so a waiting process need not wait out its expiry.
   */
  release(): Promise<void>;
}

/** How an engine decides whether it leads. */
export type LeaderMode =
  /** Web Locks when available; else the IndexedDB lease (browsers without Web Locks, Node, and SQLite files shared by processes). */
  | 'auto'
  /** The IndexedDB lease (lease.ts), even where Web Locks exist. */
  | 'lease'
  /** Always lead (an engine known to be alone on its database). */
  | 'always'
  /** Never lead: read the database, never touch the network. */
  | 'follower';

/** The part of the Web Locks `LockManager` the election uses (injectable for tests). */
export interface LockManagerLike {
  /** Holds the named lock while `callback`'s promise is pending (`navigator.locks.request`). */
  request(name: string, options: { signal?: AbortSignal }, callback: (lock: unknown) => Promise<void>): Promise<unknown>;
}

function lockManager(): LockManagerLike | undefined {
  const nav = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator;
  return nav?.locks && typeof nav.locks.request === 'function' ? nav.locks : undefined;
}

/**
 * Claims leadership for `name` (the database name). `lease` creates the IndexedDB
 * lease election (the fallback where Web Locks are missing).
 */
export function electLeader(
  name: string,
  mode: LeaderMode = 'auto',
  locks: LockManagerLike | undefined = lockManager(),
  lease?: () => LeaderElection,
): LeaderElection {
  let leader = false;
  let released = false;
  if (mode === 'follower') {
    return { acquired: new Promise<void>(() => undefined), isLeader: () => false, release: async () => undefined };
  }
  if (lease && (mode === 'lease' || (mode === 'auto' && !locks))) return lease();
  if (mode === 'always' || mode === 'lease' || !locks) {
    leader = true;
    return {
      acquired: Promise.resolve(),
      isLeader: () => leader && !released,
      release: async () => {
        released = true;
        leader = false;
      },
    };
  }
  const abort = new AbortController();
  let releaseLock: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (releaseLock = resolve));
  const acquired = new Promise<void>((resolve) => {
    locks
      .request(`sendmux-sync:leader:${name}`, { signal: abort.signal }, async () => {
        if (released) return;
        leader = true;
        resolve();
        await held;
      })
      .catch(() => undefined); // AbortError when released while waiting.
  });
  return {
    acquired,
    isLeader: () => leader && !released,
    release: async () => {
      released = true;
      leader = false;
      abort.abort();
      releaseLock();
    },
  };
}
