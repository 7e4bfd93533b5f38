// Prefetch policy: which bodies to fetch before the user asks, so reading works
// offline for what matters — the newest unread messages of the inbox, and every
// message of a thread the user opened. Driven by live queries over the replica
// (src/store/db.ts, read only), run at background priority so user requests overtake
// it in the client's rate limiter, and only by the network leader (invariant 7).
import { live } from '../store/live.js';
import { BehaviorSubject, Subscription, combineLatest } from 'rxjs';
import type { Observable } from 'rxjs';
import type { MailboxDb } from '../store/db.js';
import { FOLDER_INDEX } from '../store/memberships.js';
import { ContentError } from './errors.js';
import type { ContentParams } from './params.js';
import type { ContentService } from './service.js';

/** What to prefetch. */
export interface PrefetchPolicy {
  /** Keep the bodies of the newest `limit` unread messages of a folder (default folder: role 'inbox'). */
  newestUnread?: { limit: number; folderId?: string };
  /** Prefetch every message of a thread passed to `openThread` (default true). */
  openThreads?: boolean;
  /** Content options of prefetched bodies: use the reading pane's, so its reads hit the cache. */
  params?: ContentParams;
}

/** Options of {@link createPrefetcher}. */
export interface PrefetcherOptions {
  content: Pick<ContentService, 'prefetch' | 'pin' | 'unpin'>;
  /** The replica (read only). */
  db: MailboxDb;
  policy: PrefetchPolicy;
  /** Leadership (current value first); only the leader prefetches. Default: leader. */
  leader$?: Observable<boolean>;
  /** Connectivity (current value first). Default: online. */
  online$?: Observable<boolean>;
  onError?: (error: ContentError) => void;
}

/** A running prefetch policy. */
export interface Prefetcher {
  /**
   * A thread is open: its messages' bodies are prefetched and pinned (a visible view)
   * until the returned function is called.
   */
  openThread(threadId: string): () => void;
  /** Resolves when the prefetches started so far have finished. */
  idle(): Promise<void>;
  stop(): void;
}

/** Ids of the newest unread messages of `folderId` (or the inbox), newest first. */
export async function newestUnreadIds(db: MailboxDb, limit: number, folderId?: string): Promise<string[]> {
  const fid = folderId ?? (await db.folders.filter((f) => f.role === 'inbox').first())?.id;
  if (fid === undefined || limit <= 0) return [];
  const rows = await db.folderIndex
    .where(FOLDER_INDEX.unread)
    .between([fid, 1, -Infinity], [fid, 1, Infinity], true, true)
    .reverse()
    .limit(limit)
    .toArray();
  return rows.map((r) => r.id);
}

/** Starts the policy. */
export function createPrefetcher(options: PrefetcherOptions): Prefetcher {
  const { content, db, policy } = options;
  const params = policy.params ?? {};
  const subs = new Subscription();
  const gate$ = combineLatest([options.leader$ ?? new BehaviorSubject(true), options.online$ ?? new BehaviorSubject(true)]);
  let allowed = false;
  let stopped = false;
  const wanted = new Map<string, string[]>(); // source → ids
  const inflight = new Set<Promise<unknown>>();
  let running = false;
  let rerun = false;
  const closers = new Set<() => void>();

  const run = (): void => {
    if (!allowed || stopped) return;
    if (running) {
      rerun = true;
      return;
    }
    running = true;
    const ids = [...new Set([...wanted.values()].flat())];
    const p = (ids.length > 0 ? content.prefetch(ids, { ...params, priority: 'background' }) : Promise.resolve(0))
      .catch((error: unknown) => options.onError?.(error instanceof ContentError ? error : new ContentError('fetch_failed', String(error), { cause: error })))
      .finally(() => {
        inflight.delete(p);
        running = false;
        if (rerun) {
          rerun = false;
          run();
        }
      });
    inflight.add(p);
  };

  subs.add(
    gate$.subscribe(([leader, online]) => {
      allowed = leader && online;
      run();
    }),
  );

  if (policy.newestUnread) {
    const { limit, folderId } = policy.newestUnread;
    subs.add(
      live(() => newestUnreadIds(db, limit, folderId)).subscribe({
        next: (ids) => {
          wanted.set('unread', ids);
          run();
        },
        error: (error: unknown) => options.onError?.(new ContentError('fetch_failed', `prefetch query failed: ${String(error)}`, { cause: error })),
      }),
    );
  }

  return {
    openThread(threadId) {
      if (policy.openThreads === false || stopped) return () => undefined;
      const source = `thread:${threadId}`;
      let pinned: string[] = [];
      const sub = live(() => db.messages.where('thread_id').equals(threadId).primaryKeys()).subscribe({
        next: (ids) => {
          content.pin(ids);
          content.unpin(pinned);
          pinned = ids;
          wanted.set(source, ids);
          run();
        },
        error: (error: unknown) => options.onError?.(new ContentError('fetch_failed', `thread prefetch query failed: ${String(error)}`, { cause: error })),
      });
      subs.add(sub);
      let closed = false;
      const close = () => {
        if (closed) return;
        closed = true;
        closers.delete(close);
        sub.unsubscribe();
        content.unpin(pinned);
        pinned = [];
        wanted.delete(source);
      };
      closers.add(close);
      return close;
    },
    async idle() {
      while (inflight.size > 0) await Promise.all([...inflight]);
    },
    stop() {
      stopped = true;
      for (const close of [...closers]) close();
      subs.unsubscribe();
    },
  };
}
