import { afterEach, describe, expect, it } from 'vitest';
import type { Message, Thread } from '../../src/api/types.js';
import { putServerRecords } from '../../src/store/apply.js';
import type { MailboxDb } from '../../src/store/db.js';
import { countMessages, getMessagesById, getThreadWithMessages, messageComparator, queryMessageIds, queryMessages, queryThreads, type MessageQuery, type ThreadQuery } from '../../src/store/queries.js';
import { readSnapshot } from '../../src/store/snapshot.js';
import { derivedThread, freshDb, message } from './fixtures.js';

let db: MailboxDb | undefined;
afterEach(() => {
  db?.close();
  db = undefined;
});

// A deterministic corpus: 300 messages over 3 folders and 30 threads.
function corpus(): Message[] {
  const out: Message[] = [];
  for (let i = 0; i < 300; i++) {
    const seen = i % 3 !== 0;
    const flagged = i % 7 === 0;
    out.push(
      message({
        id: `m${String(i).padStart(4, '0')}`,
        thread_id: `t${i % 30}`,
        folder_ids: i % 10 === 0 ? ['inbox', 'work'] : [i % 2 === 0 ? 'inbox' : 'archive'],
        subject: `S${(i * 37) % 101}`,
        from: { email: `u${(i * 13) % 17}@example.com`, name: null },
        // Several messages share a timestamp (ties), a few have none.
        received_at: i % 50 === 49 ? null : new Date(Date.UTC(2026, 0, 1) + Math.floor(i / 2) * 60_000).toISOString(),
        sent_at: new Date(Date.UTC(2025, 0, 1) + ((i * 7919) % 300) * 1000).toISOString(),
        size_bytes: (i * 131) % 1000,
        has_attachments: i % 4 === 0,
        keywords: [...(seen ? ['$seen'] : []), ...(flagged ? ['$flagged'] : []), ...(i % 5 === 0 ? ['Work'] : [])],
        flags: { seen, flagged, draft: false, answered: false },
      }),
    );
  }
  return out;
}

// The reference answer: filter + sort + page over all records in memory.
function reference(all: Message[], q: MessageQuery): Message[] {
  const key = (iso: string | null) => (iso ? Date.parse(iso) : -Infinity);
  const lo = q.after === undefined ? -Infinity : key(String(q.after));
  const hi = q.before === undefined ? Infinity : key(String(q.before));
  const filtered = all.filter(
    (m) =>
      (q.folderId === undefined || m.folder_ids.includes(q.folderId)) &&
      (q.threadId === undefined || m.thread_id === q.threadId) &&
      (q.unread === undefined || !m.flags.seen === q.unread) &&
      (q.flagged === undefined || m.flags.flagged === q.flagged) &&
      (q.keyword === undefined || m.keywords.some((k) => k.toLowerCase() === q.keyword?.toLowerCase())) &&
      (q.hasAttachment === undefined || m.has_attachments === q.hasAttachment) &&
      key(m.received_at) >= lo &&
      (q.before === undefined || key(m.received_at) < hi),
  );
  filtered.sort(messageComparator(q.sortBy ?? 'received_at', q.direction ?? 'desc'));
  const offset = q.offset ?? 0;
  return filtered.slice(offset, q.limit === undefined ? undefined : offset + q.limit);
}

