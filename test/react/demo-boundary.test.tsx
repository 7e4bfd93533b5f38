// The demo's error boundary (demo/web/ErrorBoundary.tsx): a view that fails during
// render (the package's hooks throw a failed observable there) shows a plain message
// and a Reload button instead of unmounting the app into a blank page.
import { throwError } from 'rxjs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ErrorBoundary } from '../../demo/web/ErrorBoundary.js';
import type { MailboxSync } from '../../src/index.js';
import { useMailboxObservable } from '../../src/react/index.js';
import { installDom, render, unmountAll } from './helpers.js';

let undoDom: () => void;
beforeAll(() => {
  undoDom = installDom();
});
afterAll(async () => {
  await unmountAll();
  undoDom();
});

function Failing({ sync }: { sync: MailboxSync }) {
  useMailboxObservable(sync, ['boom'], () => throwError(() => new Error('IndexedDB: the database connection is closing')));
  return <p>rows</p>;
}

it('a view that fails during render shows the error and a Reload button, not a blank page', async () => {
  const logged: unknown[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => void logged.push(args[0]);
  try {
    const m = await render(
      <ErrorBoundary>
        <Failing sync={{} as MailboxSync} />
      </ErrorBoundary>,
    );
    expect(m.text()).toContain('The mailbox could not be shown');
    expect(m.text()).toContain('IndexedDB: the database connection is closing');
    expect(m.container.querySelector('[data-testid="fatal"] button')?.textContent).toBe('Reload');
    expect(m.text()).not.toContain('rows');
  } finally {
    console.error = original;
  }
  expect(logged).toContain('sendmux demo: a view failed');
});
