// sendmux-sync/react against the real engine (createMailboxSync on fake-indexeddb)
// and the simulator over real HTTP/SSE, rendered with react-dom/client into a jsdom
// document (issue 18).
import { Component, StrictMode, useState, type ReactNode } from 'react';
import { act } from 'react';
import { filter, firstValueFrom, throwError, timeout } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { MailboxSync } from '../../src/index.js';
import {
  MailboxSyncProvider,
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
} from '../../src/react/index.js';
import { storeCount } from '../../src/react/hooks.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { counted, gatedFetch, installDom, pass, reactEngine, render, unmountAll, waitFor } from './helpers.js';

let sim: Simulator;
let undoDom: () => void;
const engines: MailboxSync[] = [];

beforeAll(async () => {
  undoDom = installDom();
  sim = await startSimulator({ port: 0, seed: 7, messages: 30, rateLimitPerMinute: 0 });
});
afterEach(async () => {
  await unmountAll();
  for (const e of engines.splice(0)) await e.stop();
});
afterAll(async () => {
  await sim?.close();
  undoDom?.();
});

async function started(options: Parameters<typeof reactEngine>[1] = {}): Promise<MailboxSync> {
  const sync = reactEngine(sim, options);
  engines.push(sync);
  await sync.start();
  return sync;
}

async function inboxId(sync: MailboxSync): Promise<string> {
  const folders = await firstValueFrom(sync.folders$());
  const inbox = folders.find((f) => f.role === 'inbox');
  if (!inbox) throw new Error('no inbox');
  return inbox.id;
}

/** The inbox as a three-pane client's list shows it, engine from the provider. */
function Inbox({ onRender }: { onRender?: () => void }) {
  onRender?.();
  const folders = useFolders();
  const inbox = folders?.find((f) => f.role === 'inbox');
  // Fresh object literals on every render: compared by value.
  const rows = useMessages({ folderId: inbox?.id, limit: 100 });
  const unread = useCount({ folderId: inbox?.id, unread: true });
  const none = useMessages({ keyword: 'no-such-keyword' });
  if (!folders || !inbox || rows === undefined || unread === undefined || none === undefined) return <p>loading</p>;
  return (
    <div>
      <p data-testid="counts">
        rows={rows.length} unread={unread} folder-unread={inbox.unread_messages} none={none.length}
      </p>
      <ul>
        {rows.map((m) => (
          <li key={m.id} data-id={m.id} data-seen={String(m.flags.seen)}>
            {m.subject}
          </li>
        ))}
      </ul>
    </div>
  );
}

const countsOf = (container: HTMLElement) => {
  const text = container.querySelector('[data-testid="counts"]')?.textContent ?? '';
  const n = (name: string) => Number(new RegExp(`${name}=(\\d+)`).exec(text)?.[1] ?? NaN);
  return { rows: n('rows'), unread: n('unread'), folderUnread: n('folder-unread'), none: n('none'), text };
};

