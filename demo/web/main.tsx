import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { MailboxSyncProvider } from '../../src/react/index.js';
import { App } from './App.js';
import { ErrorBoundary } from './ErrorBoundary.js';
import { createEngine } from './createEngine.js';
import type { DemoClientConfig } from './types.js';

async function main(): Promise<void> {
  const root = createRoot(document.getElementById('root') as HTMLElement);
  // Settings come from the dev server, never from localStorage.
  const res = await fetch('/__demo/config', { cache: 'no-store' });
  if (!res.ok) throw new Error(`GET /__demo/config: HTTP ${res.status}`);
  const config = (await res.json()) as DemoClientConfig;
  const sync = createEngine(config);
  root.render(
    <StrictMode>
      <ErrorBoundary>
        <MailboxSyncProvider sync={sync}>
          <App config={config} />
        </MailboxSyncProvider>
      </ErrorBoundary>
    </StrictMode>,
  );
  // start() rejects only on a rejected credential (or stop); the status bar and
  // toasts show everything else.
  sync.start().catch((err: unknown) => console.error('sendmux demo: engine did not start:', err));
  // Leaving the page stops the engine, which releases leadership to another tab
  // at once. A page restored from the back/forward cache starts afresh.
  window.addEventListener('pagehide', () => void sync.stop());
  window.addEventListener('pageshow', (e) => {
    if (e.persisted) window.location.reload();
  });
}

main().catch((err: unknown) => {
  document.body.textContent = `The demo could not start: ${err instanceof Error ? err.message : String(err)}`;
});
