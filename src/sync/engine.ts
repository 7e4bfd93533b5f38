// The sync engine of one mailbox (DESIGN.md "Sync loop"): opens the replica, elects
// a network leader, bootstraps or resumes, catches up, then stays live with SSE plus
// adaptive polling. Followers only read the replica. Background failures become
// status and errors$ entries; nothing here throws into the void.
import { BehaviorSubject, ReplaySubject, Subject, type Observable } from 'rxjs';
import { live, writeSyncValueDetached } from '../store/live.js';
import { SendmuxApiError, createMailboxApi, type MailboxApi, type MailboxApiOptions, type Session } from '../api/index.js';
import { getSyncValue, getTokens, setSyncValue } from '../store/apply.js';
import { ACTIVE_OUTBOX_STATUSES, MailboxDb, defaultDbName } from '../store/db.js';
import type { ReplicaStorage } from '../store/storage.js';
import { readSnapshot, type ReplicaSnapshot } from '../store/snapshot.js';
import { readBootstrapState, runBootstrap } from './bootstrap.js';
import { pullChanges } from './changes.js';
import type { CoreWiring, EngineClock, EngineLimits, SyncContext } from './context.js';
import { SyncError, isAuthFailure, isNetworkFailure, isQuotaError, toSyncError } from './errors.js';
import { electLeader, type LeaderElection, type LeaderMode, type LockManagerLike } from './leader.js';
import { leaseElection } from './lease.js';
import { Poller, defaultEnvironment, nextPollDelay, type EnvironmentSignals, type PollOptions } from './poll.js';
import { startPush, type PushHandle, type PushIntakeOptions } from './push.js';
import { initialStatus, leaderStatusOf, reduceStatus, type LeaderStatus, type SyncAction, type SyncStatus } from './status.js';

/** Options of `createMailboxSync`. */
export interface MailboxSyncOptions {
  /** Mailbox API credential (`smx_mbx_…`). Never logged or persisted. */
  apiKey: string;
  /** API base URL (default: the real service). */
  baseUrl?: string;
  /** Mailbox to sync, for credentials granted several mailboxes. */
  mailboxId?: string;
  /**
   * Where the replica lives: `sqliteStorage({ path })` from `sendmux-sync/sqlite` (Node,
   * Electron main: a persistent file), or `indexedDBStorage(...)`. Default: the
   * global `indexedDB` (browsers), or the `indexedDB` option.
   */
  storage?: ReplicaStorage;
  /** IndexedDB factory (in Node, fake-indexeddb's `new IDBFactory()` keeps the replica in memory). */
  indexedDB?: IDBFactory;
  /** IDBKeyRange matching `indexedDB`. */
  IDBKeyRange?: typeof IDBKeyRange;
  /** Database name; default `sendmux-sync:<mailbox_id>` (the id is read from the session when not given). */
  dbName?: string;
  /** fetch implementation passed to the API client. */
  fetch?: typeof fetch;
  /** Clock (epoch ms). Default `Date.now`. */
  now?: () => number;
  /** Timers (polling, backoff). Default the globals. */
  setTimeout?: (fn: () => void, ms: number) => unknown;
  /** Cancels a timer of `setTimeout`. Default the global. */
  clearTimeout?: (handle: unknown) => void;
  /** Randomness in [0, 1) for jitter. Default `Math.random`. */
  random?: () => number;
  /** A ready API client (tests, custom transports); overrides apiKey/baseUrl/fetch. */
  api?: MailboxApi;
  /** Extra options for the API client created from apiKey/baseUrl. */
  apiOptions?: Partial<Omit<MailboxApiOptions, 'apiKey' | 'baseUrl' | 'mailboxId' | 'fetch'>>;
  /** Polling intervals and offline backoff. */
  poll?: PollOptions;
  /** Open the SSE stream (default true; false = poll only). */
  events?: boolean;
  /** Page size of list calls (clamped to the session's `list_limit_max`). */
  pageSize?: number;
  /**
   * Leader election across tabs and engines on one database (default 'auto': Web Locks
   * when available, else the lease in the database; on SQLite storage the lease unless
   * `locks` is given, since a process's Web Locks do not reach other processes).
   */
  leader?: LeaderMode;
  /** Web Locks implementation for the election (default `navigator.locks`). */
  locks?: LockManagerLike;
  /** Visibility/online signals (default: the browser's, or always-visible in Node). */
  environment?: EnvironmentSignals;
  /** Delay before reopening a failed event stream (ms). Default 60 000. */
  pushRetryMs?: number;
  /** Bounds of the event stream's intake (buffer, pull spacing, flood detection). */
  pushIntake?: PushIntakeOptions;
}

