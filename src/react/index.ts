/**
 * `sendmux-sync/react`: React hooks over a `MailboxSync`'s observables, built on
 * `useSyncExternalStore` (concurrent rendering safe, no tearing).
 *
 * Every hook takes the engine first (`useMessages(sync, { folderId })`), or, left
 * out, uses the engine of the nearest {@link MailboxSyncProvider}
 * (`useMessages({ folderId })`). Arguments are compared by value, so a query written
 * as an object literal in render does not resubscribe. Components that use the same
 * engine and arguments share one subscription, which ends when the last of them
 * unmounts.
 *
 * Results: `undefined` while not loaded yet; then the value (`[]`, `0` when empty;
 * `null` for a record the replica does not have). A view that fails throws its error
 * during render, to the nearest error boundary; remounting retries it. React (18 or
 * later) is an optional peer dependency: the root entry never imports it.
 *
 * @packageDocumentation
 */
export { MailboxSyncProvider, useMailboxSync, type MailboxSyncProviderProps } from './context.js';
export {
  CONTENT_LOADING,
  useContent,
  useCount,
  useFolders,
  useMailboxObservable,
  useMessage,
  useMessageIds,
  useMessages,
  useOutcomes,
  useSearch,
  useStatus,
  useThread,
  type OutcomesOptions,
} from './hooks.js';
