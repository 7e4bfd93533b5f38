// Leader election without Web Locks: a lease row in the shared IndexedDB.
//
// Tabs of one origin share the replica database, and IndexedDB serialises read-write
// transactions on a store, so "read the lease, take it if free or expired, write it"
// in one transaction is an atomic compare-and-set. The holder renews the lease every
// third of its lifetime; a tab that closes releases it, and one that crashes lets it
// expire, after which a waiting tab takes over. Used when `navigator.locks` is absent
// (old browsers), or on request with `leader: 'lease'`.
import type { MailboxDb } from '../store/db.js';
import type { EngineClock } from './context.js';
import type { LeaderElection } from './leader.js';

let electionCount = 0;

/** `syncState` key of the lease row. */
export const LEASE_KEY = 'leader-lease';

/** The lease row: who leads, and until when (epoch ms) unless renewed. */
export interface Lease {
  holder: string;
  expires: number;
}

export interface LeaseOptions {
  /** How long a lease lasts without renewal (default 6 s): the takeover delay after a crash. */
  ttlMs?: number;
}

/**
 * Competes for the lease of `db`. Resolves `acquired` when this engine holds it; a
 * holder keeps it while it renews in time.
 */
export function leaseElection(db: MailboxDb, clock: EngineClock, options: LeaseOptions = {}): LeaderElection {
  const ttl = options.ttlMs ?? 6_000;
  // Unique per election: time and randomness differ across tabs; the counter keeps
  // elections of one process apart even with an injected, repeating random().
  const id = `${clock.now().toString(36)}-${Math.floor(clock.random() * 2 ** 32).toString(36)}-${(electionCount += 1)}`;
  let leader = false;
  let released = false;
  let timer: unknown;
  let resolveAcquired!: () => void;
  const acquired = new Promise<void>((resolve) => (resolveAcquired = resolve));

  /** Takes or renews the lease when it is ours, free or expired (one atomic transaction). */
  const attempt = async (): Promise<boolean> =>
    db.transaction('rw', db.syncState, async () => {
      const now = clock.now();
      const row = (await db.syncState.get(LEASE_KEY))?.value as Lease | undefined;
      if (row && row.holder !== id && row.expires > now) return false;
      await db.syncState.put({ key: LEASE_KEY, value: { holder: id, expires: now + ttl } satisfies Lease });
      return true;
    });

  let inFlight: Promise<unknown> = Promise.resolve();
  const tick = async () => {
    if (released) return;
    try {
      const attempted = attempt();
      inFlight = attempted.catch(() => undefined);
      const held = await attempted;
      if (released) return;
      if (held && !leader) {
        leader = true;
        resolveAcquired();
      }
    } catch {
      // A closed or failing database: try again on the next tick.
    }
    if (!released) timer = clock.setTimeout(() => void tick(), leader ? ttl / 3 : ttl / 2);
  };
  void tick();

  return {
    acquired,
    isLeader: () => leader && !released,
    release: async () => {
      if (released) return;
      released = true;
      clock.clearTimeout(timer);
      leader = false;
      // Hand over at once instead of letting the lease expire. An attempt still in
      // flight may be taking the lease right now, so wait for it and delete the row
      // whenever it is ours, leader or not.
      await inFlight;
      await db
        .transaction('rw', db.syncState, async () => {
          const row = (await db.syncState.get(LEASE_KEY))?.value as Lease | undefined;
          if (row?.holder === id) await db.syncState.delete(LEASE_KEY);
        })
        .catch(() => undefined);
    },
  };
}
