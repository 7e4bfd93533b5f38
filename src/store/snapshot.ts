// `snapshot()`: every record of every type, sorted by id, in the same shape as the
// simulator's `sim.snapshot()` (DESIGN.md "Public surface"): records as the list
// endpoints return them, minus fields that are not part of a record's state —
// threads' `states` (tokens) and attachments' short-lived `download_url`.
import type { Folder, Identity, Message, Quota, Submission, Thread } from '../api/types.js';
import type { MailboxDb } from './db.js';

/** Every record of every type, sorted by id. */
export interface ReplicaSnapshot {
  messages: Message[];
  threads: Omit<Thread, 'states'>[];
  folders: Folder[];
  identities: Identity[];
  submissions: Submission[];
  quotas: Quota[];
}

function byId<T extends { id: string }>(records: T[]): T[] {
  return records.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** A message without the volatile attachment download URLs. */
export function stableMessage(message: Message): Message {
  if (!message.attachments) return message;
  return {
    ...message,
    attachments: message.attachments.map((a) => {
      const { download_url: _url, ...rest } = a;
      return rest;
    }),
  };
}

/** A thread without its `states` tokens, its last message without download URLs. */
export function stableThread(thread: Thread): Omit<Thread, 'states'> {
  const { states: _states, ...rest } = thread;
  return rest.last_message ? { ...rest, last_message: stableMessage(rest.last_message) } : rest;
}

/** Reads a consistent snapshot (one read transaction over every record table). */
export async function readSnapshot(db: MailboxDb): Promise<ReplicaSnapshot> {
  return db.transaction('r', [db.messages, db.threads, db.folders, db.identities, db.submissions, db.quotas], async () => {
    const [messages, threads, folders, identities, submissions, quotas] = await Promise.all([
      db.messages.toArray(),
      db.threads.toArray(),
      db.folders.toArray(),
      db.identities.toArray(),
      db.submissions.toArray(),
      db.quotas.toArray(),
    ]);
    return {
      messages: byId(messages.map(stableMessage)),
      threads: byId(threads.map(stableThread)),
      folders: byId(folders),
      identities: byId(identities),
      submissions: byId(submissions),
      quotas: byId(quotas),
    };
  });
}
