// The engine's composition root below the public entry (DESIGN.md "One composition
// root"): the sync core (src/sync) with the read views over its replica
// (src/reactive). src/index.ts adds the outbox, content and windows.
import { createViews, type MailboxViews } from './reactive/views.js';
import type { PendingEffects } from './store/effects.js';
import { createSyncCore, type MailboxSyncOptions, type SyncCore } from './sync/engine.js';
import type { CoreWiring, SyncContext } from './sync/context.js';

export * from './sync/engine.js';

/** The engine and its read views. */
export interface MailboxSync extends SyncCore, MailboxViews {}

/** An engine plus the internal context the outbox layer builds on. */
export interface SyncEngine {
  sync: MailboxSync;
  /** Internal: see {@link SyncContext}. Resolves once the database is open. */
  context: Promise<SyncContext>;
}

/**
 * Creates the sync core and its views (no outbox, content or windows: see
 * `createMailboxSync`). `effects`: the pending update() calls the views show before
 * their commit (src/store/effects.ts), shared with the mutations.
 */
export function createSyncEngine(options: MailboxSyncOptions, wiring: CoreWiring = {}, effects?: PendingEffects): SyncEngine {
  const core = createSyncCore(options, wiring);
  return { sync: { ...createViews(core.db, core.stopped$, effects), ...core.sync }, context: core.context };
}
