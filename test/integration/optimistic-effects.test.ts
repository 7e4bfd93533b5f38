// Views that change in one frame (issue 14): an update() reaches this engine's views
// from memory (src/store/effects.ts) before its outbox transaction commits, the
// commit landing changes nothing they show, and a rollback restores what they showed.
// "Before the commit" is checked in the same task as the update() call: no database
// read or write can have completed by then, on either backend.
import { afterEach, expect, it } from 'vitest';
import type { Subscription } from 'rxjs';
import { createMailboxSync, type MailboxSync } from '../../src/index.js';
import type { Folder, Message } from '../../src/api/index.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { MailboxDb } from '../../src/store/db.js';
import { testStore } from '../helpers/storage.js';
import { eventually } from '../engine/helpers.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** Every emission of a view, kept in order. */
function record<T>(subs: Subscription[], source: { subscribe(next: (v: T) => void): Subscription }): T[] {
  const seen: T[] = [];
  subs.push(source.subscribe((v) => seen.push(v)));
  return seen;
}

async function setUp(): Promise<{ sim: Simulator; sync: MailboxSync; inspector: MailboxDb; inbox: string; target: Message }> {
  const sim = await startSimulator({ port: 0, seed: 21, messages: 300, rateLimitPerMinute: 0 });
  cleanup.push(() => sim.close());
  const store = testStore();
  const sync = createMailboxSync({ apiKey: sim.apiKey, baseUrl: sim.url, ...store.options, dbName: 'fx', leader: 'always', events: false, content: { prefetch: false } });
  cleanup.push(() => sync.stop());
  await sync.start();
  const inspector = new MailboxDb('fx', store.options);
  await inspector.open();
  cleanup.push(() => inspector.close());
  const snap = await sim.snapshot();
  const inbox = snap.folders.find((f) => f.role === 'inbox')!.id;
  // The newest unread inbox message: on the first page of the inbox.
  const newest = snap.messages.filter((m) => m.folder_ids.includes(inbox)).sort((a, b) => Date.parse(b.received_at ?? '') - Date.parse(a.received_at ?? ''));
  const target = newest.slice(0, 50).find((m) => !m.flags.seen)!;
  expect(target, 'an unread message on the inbox first page').toBeDefined();
  return { sim, sync, inspector, inbox, target };
}

it('an update shows in every view before its commit, and the commit changes nothing they show', async () => {
  const { sync, inspector, inbox, target } = await setUp();
  const subs: Subscription[] = [];
  cleanup.push(() => subs.forEach((s) => s.unsubscribe()));
  const one = record(subs, sync.message$(target.id));
  const byId = record(subs, sync.messagesById$([target.id]));
  const page = record(subs, sync.messages$({ folderId: inbox, limit: 50 }));
  const unreadPage = record(subs, sync.messages$({ folderId: inbox, unread: true }));
  const unread = record(subs, sync.count$({ folderId: inbox, unread: true }));
  const unreadIds = record(subs, sync.messageIds$({ folderId: inbox, unread: true }));
  const folders = record(subs, sync.folders$());
  const thread = record(subs, sync.thread$(target.thread_id!));
  await eventually(() => [one, byId, page, unreadPage, unread, unreadIds, folders, thread].every((v) => v.length > 0), 10_000, 'first emissions');
  const unreadBefore = unread.at(-1)!;
  const inboxOf = (list: Folder[]) => list.find((f) => f.id === inbox)!;
  const inboxUnreadBefore = inboxOf(folders.at(-1)!).unread_messages;
  const threadUnreadBefore = thread.at(-1)!.thread.unread_count;
  expect(unreadIds.at(-1)).toContain(target.id);

  const outcome = sync.update([target.id], { seen: true });
  // In the same task as the call, so before any database read or commit: the records,
  // the lists holding them, and the counters (from the records the views had read).
  expect(one.at(-1)?.flags.seen).toBe(true);
  expect(byId.at(-1)?.[0]?.flags.seen).toBe(true);
  expect(page.at(-1)!.find((m) => m.id === target.id)?.flags.seen).toBe(true);
  expect(unreadPage.at(-1)!.map((m) => m.id)).not.toContain(target.id);
  expect(unread.at(-1)).toBe(unreadBefore - 1);
  expect(unreadIds.at(-1)).not.toContain(target.id);
  expect(inboxOf(folders.at(-1)!).unread_messages).toBe(inboxUnreadBefore - 1);
  expect(thread.at(-1)!.thread.unread_count).toBe(threadUnreadBefore - 1);
  expect(thread.at(-1)!.messages.find((m) => m.id === target.id)?.flags.seen).toBe(true);
  const marks = { one: one.length, unread: unread.length, folders: folders.length, ids: unreadIds.length };

  expect(await outcome).toMatchObject([{ id: target.id, status: 'applied' }]);
  await eventually(async () => (await inspector.outbox.count()) === 0, 10_000, 'outbox drained');
  // The commit and the acknowledgement landed: nothing shown went back, even for a moment.
  for (const m of one.slice(marks.one - 1)) expect(m?.flags.seen).toBe(true);
  for (const n of unread.slice(marks.unread - 1)) expect(n).toBe(unreadBefore - 1);
  for (const list of folders.slice(marks.folders - 1)) expect(inboxOf(list).unread_messages).toBe(inboxUnreadBefore - 1);
  for (const ids of unreadIds.slice(marks.ids - 1)) expect(ids).not.toContain(target.id);
  expect((await inspector.messages.get(target.id))?.flags.seen).toBe(true);
});

it('a rolled-back update restores exactly what the views showed', async () => {
  const { sim, sync, inbox, target } = await setUp();
  const subs: Subscription[] = [];
  cleanup.push(() => subs.forEach((s) => s.unsubscribe()));
  const one = record(subs, sync.message$(target.id));
  const unread = record(subs, sync.count$({ folderId: inbox, unread: true }));
  const folders = record(subs, sync.folders$());
  await eventually(() => one.length > 0 && unread.length > 0 && folders.length > 0, 10_000, 'first emissions');
  const before = { message: one.at(-1), unread: unread.at(-1), folders: folders.at(-1) };
  await sim.control.failNext({ count: 1, status: 422, path: '/mailbox/messages:batch-update' });
  const outcome = sync.update([target.id], { seen: true, flagged: true });
  expect(one.at(-1)?.flags).toMatchObject({ seen: true, flagged: true });
  expect(await outcome).toMatchObject([{ id: target.id, status: 'rolled_back', reason: 'rejected' }]);
  await eventually(() => JSON.stringify(one.at(-1)) === JSON.stringify(before.message), 5_000, 'the record as before');
  await eventually(() => unread.at(-1) === before.unread, 5_000, 'the count as before');
  await eventually(() => JSON.stringify(folders.at(-1)) === JSON.stringify(before.folders), 5_000, 'the folders as before');
});
