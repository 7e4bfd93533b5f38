// The package entry: createMailboxSync wires the engine, its views and its outbox.
import { testStore } from '../helpers/storage.js';
import { afterEach, describe, expect, it } from 'vitest';
import { createMailboxSync, type MailboxSync } from '../../src/index.js';
import { eventually, sim, type Simulator } from './helpers.js';

let s: Simulator | undefined;
let sync: MailboxSync | undefined;
afterEach(async () => {
  await sync?.stop();
  await s?.close();
  sync = undefined;
  s = undefined;
});

describe('createMailboxSync', () => {
  it('syncs, shows an optimistic update at once, sends it, and converges', async () => {
    s = await sim({ messages: 40 });
    sync = createMailboxSync({ apiKey: s.apiKey, baseUrl: s.url, ...testStore().options, leader: 'always', events: false, apiOptions: { rateLimit: false } });
    await sync.start();
    const target = (await s.snapshot()).messages.find((m) => !m.flags.flagged);
    expect(target).toBeDefined();
    const seen: boolean[] = [];
    sync.message$(target?.id as string).subscribe((m) => seen.push(m?.flags.flagged ?? false));
    await eventually(() => seen.length > 0, 5000, 'first emission');
    const outcome = sync.update([target?.id as string], { flagged: true });
    await eventually(() => seen.at(-1) === true, 5000, 'optimistic flag');
    expect(await outcome).toEqual([expect.objectContaining({ id: target?.id, status: 'applied' })]);
    expect((await s.snapshot()).messages.find((m) => m.id === target?.id)?.flags.flagged).toBe(true);
    await sync.syncNow();
    expect(await sync.snapshot()).toEqual(await s.snapshot());
  });

  it('defaults the database name to sendmux-sync:<mailbox id> from the session', async () => {
    s = await sim({ messages: 10 });
    const store = testStore();
    sync = createMailboxSync({ apiKey: s.apiKey, baseUrl: s.url, ...store.options, leader: 'always', events: false });
    await sync.start();
    expect((await store.databases()).map((d) => d.name)).toContain(`sendmux-sync:${s.mailboxId}`);
  });
});