describe('sendmux-sync/react hooks', () => {
  it('useMessages, useCount and useFolders load (undefined first, [] for an empty result) and follow mail the simulator delivers', async () => {
    const sync = await started();
    const view = await render(
      <MailboxSyncProvider sync={sync}>
        <Inbox />
      </MailboxSyncProvider>,
    );
    // The first commit has no results yet: "not loaded" is not an empty list.
    expect(view.text()).toBe('loading');
    await waitFor(() => countsOf(view.container).text !== '', 'the inbox to load');
    const before = countsOf(view.container);
    expect(before.none).toBe(0);
    expect(before.rows).toBeGreaterThan(0);

    await sim.control.deliver({ subject: 'Hello from the outside world' });
    await waitFor(() => view.text().includes('Hello from the outside world'), 'the delivered message in the list');
    await waitFor(() => countsOf(view.container).unread === before.unread + 1 && countsOf(view.container).folderUnread === before.folderUnread + 1, 'the counters to move');
    expect(countsOf(view.container).rows).toBe(before.rows + 1);
  });

  it('an optimistic update() shows in useMessages, useCount and useFolders before the server acknowledges, and useOutcomes gets its outcome', async () => {
    const gate = gatedFetch((url, method) => method === 'POST' && url.includes('messages:batch-update'));
    const sync = await started({ fetch: gate.fetch });
    const { id } = await sim.control.deliver({ subject: 'Unread until the test reads it' });
    await firstValueFrom(sync.message$(id).pipe(filter((m) => m !== undefined), timeout(20_000)));

    function Outcomes() {
      const outcomes = useOutcomes(sync);
      return <p data-testid="outcomes">{outcomes.map((o) => `${o.id}:${o.status}`).join(',') || 'none'}</p>;
    }
    const view = await render(
      <MailboxSyncProvider sync={sync}>
        <Inbox />
        <Outcomes />
      </MailboxSyncProvider>,
    );
    const row = () => view.container.querySelector(`li[data-id="${id}"]`);
    await waitFor(() => row()?.getAttribute('data-seen') === 'false', 'the unread message in the list');
    const before = countsOf(view.container);

    let settled = false;
    const done = sync.update([id], { seen: true }).then((o) => {
      settled = true;
      return o;
    });
    await waitFor(() => row()?.getAttribute('data-seen') === 'true', 'the optimistic seen flag');
    await waitFor(() => countsOf(view.container).unread === before.unread - 1 && countsOf(view.container).folderUnread === before.folderUnread - 1, 'the optimistic counters');
    // The server has not answered: the flusher's request is held at the gate.
    await waitFor(() => gate.held() > 0, 'the flusher to send the batch update');
    expect(settled).toBe(false);
    expect(view.container.querySelector('[data-testid="outcomes"]')?.textContent).toBe('none');

    gate.release();
    let outcomes: Awaited<typeof done> = [];
    await act(async () => {
      outcomes = await done;
    });
    expect(outcomes).toEqual([expect.objectContaining({ id, status: 'applied' })]);
    await waitFor(() => view.container.querySelector('[data-testid="outcomes"]')?.textContent === `${id}:applied`, 'the outcome in useOutcomes');
    expect(row()?.getAttribute('data-seen')).toBe('true');
  });

  it('a fresh query object on every render neither resubscribes nor re-reads; components with the same query share one subscription', async () => {
    const sync = await started();
    const folderId = await inboxId(sync);
    const c = counted(sync);
    let renders = 0;
    function List() {
      renders++;
      const rows = useMessages(c.sync, { folderId, limit: 5, unread: undefined });
      const total = useCount(c.sync, { limit: 5, folderId });
      return <p>{rows === undefined || total === undefined ? 'loading' : `${rows.length}/${total}`}</p>;
    }
    function Parent() {
      const [tick, setTick] = useState(0);
      return (
        <div>
          <button onClick={() => setTick((t) => t + 1)}>tick {tick}</button>
          <List />
          <List />
        </div>
      );
    }
    const view = await render(<Parent />);
    await waitFor(() => /\d+\/\d+/.test(view.text()), 'the list to load');
    const button = view.container.querySelector('button') as HTMLButtonElement;
    const rendersBefore = renders;
    for (let i = 0; i < 5; i++) await act(async () => button.click());
    expect(view.text()).toContain('tick 5');
    expect(renders).toBe(rendersBefore + 10); // two Lists, five ticks: re-rendered, not resubscribed
    // Two components, five re-renders with fresh query objects: one observable each.
    expect(c.made['messages$']).toBe(1);
    expect(c.made['count$']).toBe(1);
    expect(c.active['messages$']).toBe(1);
    expect(c.active['count$']).toBe(1);
  });

  it('a null query reads nothing (undefined) until a real one is given, for useMessages, useMessageIds and useCount', async () => {
    const sync = await started();
    const folderId = await inboxId(sync);
    const c = counted(sync);
    let setQuery: (q: { folderId: string } | null) => void = () => undefined;
    function List() {
      const [query, set] = useState<{ folderId: string } | null>(null);
      setQuery = set;
      const rows = useMessages(c.sync, query);
      const ids = useMessageIds(c.sync, query);
      const total = useCount(c.sync, query);
      return <p>{rows === undefined && ids === undefined && total === undefined ? 'nothing' : `${rows?.length}/${ids?.length}/${total}`}</p>;
    }
    const view = await render(<List />);
    await pass(100);
    expect(view.text()).toBe('nothing');
    expect(c.made).toEqual({});
    await act(async () => setQuery({ folderId }));
    await waitFor(() => /^\d+\/\d+\/\d+$/.test(view.text()), 'the lists to load');
    const [rows, ids, total] = view.text().split('/').map(Number);
    expect(rows).toBe(total);
    expect(ids).toBe(total);
    expect(c.made).toEqual({ messages$: 1, messageIds$: 1, count$: 1 });
  });

  it('unmounting the last component unsubscribes: nothing renders or reads after unmount', async () => {
    const sync = await started();
    const c = counted(sync);
    let renders = 0;
    const view = await render(
      <MailboxSyncProvider sync={c.sync}>
        <Inbox onRender={() => renders++} />
      </MailboxSyncProvider>,
    );
    await waitFor(() => countsOf(view.container).text !== '', 'the inbox to load');
    expect(c.active['messages$']).toBe(2); // the inbox list and the empty keyword list
    expect(c.active['folders$']).toBe(1);
    expect(storeCount(c.sync)).toBeGreaterThan(0);

    await view.unmount();
    expect(c.active).toEqual({ messages$: 0, count$: 0, folders$: 0 });
    expect(storeCount(c.sync)).toBe(0);
    const rendersAtUnmount = renders;
    const made = { ...c.made };
    await sim.control.deliver({ subject: 'Nobody is looking' });
    await firstValueFrom(sync.messages$({ limit: 1 }).pipe(filter((rows) => rows[0]?.subject === 'Nobody is looking'), timeout(20_000)));
    await pass(100);
    expect(renders).toBe(rendersAtUnmount);
    expect(c.made).toEqual(made);
  });

  it('StrictMode double mount: the view loads, ends with one subscription per view, and unmount closes them', async () => {
    const sync = await started();
    const c = counted(sync);
    const view = await render(
      <StrictMode>
        <MailboxSyncProvider sync={c.sync}>
          <Inbox />
        </MailboxSyncProvider>
      </StrictMode>,
    );
    await waitFor(() => countsOf(view.container).text !== '', 'the inbox to load');
    expect(c.active['folders$']).toBe(1);
    expect(c.active['count$']).toBe(1);
    expect(c.active['messages$']).toBe(2);
    await sim.control.deliver({ subject: 'Strict delivery' });
    await waitFor(() => view.text().includes('Strict delivery'), 'a delivery under StrictMode');
    await view.unmount();
    expect(c.active).toEqual({ messages$: 0, count$: 0, folders$: 0 });
  });

  it('useContent goes loading → ready, and useMessage tells "not loaded" (undefined) from "no such message" (null)', async () => {
    const sync = await started();
    const { id } = await sim.control.deliver({ subject: 'Has a body', text: 'The body the reader shows' });
    await firstValueFrom(sync.message$(id).pipe(filter((m) => m !== undefined), timeout(20_000)));
    const seen: string[] = [];
    function Reader({ messageId }: { messageId: string }) {
      const message = useMessage(sync, messageId);
      const missing = useMessage(sync, 'msg_not_in_this_mailbox');
      const content = useContent(sync, messageId, { strip_quotes: false });
      const nothing = useContent(sync, undefined);
      if (content && seen.at(-1) !== content.status) seen.push(content.status);
      return (
        <article>
          <h1>{message === undefined ? 'loading' : (message?.subject ?? 'gone')}</h1>
          <p data-testid="missing">{missing === undefined ? 'loading' : String(missing)}</p>
          <p data-testid="nothing">{String(nothing)}</p>
          <pre>{content?.status === 'ready' ? content.content.body.text : content?.status}</pre>
        </article>
      );
    }
    const view = await render(<Reader messageId={id} />);
    await waitFor(() => view.text().includes('The body the reader shows'), 'the body');
    expect(seen[0]).toBe('loading');
    expect(seen.at(-1)).toBe('ready');
    expect(view.container.querySelector('h1')?.textContent).toBe('Has a body');
    expect(view.container.querySelector('[data-testid="missing"]')?.textContent).toBe('null');
    expect(view.container.querySelector('[data-testid="nothing"]')?.textContent).toBe('undefined');
  });

  it('useMessageIds, useThread, useSearch and useMailboxObservable read the same replica', async () => {
    const sync = await started();
    const folderId = await inboxId(sync);
    const { id } = await sim.control.deliver({ subject: 'Zebra crossing notes' });
    const delivered = await firstValueFrom(sync.message$(id).pipe(filter((m) => m !== undefined), timeout(20_000)));
    function Views() {
      const ids = useMessageIds(sync, { folderId, limit: 5 });
      const rows = useMessages(sync, { folderId, limit: 5 });
      const thread = useThread(sync, delivered.thread_id);
      const search = useSearch(sync, 'zebra', { server: false });
      const threads = useMailboxObservable(sync, ['threads', { limit: 3 }], (s) => s.threads$({ limit: 3 }));
      if (!ids || !rows || !thread || !search || !threads) return <p>loading</p>;
      return (
        <dl>
          <dd data-testid="same-order">{String(ids.join() === rows.map((m) => m.id).join())}</dd>
          <dd data-testid="thread">{thread.messages.map((m) => m.id).join()}</dd>
          <dd data-testid="search">{`${search.server}:${search.hits.map((m) => m.id).join()}`}</dd>
          <dd data-testid="threads">{threads.length}</dd>
        </dl>
      );
    }
    const view = await render(<Views />);
    const cell = (name: string) => view.container.querySelector(`[data-testid="${name}"]`)?.textContent;
    await waitFor(() => cell('thread') !== undefined, 'the views to load');
    expect(cell('same-order')).toBe('true');
    expect(cell('thread')?.split(',')).toContain(id);
    expect(cell('search')).toBe(`off:${id}`);
    expect(cell('threads')).toBe('3');
  });

  it('useStatus follows the engine from idle to live', async () => {
    const sync = reactEngine(sim);
    engines.push(sync);
    const phases: string[] = [];
    function Status() {
      const status = useStatus();
      const phase = status?.phase ?? 'unknown';
      if (phases.at(-1) !== phase) phases.push(phase);
      return <p>{phase}</p>;
    }
    const view = await render(
      <MailboxSyncProvider sync={sync}>
        <Status />
      </MailboxSyncProvider>,
    );
    await act(async () => {
      await sync.start();
    });
    await waitFor(() => view.text() === 'live', 'the live phase');
    expect(phases[0]).toBe('unknown'); // before the first commit subscribed
    expect(phases).toContain('live');
  });

  it('a view that fails throws its error to the nearest error boundary, not to an unhandled rejection', async () => {
    const sync = await started();
    const failing: MailboxSync = { ...sync, messages$: () => throwError(() => new Error('replica unreadable')) };
    class Boundary extends Component<{ children: ReactNode }, { error: Error | null }> {
      override state = { error: null as Error | null };
      static getDerivedStateFromError(error: Error) {
        return { error };
      }
      override render() {
        return this.state.error ? <p role="alert">failed: {this.state.error.message}</p> : this.props.children;
      }
    }
    function List() {
      const rows = useMessages(failing, { limit: 3 });
      return <p>{rows?.length ?? 'loading'}</p>;
    }
    const caught: unknown[] = [];
    const view = await render(
      <Boundary>
        <List />
      </Boundary>,
      { onCaughtError: (e) => caught.push(e) },
    );
    await waitFor(() => view.text().startsWith('failed'), 'the error boundary');
    expect(view.text()).toBe('failed: replica unreadable');
    expect(caught).toHaveLength(1);
    // The failed store was released with the component that threw.
    expect(storeCount(failing)).toBe(0);
  });

  it('a hook without an engine and without a provider says how to fix the call', async () => {
    function Orphan() {
      useFolders();
      return null;
    }
    const caught: unknown[] = [];
    class Boundary extends Component<{ children: ReactNode }, { error: Error | null }> {
      override state = { error: null as Error | null };
      static getDerivedStateFromError(error: Error) {
        return { error };
      }
      override render() {
        return this.state.error ? <p>{this.state.error.message}</p> : this.props.children;
      }
    }
    const view = await render(
      <Boundary>
        <Orphan />
      </Boundary>,
      { onCaughtError: (e) => caught.push(e) },
    );
    expect(view.text()).toContain('useFolders: no engine; pass it first (useFolders(sync, …)) or render the component inside <MailboxSyncProvider sync={sync}>');
  });
});
