// The sync engine (`createMailboxSync` from src/index.ts), configured by the dev
// server (GET /__demo/config). Components read it through the package's React
// hooks (src/react) under a <MailboxSyncProvider>, and act on it with its own
// methods (update, remove, send, discardSend, …) from useMailboxSync().
import { createMailboxSync, type MailboxSync } from '../../src/index.js';
import type { DemoClientConfig } from './types.js';

export function createEngine(config: DemoClientConfig): MailboxSync {
  // Service mode: the base URL is relative to this origin (the dev-server proxy).
  const baseUrl = new URL(config.baseUrl, window.location.origin).toString().replace(/\/$/, '');
  return createMailboxSync({
    apiKey: config.apiKey,
    baseUrl,
    ...(config.mailboxId ? { mailboxId: config.mailboxId } : {}),
    // A dropped event stream is reopened after 15 s instead of the default 60 s,
    // so the demo's "cut the network" recovers visibly; polling covers the gap.
    pushRetryMs: 15_000,
  });
}