describe('local message queries', () => {
  it('match an in-memory reference for every filter, sort and page combination', async () => {
    db = freshDb();
    const all = corpus();
    await db.transaction('rw', db.serverTables, () => putServerRecords(db as MailboxDb, 'messages', all));
    const queries: MessageQuery[] = [];
    for (const folderId of [undefined, 'inbox', 'work'])
      for (const filter of [{}, { unread: true }, { unread: false }, { flagged: true }, { keyword: 'work' }, { hasAttachment: true }, { unread: true, flagged: false }, { after: '2026-01-01T01:00:00.000Z', before: '2026-01-01T02:00:00.000Z' }])
        for (const sortBy of ['received_at', 'sent_at', 'subject', 'from', 'size_bytes'] as const)
          for (const direction of ['asc', 'desc'] as const)
            for (const page of [{}, { limit: 10 }, { limit: 7, offset: 5 }]) queries.push({ folderId, ...filter, sortBy, direction, ...page });
    queries.push({ threadId: 't3' }, { threadId: 't3', unread: true, sortBy: 'subject', direction: 'asc' }, { threadId: 't4', folderId: 'work' });
    for (const q of queries) {
      const got = await queryMessages(db, q);
      const want = reference(all, q);
      expect(got.map((m) => m.id), JSON.stringify(q)).toEqual(want.map((m) => m.id));
      expect(await queryMessageIds(db, q), `ids ${JSON.stringify(q)}`).toEqual(want.map((m) => m.id));
      const { limit: _l, offset: _o, ...unpaged } = q;
      expect(await countMessages(db, q), JSON.stringify(q)).toBe(reference(all, unpaged).length);
    }
  });

  it('deep pages (read by index keys, not by cursor) equal the reference in both directions, and ids resolve to records in order', async () => {
    db = freshDb();
    const all: Message[] = [];
    for (let i = 0; i < 1500; i++) {
      all.push(
        message({
          id: `d${String((i * 7919) % 1500).padStart(5, '0')}`,
          folder_ids: [i % 5 === 0 ? 'archive' : 'inbox'],
          // Pairs share a timestamp, so id tie-breaks matter at every depth.
          received_at: new Date(Date.UTC(2026, 0, 1) + Math.floor(i / 2) * 60_000).toISOString(),
          flags: { seen: i % 3 !== 0, flagged: false, draft: false, answered: false },
        }),
      );
    }
    await db.transaction('rw', db.serverTables, () => putServerRecords(db as MailboxDb, 'messages', all));
    for (const folderId of [undefined, 'inbox'])
      for (const direction of ['asc', 'desc'] as const)
        for (const unread of [undefined, true])
          for (const offset of [0, 499, 501, 900, 1190, 1500]) {
            const q: MessageQuery = { folderId, direction, offset, limit: 40, ...(unread === undefined ? {} : { unread }) };
            const want = reference(all, q).map((m) => m.id);
            expect((await queryMessages(db, q)).map((m) => m.id), JSON.stringify(q)).toEqual(want);
            expect(await queryMessageIds(db, q), `ids ${JSON.stringify(q)}`).toEqual(want);
          }
    const ids = await queryMessageIds(db, { folderId: 'inbox' });
    expect(ids.length).toBe(1200);
    // A deep page opens no cursor (a cursor would step over every skipped row);
    // a near page walks one.
    const cursors = { opened: 0 };
    db.close();
    db.use({
      stack: 'dbcore',
      name: 'count-cursors',
      create: (down) => ({
        ...down,
        table: (name) => {
          const table = down.table(name);
          return { ...table, openCursor: (req) => (cursors.opened++, table.openCursor(req)) };
        },
      }),
    });
    await db.open();
    await queryMessages(db, { folderId: 'inbox', offset: 1100, limit: 40 });
    expect(cursors.opened).toBe(0);
    await queryMessages(db, { folderId: 'inbox', offset: 10, limit: 40 });
    expect(cursors.opened).toBeGreaterThan(0);
    const slice = [...ids.slice(600, 603), 'missing'];
    expect((await getMessagesById(db, slice)).map((m) => m?.id)).toEqual([...ids.slice(600, 603), undefined]);
  });

  it('reads the newest page of a large folder from the index without scanning it', async () => {
    db = freshDb();
    const all = corpus();
    await db.transaction('rw', db.serverTables, () => putServerRecords(db as MailboxDb, 'messages', all));
    // Remove the records behind every index row except the newest 5 of the inbox:
    // the fast path must not need any other record to answer a page of 5.
    const wanted = reference(all, { folderId: 'inbox', limit: 5 });
    const keep = new Set(wanted.map((m) => m.id));
    await db.messages.bulkDelete(all.filter((m) => !keep.has(m.id)).map((m) => m.id));
    expect((await queryMessages(db, { folderId: 'inbox', limit: 5 })).map((m) => m.id)).toEqual(wanted.map((m) => m.id));
  });
});