/** The sync engine's lifecycle and status (the read views are added by the composition root, src/engine.ts). */
export interface SyncCore {
  /**
   * Opens the replica and starts syncing. Resolves once the replica has caught up
   * with the server (followers: once the leader has completed a sync). Rejects when
   * the credential is rejected or the engine is stopped first; network failures do
   * not reject (the engine keeps retrying; see `status$`).
   */
  start(): Promise<void>;
  /** Phase, progress, last sync, lag, pending mutations; current value first. */
  readonly status$: Observable<SyncStatus>;
  /** Background failures (never thrown). */
  readonly errors$: Observable<SyncError>;
  /**
   * Pulls changes now; resolves when the replica has caught up (rejects with the
   * SyncError when that pull fails). After a 401 the network stays paused
   * (`status$.paused === 'unauthorized'`) until this is called: it tries again and,
   * when the key works, resumes the sync loop, the event stream and the outbox. On a
   * follower it resolves at once: the leader syncs, and the follower's views follow
   * the shared database.
   */
  syncNow(): Promise<void>;
  /** Stops syncing, completes every observable, closes the database. */
  stop(): Promise<void>;
  /** Stops, then deletes the local replica. */
  clear(): Promise<void>;
  /** Every record of every type, sorted by id (same shape as the simulator's). */
  snapshot(): Promise<ReplicaSnapshot>;
}

/** The engine's core plus what the layers above build on. */
export interface SyncCoreParts {
  sync: SyncCore;
  /** Internal: see {@link SyncContext}. Resolves once the database is open. */
  context: Promise<SyncContext>;
  /** The replica, once open (rejects when it cannot be opened). */
  db: Promise<MailboxDb>;
  /** Emits (and replays) once when the engine stops. */
  stopped$: Observable<void>;
}

const DEFAULT_LIMITS: EngineLimits = { listLimit: 100, changesLimit: 500, batchIds: 100 };

function limitsFrom(session: Session | undefined, pageSize: number | undefined): EngineLimits {
  const l = session?.limits;
  const listMax = l?.list_limit_max ?? DEFAULT_LIMITS.listLimit;
  return {
    listLimit: Math.max(1, Math.min(listMax, pageSize ?? listMax)),
    changesLimit: Math.max(1, l?.changes_limit_max ?? DEFAULT_LIMITS.changesLimit),
    batchIds: Math.max(1, Math.min(100, l?.batch_ids_max ?? DEFAULT_LIMITS.batchIds)),
  };
}

/** Session fields worth keeping locally (no credential in it). */
const SESSION_KEY = 'session';
/** The leader's published network state (see publishStatus). */
export const LEADER_STATUS_KEY = 'leaderStatus';

/**
 * Creates the engine's core (session, leadership, sync loop, push, status) and exposes
 * its internal context. The views, outbox, content and windows are composed on top
 * by src/engine.ts and src/index.ts; src/sync never imports src/reactive.
 */
