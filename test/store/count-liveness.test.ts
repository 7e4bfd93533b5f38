import { testStore } from '../helpers/storage.js';
import { Subject } from 'rxjs';
import { expect, it } from 'vitest';
import type { Message } from '../../src/api/types.js';
import { putServerRecords } from '../../src/store/apply.js';
import { MailboxDb } from '../../src/store/db.js';
import { createViews } from '../../src/reactive/views.js';
import { eventually } from '../engine/helpers.js';

const msg = (id: string, seen: boolean): Message => ({
  id, thread_id: 't1', folder_ids: ['inbox'], subject: id, preview: null, from: null, to: [], cc: [], bcc: [],
  received_at: '2026-01-01T00:00:00.000Z', sent_at: null, size_bytes: 1, has_attachments: false, keywords: seen ? ['$seen'] : [],
  flags: { seen, flagged: false, draft: false, answered: false },
});

it('regression: a live count$ of unread re-emits when a message is marked read (Dexie count() over a compound range never re-ran)', async () => {
  const db = new MailboxDb('c', { ...testStore().options });
  await db.open();
  await db.transaction('rw', db.serverTables, () => putServerRecords(db, 'messages', [msg('a', false), msg('b', false)]));
  const stop = new Subject<void>();
  const views = createViews(Promise.resolve(db), stop);
  const counts: number[] = [];
  views.count$({ folderId: 'inbox', unread: true }).subscribe((n) => counts.push(n));
  await eventually(() => counts.length === 1, 5000, 'first');
  await db.transaction('rw', db.serverTables, () => putServerRecords(db, 'messages', [msg('a', true)]));
  await eventually(() => counts.length === 2, 5000, `second (got ${counts})`);
  expect(counts).toEqual([2, 1]);
  stop.next();
  db.close();
});