describe('threads and snapshot', () => {
  it('queries threads by folder and unread, and returns a thread with its messages oldest first', async () => {
    db = freshDb();
    const all = corpus();
    const threads = [...new Set(all.map((m) => m.thread_id as string))].map((t) => derivedThread(t, all)).filter((t) => t !== undefined);
    await db.transaction('rw', db.serverTables, async () => {
      await putServerRecords(db as MailboxDb, 'messages', all);
      await putServerRecords(db as MailboxDb, 'threads', threads);
    });
    const work = await queryThreads(db, { folderId: 'work' });
    expect(work.length).toBe(threads.filter((t) => t.folder_ids.includes('work')).length);
    const keys = work.map((t) => (t.last_message?.received_at ? Date.parse(t.last_message.received_at) : -Infinity));
    expect([...keys].sort((a, b) => b - a)).toEqual(keys);
    const unread = await queryThreads(db, { unread: true, limit: 3 });
    expect(unread.every((t) => t.unread_count > 0)).toBe(true);
    expect(unread.length).toBe(3);
    const t3 = await getThreadWithMessages(db, 't3');
    expect(t3?.messages.map((m) => m.id)).toEqual(reference(all, { threadId: 't3', direction: 'asc' }).map((m) => m.id));
    expect(await getThreadWithMessages(db, 'nope')).toBeUndefined();
  });

  it('thread pages from the received_at index equal the full-scan answer, including threads without a date', async () => {
    db = freshDb();
    const all = corpus();
    const threads = [...new Set(all.map((m) => m.thread_id as string))].map((t) => derivedThread(t, all)).filter((t) => t !== undefined);
    const undated = threads[3] as Thread;
    threads[3] = { ...undated, last_message: undated.last_message ? { ...undated.last_message, received_at: null } : null };
    await db.transaction('rw', db.serverTables, () => putServerRecords(db as MailboxDb, 'threads', threads));
    const key = (t: Thread) => (t.last_message?.received_at ? Date.parse(t.last_message.received_at) : -Infinity);
    const reference = (q: ThreadQuery) => {
      const sign = (q.direction ?? 'desc') === 'asc' ? 1 : -1;
      const list = threads
        .filter((t) => (q.folderId === undefined || t.folder_ids.includes(q.folderId)) && (q.unread === undefined || t.unread_count > 0 === q.unread))
        .sort((a, b) => (key(a) - key(b)) * sign || (a.id < b.id ? -sign : sign));
      const offset = q.offset ?? 0;
      return list.slice(offset, q.limit === undefined ? undefined : offset + q.limit).map((t) => t.id);
    };
    for (const q of [{ limit: 5 }, { limit: 5, offset: 20 }, { limit: 50 }, { folderId: 'work', limit: 2 }, { unread: true, limit: 4, offset: 1 }, { direction: 'asc' as const, limit: 3 }, { limit: 100 }]) {
      expect((await queryThreads(db, q)).map((t) => t.id), JSON.stringify(q)).toEqual(reference(q));
    }
  });

  it('snapshot sorts by id and drops threads states and attachment download URLs', async () => {
    db = freshDb();
    const withAttachment = message({
      id: 'b',
      attachments: [{ id: 'att1', filename: 'a.pdf', content_type: 'application/pdf', size_bytes: 3, disposition: 'attachment', content_id: null, download_url: 'https://x/y?download_token=z' }],
    });
    const thread = derivedThread('t1', [withAttachment]);
    await db.transaction('rw', db.serverTables, async () => {
      await putServerRecords(db as MailboxDb, 'messages', [withAttachment, message({ id: 'a' })]);
      if (thread) await putServerRecords(db as MailboxDb, 'threads', [thread]);
    });
    const snap = await readSnapshot(db);
    expect(snap.messages.map((m) => m.id)).toEqual(['a', 'b']);
    expect(snap.messages[1]?.attachments?.[0]).not.toHaveProperty('download_url');
    expect(snap.threads[0]).not.toHaveProperty('states');
    expect(snap.threads[0]?.last_message?.attachments?.[0]).not.toHaveProperty('download_url');
    expect(await db.messages.get('b')).toEqual(withAttachment);
  });
});
