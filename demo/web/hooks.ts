// The demo's own hooks, composed from the package's (src/react): what the status
// bar shows, and the platform's online signal the engine does not report.
import { useSyncExternalStore } from 'react';
import { useMailboxObservable, useMailboxSync, useStatus } from '../../src/react/index.js';
import type { OutboxSend } from '../../src/index.js';
import type { EngineStatus } from './connection.js';

const subscribeOnline = (onChange: () => void) => {
  window.addEventListener('online', onChange);
  window.addEventListener('offline', onChange);
  return () => {
    window.removeEventListener('online', onChange);
    window.removeEventListener('offline', onChange);
  };
};

/** The platform's online signal (navigator.onLine), live. */
export function useOnline(): boolean {
  return useSyncExternalStore(subscribeOnline, () => navigator.onLine, () => true);
}

/** Sends not yet delivered (pending, held by their undo delay, sending or failed), oldest first. */
export function useOutbox(): OutboxSend[] | undefined {
  return useMailboxObservable(useMailboxSync(), ['outbox'], (sync) => sync.outbox$);
}

/**
 * What the status bar shows: the engine's status plus the platform's online signal
 * and the number of sends in the outbox; null before the engine's first status.
 */
export function useEngineStatus(): EngineStatus | null {
  const s = useStatus();
  const online = useOnline();
  const sends = useOutbox();
  if (!s) return null;
  return {
    // The engine pauses while the platform reports offline but keeps its last
    // phase until a request fails; the status bar shows the platform's signal too.
    phase: !online && s.phase === 'live' ? 'offline' : s.phase,
    push: s.push,
    error: s.error ? { code: s.error.code, message: s.error.message, retryable: s.error.retryable } : null,
    paused: s.paused,
    online,
    progress: s.progress,
    lastSyncedAt: s.lastSyncedAt,
    pendingMutations: s.pendingMutations,
    outbox: sends?.length ?? 0,
    role: s.phase === 'idle' ? null : s.leader ? 'leader' : 'follower',
  };
}
