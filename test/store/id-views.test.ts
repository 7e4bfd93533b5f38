// messageIds$ / messagesById$: the keys-only list view a virtual list renders from.
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { Subject } from 'rxjs';
import { expect, it } from 'vitest';
import type { Message } from '../../src/api/types.js';
import { putServerRecords } from '../../src/store/apply.js';
import { MailboxDb } from '../../src/store/db.js';
import { createViews } from '../../src/reactive/views.js';
import { eventually } from '../engine/helpers.js';

const msg = (id: string, minute: number, seen = false): Message => ({
  id, thread_id: 't1', folder_ids: ['inbox'], subject: id, preview: null, from: null, to: [], cc: [], bcc: [],
  received_at: new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString(), sent_at: null, size_bytes: 1, has_attachments: false,
  keywords: seen ? ['$seen'] : [], flags: { seen, flagged: false, draft: false, answered: false },
});

it('messageIds$ follows arrivals, departures and unread changes; messagesById$ follows record edits of its slice only', async () => {
  const db = new MailboxDb('ids', { indexedDB: new IDBFactory(), IDBKeyRange });
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
