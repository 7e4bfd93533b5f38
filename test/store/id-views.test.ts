// messageIds$ / messagesById$: the keys-only list view a virtual list renders from.
import { testStore } from '../helpers/storage.js';
import { Subject } from 'rxjs';
import { expect, it } from 'vitest';
import type { Message } from '../../src/api/types.js';
import { putServerRecords } from '../../src/store/apply.js';
import { MailboxDb } from '../../src/store/db.js';
import { createViews, liveView } from '../../src/reactive/views.js';
import { eventually } from '../engine/helpers.js';

const msg = (id: string, minute: number, seen = false): Message => ({
  id, thread_id: 't1', folder_ids: ['inbox'], subject: id, preview: null, from: null, to: [], cc: [], bcc: [],
  received_at: new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString(), sent_at: null, size_bytes: 1, has_attachments: false,
  keywords: seen ? ['$seen'] : [], flags: { seen, flagged: false, draft: false, answered: false },
});

it('messageIds$ follows arrivals, departures and unread changes; messagesById$ follows record edits of its slice only', async () => {
  const db = new MailboxDb('ids', { ...testStore().options });
  await db.open();
  await db.transaction('rw', db.serverTables, () => putServerRecords(db, 'messages', [msg('a', 1), msg('b', 2), msg('c', 3)]));
  const stop = new Subject<void>();
  const views = createViews(Promise.resolve(db), stop);
  const all: string[][] = [];
  const unread: string[][] = [];
  const rows: (string | undefined)[][] = [];
  views.messageIds$({ folderId: 'inbox' }).subscribe((ids) => all.push(ids));
  views.messageIds$({ folderId: 'inbox', unread: true }).subscribe((ids) => unread.push(ids));
  views.messagesById$(['b', 'zz']).subscribe((ms) => rows.push(ms.map((m) => m && `${m.id}:${m.flags.seen ? 'read' : 'unread'}`)));
  await eventually(() => all.length === 1 && unread.length === 1 && rows.length === 1, 5000, 'first emissions');
  expect(all[0]).toEqual(['c', 'b', 'a']);
  expect(rows[0]).toEqual(['b:unread', undefined]);

  await db.transaction('rw', db.serverTables, () => putServerRecords(db, 'messages', [msg('d', 4)]));
  await eventually(() => all.length === 2, 5000, `arrival (got ${JSON.stringify(all)})`);
  expect(all[1]).toEqual(['d', 'c', 'b', 'a']);

  await db.transaction('rw', db.serverTables, () => putServerRecords(db, 'messages', [msg('b', 2, true)]));
  await eventually(() => unread.at(-1)?.join() === 'd,c,a' && rows.length === 2, 5000, `read (got ${JSON.stringify(unread)} ${JSON.stringify(rows)})`);
  expect(rows[1]).toEqual(['b:read', undefined]);

  await db.transaction('rw', db.serverTables, () => putServerRecords(db, 'messages', [], ['c']));
  await eventually(() => all.at(-1)?.join() === 'd,b,a', 5000, `departure (got ${JSON.stringify(all)})`);
  // The slice did not contain c: its view did not re-emit.
  expect(rows.length).toBe(2);
  stop.next();
  db.close();
});

it('burst pacing: 40 back-to-back commits cost a few reads of a paced view, every one for an unpaced view, and both end on the final state', async () => {
  const db = new MailboxDb('paced', { ...testStore().options });
  await db.open();
  const stop = new Subject<void>();
  const reads = { paced: 0, unpaced: 0 };
  const keys = (which: keyof typeof reads) => async (d: MailboxDb) => {
    reads[which]++;
    return (await d.folderIndex.where('[folder_id+received_key+id]').between(['inbox', -Infinity], ['inbox', Infinity]).primaryKeys()).length;
  };
  const last = { paced: -1, unpaced: -1 };
  liveView(Promise.resolve(db), keys('paced'), stop, { minIntervalMs: 150 }).subscribe((n) => (last.paced = n));
  liveView(Promise.resolve(db), keys('unpaced'), stop).subscribe((n) => (last.unpaced = n));
  await eventually(() => last.paced === 0 && last.unpaced === 0, 5000, 'first reads');
  for (let i = 0; i < 40; i++) {
    await db.transaction('rw', db.serverTables, () => putServerRecords(db, 'messages', [msg(`p${i}`, i)]));
    await new Promise((r) => setTimeout(r, 5));
  }
  await eventually(() => last.paced === 40 && last.unpaced === 40, 5000, `final state (got ${JSON.stringify(last)})`);
  // An isolated change after the burst still shows without waiting for a pause.
  await new Promise((r) => setTimeout(r, 400));
  const readsBefore = reads.paced;
  await db.transaction('rw', db.serverTables, () => putServerRecords(db, 'messages', [msg('late', 59)]));
  await eventually(() => last.paced === 41, 5000, 'isolated change');
  // One re-run of the still-subscribed query, not a paused re-subscription.
  expect(reads.paced - readsBefore).toBe(1);
  expect(reads.unpaced).toBeGreaterThan(20);
  expect(reads.paced).toBeLessThan(reads.unpaced / 2);
  stop.next();
  db.close();
});
