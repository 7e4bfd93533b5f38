// The entry points' runtime exports are the public surface (DESIGN.md "Public
// surface"); internals stay unexported (issue 17: `./api` exported rate-limiter
// internals that only tests use).
import { describe, expect, it } from 'vitest';

describe('public exports', () => {
  it('sendmux-sync/api exports the client, its error, keys and tables, and no limiter or retry internals', async () => {
    const api = await import('../../src/api/index.js');
    expect(Object.keys(api).sort()).toEqual(['DEFAULT_BASE_URL', 'KNOWN_EVENT_TYPES', 'MAX_SERVER_WAIT_MS', 'OPERATIONS', 'SendmuxApiError', 'createMailboxApi', 'isSendmuxApiError', 'newIdempotencyKey']);
  });

  it('sendmux-sync exports the engine factory, the sanitizer, its errors, the status reducer and the search parser', async () => {
    const root = await import('../../src/index.js');
    expect(Object.keys(root).sort()).toEqual(['ContentError', 'SyncError', 'createMailboxSync', 'indexedDBStorage', 'initialStatus', 'parseSearch', 'reduceStatus', 'resolveInlineImages', 'sanitizeHtml']);
  });

  it('sendmux-sync/react exports the provider and the hooks, and none of the store internals', async () => {
    const react = await import('../../src/react/index.js');
    expect(Object.keys(react).sort()).toEqual([
      'CONTENT_LOADING',
      'MailboxSyncProvider',
      'useContent',
      'useCount',
      'useFolders',
      'useMailboxObservable',
      'useMailboxSync',
      'useMessage',
      'useMessageIds',
      'useMessages',
      'useOutcomes',
      'useSearch',
      'useStatus',
      'useThread',
    ]);
  });

  it('sendmux-sync/sim exports startSimulator', async () => {
    const sim = await import('../../src/sim/index.js');
    expect(Object.keys(sim)).toContain('startSimulator');
  });
});
