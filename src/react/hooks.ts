// React hooks over the engine's observables (issue 18), each a useSyncExternalStore
// over a shared, reference-counted store (./store.ts) keyed by the engine and a
// stable serialisation of the hook's arguments.
//
// Conventions, the same for every hook:
// - the engine comes first (`useMessages(sync, query)`), or from the nearest
//   <MailboxSyncProvider> when it is left out (`useMessages(query)`);
// - `undefined` means "not loaded yet"; a loaded empty result is `[]` or `0`, and a
//   record the replica does not have is `null`;
// - a view that fails throws its error during render, to the nearest error boundary.
import { useSyncExternalStore } from 'react';
import { NEVER, scan, type Observable } from 'rxjs';
import type {
  ContentReadOptions,
  ContentState,
  Folder,
  MailboxSync,
  Message,
  MessageContentData,
  MessageQuery,
  MutationOutcome,
  SearchOptions,
  SearchState,
  SyncStatus,
  ThreadWithMessages,
} from '../index.js';
import { useEngineArgs } from './context.js';
import { StoreCache, WAITING, stableKey, type ObservableStore, type StoreSnapshot } from './store.js';

const cache = new StoreCache();
const serverSnapshot = (): StoreSnapshot<never> => WAITING;

/** The shared store of (engine, key). */
function storeOf<T>(sync: MailboxSync, key: readonly unknown[], make: () => Observable<T>): ObservableStore<T> {
  return cache.get(sync, stableKey(key), make);
}

/** How many stores an engine has in the hooks' cache (subscribed, or created by a render and not yet subscribed); for tests. */
export function storeCount(sync: MailboxSync): number {
  return cache.size(sync);
}

function useSnapshot<T>(sync: MailboxSync, key: readonly unknown[], make: () => Observable<T>): StoreSnapshot<T> {
  const store = storeOf(sync, key, make);
  return useSyncExternalStore(store.subscribe, store.getSnapshot, serverSnapshot);
}

function valueOf<T, I>(snapshot: StoreSnapshot<T>, initial: I): T | I {
  if (snapshot.kind === 'error') throw snapshot.error;
  return snapshot.kind === 'value' ? snapshot.value : initial;
}

/**
 * The latest value of any observable of an engine, for views without a hook of
 * their own (`threads$`, `outbox$`, `window$`, …). `key` names the observable and its
 * arguments (serialised stably, so fresh objects keep it): components using the
 * same engine and key share one subscription. `make` is called once per shared
 * subscription; it must return the observable that `key` describes.
 *
 * @returns `undefined` until the observable emits, then its latest value.
 * @throws the observable's error, during render, when it fails.
 */
export function useMailboxObservable<T>(sync: MailboxSync, key: readonly unknown[], make: (sync: MailboxSync) => Observable<T>): T | undefined {
  return valueOf(useSnapshot(sync, ['custom', ...key], () => make(sync)), undefined);
}

/**
 * Messages of a local query, live (`messages$`).
 *
 * @param sync - The engine.
 * @param query - The query; a fresh object each render is fine (it is compared by value). `null` reads nothing (and returns `undefined`), e.g. before a folder is chosen.
 * @returns `undefined` until loaded, then the messages (`[]` when none match).
 */
export function useMessages(sync: MailboxSync, query?: MessageQuery | null): Message[] | undefined;
/**
 * Messages of a local query, live, with the engine of the nearest {@link MailboxSyncProvider}.
 *
 * @param query - The query; a fresh object each render is fine (it is compared by value). `null` reads nothing (and returns `undefined`), e.g. before a folder is chosen.
 * @returns `undefined` until loaded, then the messages (`[]` when none match).
 */
export function useMessages(query?: MessageQuery | null): Message[] | undefined;
export function useMessages(...args: unknown[]): Message[] | undefined {
  const [sync, [query = {}]] = useEngineArgs<[(MessageQuery | null)?]>('useMessages', args);
  return valueOf(useSnapshot(sync, ['messages', query], () => (query === null ? NEVER : sync.messages$(query))), undefined);
}

/**
 * The ids of a local query's messages, in order, live (`messageIds$`): for virtual
 * lists that render rows by id.
 *
 * @param sync - The engine.
 * @param query - The query, compared by value. `null` reads nothing (and returns `undefined`).
 * @returns `undefined` until loaded, then the ids (`[]` when none match).
 */
export function useMessageIds(sync: MailboxSync, query?: MessageQuery | null): string[] | undefined;
/**
 * The ids of a local query's messages, with the engine of the nearest {@link MailboxSyncProvider}.
 *
 * @param query - The query, compared by value. `null` reads nothing (and returns `undefined`).
 * @returns `undefined` until loaded, then the ids (`[]` when none match).
 */
