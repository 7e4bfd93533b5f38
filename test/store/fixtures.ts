// Record builders and a fresh database per test (fake-indexeddb).
import { testStore } from '../helpers/storage.js';
import type { Folder, Message, Thread } from '../../src/api/types.js';
import { MailboxDb } from '../../src/store/db.js';

let dbCounter = 0;

/** A new MailboxDb on its own in-memory IndexedDB store. */
export function freshDb(): MailboxDb {
  dbCounter += 1;
  return new MailboxDb(`test-${dbCounter}`, { ...testStore().options });
}

export function message(over: Partial<Message> & { id: string }): Message {
  return {
    thread_id: 't1',
    folder_ids: ['inbox'],
    subject: `subject ${over.id}`,
    preview: 'p',
    from: { email: 'a@example.com', name: 'A' },
    to: [],
    cc: [],
    bcc: [],
    received_at: '2026-01-01T00:00:00.000Z',
    sent_at: null,
    size_bytes: 10,
    has_attachments: false,
    keywords: [],
    flags: { seen: false, flagged: false, draft: false, answered: false },
    ...over,
  };
}

export function folder(id: string, total = 0, unread = 0): Folder {
  return { id, name: id, parent_id: null, role: null, sort_order: 0, total_messages: total, unread_messages: unread, can_add_items: true };
}

/** A server-consistent folder record: counters derived from the given messages. */
export function derivedFolder(id: string, messages: Iterable<Message>): Folder {
  let total = 0;
  let unread = 0;
  for (const m of messages) {
    if (!m.folder_ids.includes(id)) continue;
    total += 1;
    if (!m.flags.seen) unread += 1;
  }
  return folder(id, total, unread);
}

/** A server-consistent thread record derived from the given messages (newest = last). */
export function derivedThread(id: string, messages: Iterable<Message>): Thread | undefined {
  const mine = [...messages].filter((m) => m.thread_id === id);
  if (mine.length === 0) return undefined;
  mine.sort((a, b) => ((a.received_at ?? '') < (b.received_at ?? '') ? -1 : (a.received_at ?? '') > (b.received_at ?? '') ? 1 : a.id < b.id ? -1 : 1));
  const last = mine[mine.length - 1] as Message;
  return {
    id,
    subject: mine[0]?.subject ?? null,
    message_count: mine.length,
    unread_count: mine.filter((m) => !m.flags.seen).length,
    has_attachments: mine.some((m) => m.has_attachments),
    folder_ids: [...new Set(mine.flatMap((m) => m.folder_ids))].sort(),
    participants: [],
    last_message: last,
    states: { thread_state: null, email_state: null },
  };
}