export function createSyncCore(options: MailboxSyncOptions, wiring: CoreWiring = {}): SyncCoreParts {
  if (!options || (typeof options.apiKey !== 'string' && !options.api)) {
    throw new TypeError('createMailboxSync: options.apiKey (or options.api) is required');
  }
  if (!options.storage && !options.indexedDB && typeof indexedDB === 'undefined') {
    throw new TypeError(
      "createMailboxSync: no storage for the replica here (no global indexedDB). Pass storage: sqliteStorage({ path }) from 'sendmux-sync/sqlite' " +
        "for a persistent replica, or indexedDB and IDBKeyRange (for example from 'fake-indexeddb') for one in memory.",
    );
  }
  const clock: EngineClock = {
    now: options.now ?? (() => Date.now()),
    setTimeout: options.setTimeout ?? ((fn, ms) => setTimeout(fn, ms)),
    clearTimeout: options.clearTimeout ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>)),
    random: options.random ?? Math.random,
  };
  const api: MailboxApi =
    options.api ??
    createMailboxApi({
      ...options.apiOptions,
      apiKey: options.apiKey,
      ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
      ...(options.mailboxId ? { mailboxId: options.mailboxId } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      now: clock.now,
      setTimeout: clock.setTimeout,
      clearTimeout: clock.clearTimeout,
      random: clock.random,
      // Issue 19: a long server-imposed wait is reported, not silent.
      onServerWait: (wait) => {
        options.apiOptions?.onServerWait?.(wait);
        reportError(
          new SyncError('rate_limited', `${wait.operation}: the server asked to wait ${Math.round(wait.requestedMs / 1000)} s; waiting ${Math.round(wait.appliedMs / 1000)} s, then retrying`),
        );
      },
    });
  const env = options.environment ?? defaultEnvironment();
  const abort = new AbortController();
  // Replays the stop so views subscribed after stop() complete at once.
  const stop$ = new ReplaySubject<void>(1);
  const status = new BehaviorSubject<SyncStatus>(initialStatus);
  const errors = new Subject<SyncError>();
  const leader$ = new BehaviorSubject<boolean>(false);
  let session: Session | undefined;
  let savedSession: Session | undefined;
  let election: LeaderElection | undefined;
  let push: PushHandle | undefined;
  let poller: Poller | undefined;
  let pendingSub: { unsubscribe(): void } | undefined;
  let followSub: { unsubscribe(): void } | undefined;
  let offlineSub: (() => void) | undefined;
  let publishSub: { unsubscribe(): void } | undefined;
  let stopped = false;

  const dispatch = (action: SyncAction) => {
    if (stopped && action.type !== 'stopped') return;
    const next = reduceStatus(status.value, action);
    if (next !== status.value) status.next(next);
  };
  const reportError = (error: SyncError) => {
    if (!stopped) errors.next(error);
  };

  // --- database -------------------------------------------------------------------
  /**
   * Without a dbName the database is named after the session's mailbox id, so the
   * session must be read before anything opens. Network failures and server errors
   * are retried with the poller's backoff (status offline/error, errors$ told), as
   * start() documents; only a rejected credential or stop() ends it.
   */
  async function readSessionUntilReachable(): Promise<Session> {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await api.getSession(undefined, { signal: abort.signal })).data;
      } catch (raw) {
        if (stopped || abort.signal.aborted) throw new SyncError('stopped', 'the engine was stopped before it opened the replica', { cause: raw, retryable: false });
        const error = toSyncError('changes_failed', 'reading the session', raw);
        reportError(error);
        dispatch(error.code === 'offline' ? { type: 'offline', at: clock.now(), error } : { type: 'failed', at: clock.now(), error });
        // A refused credential, or a request the server will never answer differently.
        const permanent = raw instanceof SendmuxApiError && !raw.retryable && !isNetworkFailure(raw);
        if (isAuthFailure(raw) || permanent || !error.retryable) throw error;
        await abortableDelay(nextPollDelay({ failures: attempt, visible: env.isVisible() }, options.poll ?? {}, clock.random));
      }
    }
  }
  /** Waits `ms` on the injected clock; ends early (without error) on stop() or the platform's `online`. */
  function abortableDelay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const handle = clock.setTimeout(done, ms);
      const unsubscribe = env.subscribe((event) => event === 'online' && done());
      abort.signal.addEventListener('abort', done, { once: true });
      function done() {
        clock.clearTimeout(handle);
        unsubscribe();
        abort.signal.removeEventListener('abort', done);
        resolve();
      }
    });
  }

  const dbReady: Promise<MailboxDb> = (async () => {
    let name = options.dbName ?? (options.mailboxId ? defaultDbName(options.mailboxId) : undefined);
    if (!name) {
      session = await readSessionUntilReachable();
      name = defaultDbName(session.mailbox.id);
    }
    const db = new MailboxDb(name, {
      ...(options.storage ? { storage: options.storage } : {}),
      ...(options.indexedDB ? { indexedDB: options.indexedDB } : {}),
      ...(options.IDBKeyRange ? { IDBKeyRange: options.IDBKeyRange } : {}),
    });
    await db.open();
    return db;
  })();
  // Views and start() report a failed open; avoid an unhandled rejection meanwhile.
  dbReady.catch(() => undefined);

  // --- pulls (coalesced) -------------------------------------------------------------
  let running: Promise<void> | undefined;
  let dirty = false;
  let failures = 0;
  // One storage relief per failure streak (reset by a successful cycle).
  let relieved = false;
  let waiters: { resolve: () => void; reject: (e: SyncError) => void }[] = [];
  let firstSync: { resolve: () => void; reject: (e: unknown) => void } | undefined;
  // Settles after the first cycle, failed or not: syncNow() waits for this rather than
  // for start(), which stays pending while a failing first sync is retried (issue 19).
  let firstAttempt: (() => void) | undefined;
  const firstAttempted = new Promise<void>((resolve) => (firstAttempt = resolve));
  let firstSynced!: Promise<void>;
  let syncedOnce = false;
  const armFirstSync = () => {
    firstSynced = new Promise<void>((resolve, reject) => (firstSync = { resolve, reject }));
    firstSynced.catch(() => undefined);
  };
  armFirstSync();

  // --- a rejected credential pauses the network until syncNow() ----------------------
  // docs/errors.md: 401 authentication_required is not retryable. Nothing retries it
  // in the background (sync loop, event stream, outbox, sends all wait); syncNow()
  // tries again, and its pull resumes everything when the key works.
  let paused: SyncError | undefined;
  const paused$ = new BehaviorSubject<boolean>(false);
  function pauseForAuth(raw: unknown, step: string): SyncError {
    const error = raw instanceof SyncError && raw.code === 'unauthorized' ? raw : new SyncError('unauthorized', `${step}: the API key was rejected; syncing is paused until syncNow()`, { cause: raw, retryable: false });
    if (stopped || paused) return paused ?? error;
    paused = error;
    // A failed session read is retried from scratch next time.
    session = undefined;
    if (push) dispatch({ type: 'push', at: clock.now(), state: 'off' });
    push?.stop();
    push = undefined;
    reportError(error);
    dispatch({ type: 'paused', at: clock.now(), reason: 'unauthorized', error });
    paused$.next(true);
    // start() rejects with it; a later start() waits for the sync after syncNow().
    if (!syncedOnce) {
      firstSync?.reject(error);
      armFirstSync();
    }
    for (const w of waiters.splice(0)) w.reject(error);
    dirty = false;
    return error;
  }
  function resume(): void {
    if (!paused || stopped) return;
    paused = undefined;
    dispatch({ type: 'resumed', at: clock.now() });
    paused$.next(false);
  }

  const contextPromise: Promise<SyncContext> = dbReady.then((db) => {
    const ctx: SyncContext = {
      db,
      api,
      clock,
      stopped: abort.signal,
      limits: () => limitsFrom(session, options.pageSize),
      isLeader: () => election?.isLeader() ?? false,
      leader$: leader$.asObservable(),
      pullChanges: (reason = 'request') => requestPull(reason),
      messageState: async () => (await getTokens(db)).messages,
      dispatch,
      reportError,
      unauthorized: (error) => void pauseForAuth(error, 'a background request'),
      paused$: paused$.asObservable(),
      isPaused: () => paused !== undefined,
      ...(wiring.messageScope ? { messageScope: wiring.messageScope } : {}),
      ...(wiring.relieveStorage ? { relieveStorage: wiring.relieveStorage } : {}),
    };
    return ctx;
  });
  contextPromise.catch(() => undefined);

  async function cycle(ctx: SyncContext): Promise<void> {
    if (!session) {
      session = (await api.getSession(undefined, { priority: 'background', signal: abort.signal })).data;
    }
    const current = session;
    if (savedSession !== current) {
      // Once per session read, not per poll: idle engines write nothing.
      await ctx.db.transaction('rw', ctx.db.syncState, () => setSyncValue(ctx.db, SESSION_KEY, current));
      savedSession = current;
    }
    const boot = await readBootstrapState(ctx);
    const tokens = await getTokens(ctx.db);
    if (boot || tokens.messages === undefined) {
      dispatch({ type: 'bootstrap_started', at: clock.now() });
      await runBootstrap(ctx, current, (done, total) => dispatch({ type: 'bootstrap_progress', at: clock.now(), done, total }));
    }
    dispatch({ type: 'catchup_started', at: clock.now() });
    await pullChanges(ctx);
  }

  async function loop(): Promise<void> {
    const ctx = await contextPromise;
    while (dirty && !stopped && !paused) {
      dirty = false;
      const batch = waiters;
      waiters = [];
      try {
        await cycle(ctx);
        relieved = false;
        failures = 0;
        // A 401 elsewhere (the outbox) during this cycle keeps the pause until syncNow().
        if (!paused) dispatch({ type: 'synced', at: clock.now() });
        syncedOnce = true;
        firstSync?.resolve();
        for (const w of batch) w.resolve();
        // Back from a pause (or the first sync): the leader's stream runs again.
        ensurePush(ctx);
      } catch (raw) {
        if (stopped) {
          const e = new SyncError('stopped', 'the engine was stopped', { cause: raw, retryable: false });
          for (const w of batch) w.reject(e);
          break;
        }
        // Out of space: evict cached content (never the replica) and retry once at
        // once before giving up (issue 10: evict cached bodies before giving up).
        if (isQuotaError(raw) && ctx.relieveStorage && !relieved) {
          relieved = true;
          const freed = await ctx.relieveStorage().catch(() => 0);
          reportError(new SyncError('storage_failed', `sync: the storage quota is exhausted; evicted ${freed} bytes of cached content and retrying`, { cause: raw }));
          if (freed > 0) {
            waiters.unshift(...batch);
            dirty = true;
            continue;
          }
        }
        if (isAuthFailure(raw) || (raw instanceof SyncError && (raw.code === 'unauthorized' || isAuthFailure(raw.cause)))) {
          // Not a failure counted toward backoff: the network waits for syncNow().
          const error = pauseForAuth(raw, 'sync');
          for (const w of batch) w.reject(error);
          break;
        }
        failures += 1;
        const error = toSyncError('changes_failed', 'sync', raw);
        reportError(error);
        if (error.code === 'offline') dispatch({ type: 'offline', at: clock.now(), error });
        else dispatch({ type: 'failed', at: clock.now(), error });
        for (const w of batch) w.reject(error);
        firstAttempt?.();
      }
    }
    running = undefined;
    if (!stopped && !paused) poller?.schedule(failures);
  }

  function requestPull(_reason: string): Promise<void> {
    if (stopped) return Promise.reject(new SyncError('stopped', 'the engine is stopped', { retryable: false }));
    // Paused by a 401: only syncNow() (which resumes first) reaches the network.
    if (paused) return Promise.reject(paused);
    if (!(election?.isLeader() ?? false)) {
      return Promise.reject(new SyncError('stopped', 'only the leader pulls changes (this engine is a follower)', { retryable: false }));
    }
    return new Promise<void>((resolve, reject) => {
      waiters.push({ resolve, reject });
      dirty = true;
      running ??= loop();
    });
  }

  const fireAndForget = (reason: string) => {
    if (paused) return;
    if (reason === 'poll' && !env.isOnline()) {
      // The platform says there is no network: skip the request, stay offline,
      // and wait for the `online` signal (or the backoff) instead.
      const error = new SyncError('offline', 'the device is offline');
      dispatch({ type: 'offline', at: clock.now(), error });
      poller?.schedule(Math.max(1, failures));
      return;
    }
    // Failures are already on errors$/status$.
    requestPull(reason).catch(() => undefined);
  };

  // --- leadership -------------------------------------------------------------------
  /**
   * Publishes the leader's network state for follower tabs: on every change of
   * phase, push state or error, and when the last sync time moves by a second or
   * more (one tiny write per poll at most).
   */
  function publishStatus(ctx: SyncContext): void {
    let last: LeaderStatus | undefined;
    publishSub = status.subscribe((st) => {
      const next = leaderStatusOf(st);
      const same =
        last !== undefined &&
        last.phase === next.phase &&
        last.push === next.push &&
        last.error?.code === next.error?.code &&
        Math.abs((next.lastSyncedAt ?? 0) - (last.lastSyncedAt ?? 0)) < 1000;
      if (same || stopped) return;
      last = next;
      // dispatch() may run inside someone's transaction: write in a fresh one.
      writeSyncValueDetached(ctx.db, LEADER_STATUS_KEY, next).catch(() => undefined);
    });
  }

  async function becomeLeader(ctx: SyncContext): Promise<void> {
    if (stopped) return;
    followSub?.unsubscribe();
    leader$.next(true);
    dispatch({ type: 'leader', at: clock.now(), leader: true });
    poller = new Poller(clock, options.poll ?? {}, env, fireAndForget);
    // The platform knows before a request fails: show offline at once ('online'
    // triggers a pull through the poller, which brings the phase back to live).
    offlineSub ??= env.subscribe((event) => {
      if (event === 'offline') dispatch({ type: 'offline', at: clock.now(), error: new SyncError('offline', 'the device is offline') });
    });
    publishStatus(ctx);
    fireAndForget('start');
    await firstSynced.catch(() => undefined);
    wantPush = true;
    ensurePush(ctx);
  }

  /** Opens the leader's event stream after the first sync, unless paused, gated or off. */
  let wantPush = false;
  let pushGated = false;
  function ensurePush(ctx: SyncContext): void {
    if (!wantPush || stopped || paused || push || pushGated || options.events === false) return;
    if (session?.gated.events) {
      pushGated = true;
      dispatch({ type: 'push', at: clock.now(), state: 'unavailable' });
      return;
    }
    push = startPush(ctx, {
      requestPull: (reason) => poller?.trigger(reason),
      ...(options.pushRetryMs ? { retryMs: options.pushRetryMs } : {}),
      ...(options.pushIntake ? { intake: options.pushIntake } : {}),
    });
  }

  function follow(ctx: SyncContext): void {
    // A follower is "synced" when the leader has committed a complete bootstrap; from
    // then on it mirrors the status the leader publishes.
    followSub = live(async () => ({
      boot: await getSyncValue(ctx.db, 'bootstrap'),
      tokens: await getTokens(ctx.db),
      leaderStatus: await getSyncValue<LeaderStatus>(ctx.db, LEADER_STATUS_KEY),
    })).subscribe({
      next: ({ boot, tokens, leaderStatus }) => {
        if (boot || tokens.messages === undefined) return;
        if (leaderStatus) dispatch({ type: 'mirror', at: clock.now(), leaderStatus });
        else dispatch({ type: 'synced', at: clock.now() });
        firstSync?.resolve();
      },
      error: (e: unknown) => reportError(toSyncError('storage_failed', 'watching the replica', e)),
    });
  }

  let started: Promise<void> | undefined;
  const sync: SyncCore = {
    status$: status.asObservable(),
    errors$: errors.asObservable(),
    start() {
      if (stopped) return Promise.reject(new SyncError('stopped', 'start() after stop(): create a new engine', { retryable: false }));
      started ??= (async () => {
        const ctx = await contextPromise;
        // stop() may have run while the database was opening: electing now would take
        // the leader lock for good and no other tab could ever lead (chaos seed 3, 150 steps).
        if (stopped) throw new SyncError('stopped', 'the engine was stopped before it started', { retryable: false });
        pendingSub = live(() => ctx.db.outbox.where('status').anyOf([...ACTIVE_OUTBOX_STATUSES]).count()).subscribe({
          next: (count) => dispatch({ type: 'pending', at: clock.now(), count }),
          error: () => undefined,
        });
        const lease = () => leaseElection(ctx.db, clock);
        // A SQLite file is shared by processes, and a process's own Web Locks (Node
        // 24.5+ has navigator.locks) do not reach the others: there 'auto' is the
        // lease in the file, unless the app injects locks that span its processes.
        const requested = options.leader ?? 'auto';
        const mode = requested === 'auto' && !options.locks && options.storage?.kind === 'sqlite' ? 'lease' : requested;
        election = options.locks
          ? electLeader(ctx.db.name, mode, options.locks, lease)
          : electLeader(ctx.db.name, mode, undefined, lease);
        if (!election.isLeader()) follow(ctx);
        void election.acquired.then(() => becomeLeader(ctx));
      })();
      return started.then(() => {
        if (paused) throw paused;
        return firstSynced;
      });
    },
    async syncNow() {
      if (stopped) throw new SyncError('stopped', 'syncNow() after stop(): create a new engine', { retryable: false });
      // docs/errors.md: a rejected key pauses syncing until syncNow(); this is the
      // try-again. Its pull reports a key still rejected (and pauses again).
      const wasPaused = paused !== undefined;
      resume();
      // Paused engines have elected already (the 401 came from the leader's network);
      // otherwise wait as before for the election and the first sync.
      if (started && wasPaused) await started;
      // Not for start() itself: it stays pending while a failing first sync is
      // retried; the first attempt, failed or not, is enough to pull (issue 19).
      else await Promise.race([sync.start(), firstAttempted]);
      if (!(election?.isLeader() ?? false)) return;
      poller?.trigger('syncNow');
      await requestPull('syncNow');
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      abort.abort();
      push?.stop();
      poller?.stop();
      offlineSub?.();
      pendingSub?.unsubscribe();
      followSub?.unsubscribe();
      publishSub?.unsubscribe();
      const released = election?.release();
      firstSync?.reject(new SyncError('stopped', 'the engine was stopped before it synced', { retryable: false }));
      for (const w of waiters.splice(0)) w.reject(new SyncError('stopped', 'the engine was stopped', { retryable: false }));
      await running?.catch(() => undefined);
      // Before the database closes: a process that exits right after stop() leaves no
      // live-looking lease behind for the next one to wait out.
      await released;
      dispatch({ type: 'stopped', at: clock.now() });
      leader$.next(false);
      stop$.next();
      stop$.complete();
      status.complete();
      errors.complete();
      leader$.complete();
      paused$.complete();
      const db = await dbReady.catch(() => undefined);
      db?.close();
    },
    async clear() {
      await sync.stop();
      const db = await dbReady.catch(() => undefined);
      await db?.delete();
    },
    async snapshot() {
      return readSnapshot(await dbReady);
    },
  };
  return { sync, context: contextPromise, db: dbReady, stopped$: stop$.asObservable() };
}
