// The engine as React context: <MailboxSyncProvider sync={sync}> near the root, and
// useMailboxSync() (or any hook called without an engine) below it.
import { createContext, createElement, useContext, type ReactElement, type ReactNode } from 'react';
import type { MailboxSync } from '../index.js';

/** The engine of the nearest {@link MailboxSyncProvider}, or null outside one. */
export const MailboxSyncContext = createContext<MailboxSync | null>(null);
MailboxSyncContext.displayName = 'MailboxSyncContext';

/** Props of {@link MailboxSyncProvider}. */
export interface MailboxSyncProviderProps {
  /** The engine the hooks below use when they are called without one (from `createMailboxSync`). */
  sync: MailboxSync;
  /** The subtree that uses it. */
  children?: ReactNode;
}

/**
 * Makes an engine available to the hooks of a subtree, so they can be called
 * without it (`useMessages({ folderId })` instead of `useMessages(sync, { folderId })`).
 * The provider neither starts nor stops the engine: create it, `start()` it and
 * `stop()` it where the app's lifetime is decided.
 */
export function MailboxSyncProvider({ sync, children }: MailboxSyncProviderProps): ReactElement {
  return createElement(MailboxSyncContext.Provider, { value: sync }, children);
}

/**
 * The engine of the nearest {@link MailboxSyncProvider}.
 *
 * @throws Error when there is no provider above the calling component.
 */
export function useMailboxSync(): MailboxSync {
  const sync = useContext(MailboxSyncContext);
  if (!sync) throw new Error('useMailboxSync: no engine here; render the component inside <MailboxSyncProvider sync={sync}>');
  return sync;
}

/** True when `value` looks like an engine (an object with the engine's views), not a query, id or text. */
export function isMailboxSync(value: unknown): value is MailboxSync {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<Record<keyof MailboxSync, unknown>>;
  return typeof v.messages$ === 'function' && typeof v.update === 'function' && v.status$ !== undefined;
}

/**
 * Splits a hook's arguments into the engine and the rest: an engine passed first
 * wins, otherwise the provider's. Calls `useContext` unconditionally, so either form
 * keeps the rules of hooks.
 */
export function useEngineArgs<R extends unknown[]>(hook: string, args: readonly unknown[]): [MailboxSync, R] {
  const fromContext = useContext(MailboxSyncContext);
  if (isMailboxSync(args[0])) return [args[0], args.slice(1) as R];
  if (!fromContext) {
    throw new Error(`${hook}: no engine; pass it first (${hook}(sync, …)) or render the component inside <MailboxSyncProvider sync={sync}>`);
  }
  return [fromContext, [...args] as R];
}