export function useMessageIds(query?: MessageQuery | null): string[] | undefined;
export function useMessageIds(...args: unknown[]): string[] | undefined {
  const [sync, [query = {}]] = useEngineArgs<[(MessageQuery | null)?]>('useMessageIds', args);
  return valueOf(useSnapshot(sync, ['messageIds', query], () => (query === null ? NEVER : sync.messageIds$(query))), undefined);
}

/**
 * One message, live (`message$`).
 *
 * @param sync - The engine.
 * @param id - The message id; `undefined` or `null` (nothing selected) returns `undefined` and reads nothing.
 * @returns `undefined` until loaded, `null` when the replica has no such message, else the message.
 */
export function useMessage(sync: MailboxSync, id: string | null | undefined): Message | null | undefined;
/**
 * One message, live, with the engine of the nearest {@link MailboxSyncProvider}.
 *
 * @param id - The message id; `undefined` or `null` (nothing selected) returns `undefined` and reads nothing.
 * @returns `undefined` until loaded, `null` when the replica has no such message, else the message.
 */
export function useMessage(id: string | null | undefined): Message | null | undefined;
export function useMessage(...args: unknown[]): Message | null | undefined {
  const [sync, [id]] = useEngineArgs<[(string | null)?]>('useMessage', args);
  const snapshot = useSnapshot(sync, ['message', id ?? null], () => (id == null ? NEVER : sync.message$(id)));
  const value = valueOf(snapshot, undefined);
  return snapshot.kind === 'value' ? (value ?? null) : undefined;
}

/**
 * The number of messages matching a query, live (`count$`; limit and offset ignored).
 *
 * @param sync - The engine.
 * @param query - The query, compared by value. `null` reads nothing (and returns `undefined`).
 * @returns `undefined` until counted, then the count.
 */
export function useCount(sync: MailboxSync, query?: MessageQuery | null): number | undefined;
/**
 * The number of messages matching a query, with the engine of the nearest {@link MailboxSyncProvider}.
 *
 * @param query - The query, compared by value. `null` reads nothing (and returns `undefined`).
 * @returns `undefined` until counted, then the count.
 */
export function useCount(query?: MessageQuery | null): number | undefined;
export function useCount(...args: unknown[]): number | undefined {
  const [sync, [query = {}]] = useEngineArgs<[(MessageQuery | null)?]>('useCount', args);
  return valueOf(useSnapshot(sync, ['count', query], () => (query === null ? NEVER : sync.count$(query))), undefined);
}

/**
 * Every folder, in folder-list order, live (`folders$`); counters move with optimistic changes.
 *
 * @param sync - The engine.
 * @returns `undefined` until loaded, then the folders.
 */
export function useFolders(sync: MailboxSync): Folder[] | undefined;
/**
 * Every folder, live, with the engine of the nearest {@link MailboxSyncProvider}.
 *
 * @returns `undefined` until loaded, then the folders.
 */
export function useFolders(): Folder[] | undefined;
export function useFolders(...args: unknown[]): Folder[] | undefined {
  const [sync] = useEngineArgs<[]>('useFolders', args);
  return valueOf(useSnapshot(sync, ['folders'], () => sync.folders$()), undefined);
}

/**
 * One thread with its messages (oldest first), live (`thread$`).
 *
 * @param sync - The engine.
 * @param id - The thread id; `undefined` or `null` returns `undefined` and reads nothing.
 * @returns `undefined` until loaded, `null` when the replica has no such thread, else the thread.
 */
export function useThread(sync: MailboxSync, id: string | null | undefined): ThreadWithMessages | null | undefined;
/**
 * One thread with its messages, live, with the engine of the nearest {@link MailboxSyncProvider}.
 *
 * @param id - The thread id; `undefined` or `null` returns `undefined` and reads nothing.
 * @returns `undefined` until loaded, `null` when the replica has no such thread, else the thread.
 */
export function useThread(id: string | null | undefined): ThreadWithMessages | null | undefined;
export function useThread(...args: unknown[]): ThreadWithMessages | null | undefined {
  const [sync, [id]] = useEngineArgs<[(string | null)?]>('useThread', args);
  const snapshot = useSnapshot(sync, ['thread', id ?? null], () => (id == null ? NEVER : sync.thread$(id)));
  const value = valueOf(snapshot, undefined);
  return snapshot.kind === 'value' ? (value ?? null) : undefined;
}

/**
 * The engine's status (`status$`: phase, progress, last sync, pending mutations, …).
 *
 * @param sync - The engine.
 * @returns `undefined` before the first value (the first commit), then the latest status.
 */
export function useStatus(sync: MailboxSync): SyncStatus | undefined;
/**
 * The engine's status, with the engine of the nearest {@link MailboxSyncProvider}.
 *
 * @returns `undefined` before the first value (the first commit), then the latest status.
 */
export function useStatus(): SyncStatus | undefined;
export function useStatus(...args: unknown[]): SyncStatus | undefined {
  const [sync] = useEngineArgs<[]>('useStatus', args);
  return valueOf(useSnapshot(sync, ['status'], () => sync.status$), undefined);
}

/**
 * Search (`search$`): local hits at once, server hits merged as they arrive.
 *
 * @param sync - The engine.
 * @param text - The search text.
 * @param options - Limits and whether to ask the server, compared by value.
 * @returns `undefined` until the first result, then the {@link SearchState}.
 */
export function useSearch(sync: MailboxSync, text: string, options?: SearchOptions): SearchState | undefined;
/**
 * Search, with the engine of the nearest {@link MailboxSyncProvider}.
 *
 * @param text - The search text.
 * @param options - Limits and whether to ask the server, compared by value.
 * @returns `undefined` until the first result, then the {@link SearchState}.
 */
export function useSearch(text: string, options?: SearchOptions): SearchState | undefined;
export function useSearch(...args: unknown[]): SearchState | undefined {
  const [sync, [text, options = {}]] = useEngineArgs<[string, SearchOptions?]>('useSearch', args);
  return valueOf(useSnapshot(sync, ['search', text, options], () => sync.search$(text, options)), undefined);
}

/** What {@link useContent} returns before the content's first state. */
export const CONTENT_LOADING: ContentState<MessageContentData> = Object.freeze({ status: 'loading' });

/**
 * The clean content of a message (`content$`: from the cache, fetched on a miss).
 *
 * @param sync - The engine.
 * @param messageId - The message; `undefined` or `null` returns `undefined` and reads nothing.
 * @param options - The API's content controls and read options, compared by value.
 * @returns {@link CONTENT_LOADING} (`{ status: 'loading' }`) until the first state, then
 *   `loading`, `ready` (with the content) or `error` (a ContentError; not thrown).
 */
export function useContent(sync: MailboxSync, messageId: string | null | undefined, options?: ContentReadOptions): ContentState<MessageContentData> | undefined;
/**
 * The clean content of a message, with the engine of the nearest {@link MailboxSyncProvider}.
 *
 * @param messageId - The message; `undefined` or `null` returns `undefined` and reads nothing.
 * @param options - The API's content controls and read options, compared by value.
 * @returns `{ status: 'loading' }` until the first state, then `loading`, `ready` or `error`.
 */
export function useContent(messageId: string | null | undefined, options?: ContentReadOptions): ContentState<MessageContentData> | undefined;
export function useContent(...args: unknown[]): ContentState<MessageContentData> | undefined {
  const [sync, [messageId, options = {}]] = useEngineArgs<[(string | null)?, ContentReadOptions?]>('useContent', args);
  const snapshot = useSnapshot(sync, ['content', messageId ?? null, options], () =>
    messageId == null ? NEVER : sync.content$(messageId, options),
  );
  return messageId == null ? undefined : valueOf(snapshot, CONTENT_LOADING);
}

/** Options of {@link useOutcomes}. */
export interface OutcomesOptions {
  /** How many of the most recent outcomes to keep (default 20). */
  limit?: number;
}

const NO_OUTCOMES: readonly MutationOutcome[] = Object.freeze([]);

/**
 * The most recent mutation outcomes (`outcomes$`: applied, rebased, rolled back
 * with the reason), oldest first, for "saved" and "could not save" notices. The list
 * holds what was settled while some component with the same `limit` was mounted.
 *
 * @param sync - The engine.
 * @param options - How many to keep.
 * @returns `[]` until the first outcome, then up to `limit` outcomes, the newest last.
 * @throws TypeError when `limit` is not a positive integer.
 */
export function useOutcomes(sync: MailboxSync, options?: OutcomesOptions): readonly MutationOutcome[];
/**
 * The most recent mutation outcomes, with the engine of the nearest {@link MailboxSyncProvider}.
 *
 * @param options - How many to keep.
 * @returns `[]` until the first outcome, then up to `limit` outcomes, the newest last.
 */
export function useOutcomes(options?: OutcomesOptions): readonly MutationOutcome[];
export function useOutcomes(...args: unknown[]): readonly MutationOutcome[] {
  const [sync, [options = {}]] = useEngineArgs<[OutcomesOptions?]>('useOutcomes', args);
  const limit = options.limit ?? 20;
  if (!Number.isInteger(limit) || limit < 1) throw new TypeError('useOutcomes: limit must be a positive integer, e.g. { limit: 20 }');
  const snapshot = useSnapshot(sync, ['outcomes', limit], () =>
    sync.outcomes$.pipe(scan((recent: readonly MutationOutcome[], outcome) => [...recent, outcome].slice(-limit), NO_OUTCOMES)),
  );
  return valueOf(snapshot, NO_OUTCOMES);
}
