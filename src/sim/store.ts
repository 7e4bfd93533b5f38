// The simulator's mailbox: every record, kept consistent after each change
// (folder counters, thread summaries, quotas) and recorded in the change log so each
// record family's state token moves exactly when one of its records changes.
import { ChangeLog, type ChangeKind } from './changelog.js';
import { SELF, generateMailbox, sortedKeywords, submissionFor } from './generator.js';
import { Rng, makeId } from './random.js';
import { makeBody, makeLead, makeSubject, type Person } from './corpus.js';
import { buildMessage, compareReceived, normaliseKeywordPatch, receivedIndex, validateFolderName } from './records.js';
import { SimError, invalidParam, notFound, conflict } from './errors.js';
import type {
  Address,
  Folder,
  FolderRecord,
  Identity,
  MessageRecord,
  ObjectType,
  Quota,
  Submission,
  ThreadRecord,
  ThreadSummary,
} from './types.js';

export interface StoreOptions {
  seed: number;
  messages: number;
  changeLogLimit: number;
  now: () => number;
  epoch: string;
}

/** A versioned record of the small families (identities, quotas, submissions). */
export interface Versioned<T> {
  record: T;
  version: number;
}

/** Inbound mail from "the outside world" (control.deliver). */
export interface DeliverInput {
  subject?: string;
  from?: Address;
  to?: Address[];
  cc?: Address[];
  text?: string;
  html?: string;
  folder_id?: string;
  thread_id?: string;
  keywords?: string[];
  attachments?: Array<{ filename: string; content_type?: string; content?: string; bytes?: Uint8Array }>;
}

/** Flag/keyword patch as the API's batch-update takes it (keywords: set true / clear false). */
export interface FlagPatch {
  seen?: boolean;
  flagged?: boolean;
  keywords?: Record<string, boolean>;
}

export interface UploadedBlob {
  bytes: Uint8Array;
  filename: string;
  content_type: string;
}

export interface OutgoingMessage {
  to: Address[];
  cc?: Address[];
  bcc?: Address[];
  reply_to?: Address[];
  from?: Address;
  subject: string;
  text_body?: string;
  html_body?: string;
  custom_headers?: Record<string, string>;
  attachments?: Array<{ filename: string; content_type: string; content?: string; blob_id?: string }>;
}

/** Collects the effects of one mutation so dependent records are recorded once. */
class Batch {
  readonly messages = new Map<string, ChangeKind>();
  readonly threads = new Set<string>();
  readonly newThreads = new Set<string>();
  readonly folderCounts = new Map<string, [number, number]>();
  quotas = false;
  submissions = new Map<string, ChangeKind>();
  folders = new Map<string, ChangeKind>();
}

const QUOTA_STORAGE_BYTES = 10 * 1024 * 1024 * 1024;
const QUOTA_MESSAGES = 1_000_000;

export class MailboxStore {
  readonly mailboxId: string;
  readonly teamPublicId: string;
  readonly self = SELF;
  readonly createdAt = '2023-01-01T00:00:00.000Z';
  readonly log: ChangeLog;
  readonly messages = new Map<string, MessageRecord>();
  readonly threads = new Map<string, ThreadRecord>();
  readonly folders = new Map<string, FolderRecord>();
  readonly identities = new Map<string, Versioned<Identity>>();
  readonly quotas = new Map<string, Versioned<Quota>>();
  readonly submissions = new Map<string, Versioned<Submission>>();
  readonly blobs = new Map<string, UploadedBlob>();
  /** Every message in ascending (received_at, id) order: the default sort without sorting. */
  readonly byReceived: MessageRecord[] = [];
  readonly topics: Map<string, string>;
  /** The generated cast of correspondents (new deliveries come from them by default). */
  readonly people: Person[];
  readonly now: () => number;
  private readonly rng: Rng;
  private storageUsed = 0;
  private batch: Batch | undefined;
  private readonly receivedListeners: Array<(m: MessageRecord, spam: boolean) => void> = [];

  constructor(options: StoreOptions) {
    const g = generateMailbox({ seed: options.seed, messages: options.messages });
    this.now = options.now;
    this.mailboxId = g.mailboxId;
    this.teamPublicId = g.teamPublicId;
    this.topics = g.topics;
    this.people = g.people;
    this.log = new ChangeLog(options.epoch, options.changeLogLimit);
    this.rng = new Rng((options.seed ^ 0x5eed) >>> 0);
    for (const f of g.folders) this.folders.set(f.id, { folder: f, version: 1 });
    for (const t of g.threads) this.threads.set(t.id, t);
    for (const m of g.messages) {
      this.messages.set(m.summary.id, m);
      this.countIn(m, 1);
      this.storageUsed += m.summary.size_bytes ?? 0;
    }
    this.byReceived.push(...this.messages.values());
    this.byReceived.sort(compareReceived);
    for (const i of g.identities) this.identities.set(i.id, { record: i, version: 1 });
    for (const s of g.submissions) this.submissions.set(s.id, { record: s, version: 1 });
    const storage: Quota = { id: makeId('quota_', this.rng, 10), name: 'Mailbox storage', description: 'Bytes stored in this mailbox.', resource_type: 'octets', scope: 'account', types: ['Mail'], used: 0, hard_limit: QUOTA_STORAGE_BYTES, warn_limit: Math.floor(QUOTA_STORAGE_BYTES * 0.8), soft_limit: Math.floor(QUOTA_STORAGE_BYTES * 0.9) };
    const count: Quota = { id: makeId('quota_', this.rng, 10), name: 'Message count', description: 'Messages stored in this mailbox.', resource_type: 'count', scope: 'account', types: ['Mail'], used: 0, hard_limit: QUOTA_MESSAGES, warn_limit: null, soft_limit: null };
    this.quotas.set(storage.id, { record: storage, version: 1 });
    this.quotas.set(count.id, { record: count, version: 1 });
    this.refreshQuotas();
  }

  // ---------------------------------------------------------------- reads

  get email(): string {
    return this.self.email;
  }

  state(type: ObjectType): string {
    return this.log.stateOf(type);
  }

  folderByRole(role: string): FolderRecord | undefined {
    for (const f of this.folders.values()) if (f.folder.role === role) return f;
    return undefined;
  }

  defaultIdentity(): Versioned<Identity> {
    const first = this.identities.values().next().value;
    if (!first) throw new Error('no identity');
    return first;
  }

  /** Newest message of a thread (chronological order keeps it last). */
  lastMessage(t: ThreadRecord): MessageRecord | undefined {
    const id = t.messageIds[t.messageIds.length - 1];
    return id === undefined ? undefined : this.messages.get(id);
  }

  /** The thread as the list endpoints return it; `states` are the current tokens. */
  threadSummary(t: ThreadRecord): ThreadSummary {
    const first = t.messageIds[0] === undefined ? undefined : this.messages.get(t.messageIds[0]);
    const last = this.lastMessage(t);
    const folderIds: string[] = [];
    const participants: Address[] = [];
    const seenEmail = new Set<string>();
    let unread = 0;
    let hasAttachments = false;
    for (const id of t.messageIds) {
      const m = this.messages.get(id);
      if (!m) continue;
      const s = m.summary;
      if (!s.flags.seen) unread += 1;
      if (s.has_attachments) hasAttachments = true;
      for (const f of s.folder_ids) if (!folderIds.includes(f)) folderIds.push(f);
      for (const a of [...(s.from ? [s.from] : []), ...s.to, ...s.cc]) {
        const key = a.email.toLowerCase();
        if (seenEmail.has(key)) continue;
        seenEmail.add(key);
        participants.push({ email: a.email, name: a.name });
      }
    }
    return {
      id: t.id,
      subject: first?.summary.subject ?? null,
      message_count: t.messageIds.length,
      unread_count: unread,
      has_attachments: hasAttachments,
      folder_ids: folderIds,
      participants,
      // The spec's last_message is not nullable in practice; a thread always has one.
      last_message: (last?.summary ?? null) as ThreadSummary['last_message'],
      states: { thread_state: this.state('threads'), email_state: this.state('messages') },
    };
  }

  /** Receives `message.received` notifications (SSE). */
  onReceived(listener: (m: MessageRecord, spam: boolean) => void): void {
    this.receivedListeners.push(listener);
  }

  newId(prefix: string, length = 16): string {
    return makeId(prefix, this.rng, length);
  }

  // ------------------------------------------------------------ mutations

  /** Runs `fn` as one change: records the messages, threads, folders and quotas it touched. */
  mutate<T>(fn: () => T): T {
    if (this.batch) return fn();
    const batch = new Batch();
    this.batch = batch;
    try {
      return fn();
    } finally {
      this.batch = undefined;
      this.flush(batch);
    }
  }

  private flush(b: Batch): void {
    for (const [id, kind] of b.messages) this.log.record('messages', id, kind);
    for (const id of b.threads) {
      const t = this.threads.get(id);
      if (t && t.messageIds.length === 0) {
        this.threads.delete(id);
        if (!b.newThreads.has(id)) this.log.record('threads', id, 'destroyed');
      } else if (t) {
        t.version += 1;
        this.log.record('threads', id, b.newThreads.has(id) ? 'created' : 'updated');
      }
    }
    for (const [id, kind] of b.folders) this.log.record('folders', id, kind);
    for (const [id, [total, unread]] of b.folderCounts) {
      const f = this.folders.get(id);
      if (!f || b.folders.has(id)) continue;
      if (f.folder.total_messages !== total || f.folder.unread_messages !== unread) {
        f.version += 1;
        this.log.record('folders', id, 'updated');
      }
    }
    if (b.quotas && this.refreshQuotas()) {
      for (const q of this.quotas.values()) this.log.record('quotas', q.record.id, 'updated');
    }
    for (const [id, kind] of b.submissions) this.log.record('submissions', id, kind);
  }

  private current(): Batch {
    if (!this.batch) throw new Error('store mutation outside mutate()');
    return this.batch;
  }

  private markMessage(id: string, kind: ChangeKind): void {
    const b = this.current();
    const prev = b.messages.get(id);
    // Within one mutation: created stays created; anything then destroyed is destroyed.
    if (prev === 'created' && kind !== 'destroyed') return;
    b.messages.set(id, kind);
  }

  /** Adjusts folder counters for a message entering (+1) or leaving (-1) its folders. */
  private countIn(m: MessageRecord, sign: 1 | -1): void {
    for (const fid of m.summary.folder_ids) {
      const f = this.folders.get(fid);
      if (!f) continue;
      if (this.batch && !this.batch.folderCounts.has(fid)) this.batch.folderCounts.set(fid, [f.folder.total_messages, f.folder.unread_messages]);
      f.folder.total_messages += sign;
      if (!m.summary.flags.seen) f.folder.unread_messages += sign;
    }
  }

  private touchThread(threadId: string | null): void {
    if (threadId) this.current().threads.add(threadId);
  }

  /** Recomputes quota usage; true when it changed. */
  private refreshQuotas(): boolean {
    let changed = false;
    for (const q of this.quotas.values()) {
      const used = q.record.resource_type === 'octets' ? this.storageUsed : this.messages.size;
      if (q.record.used !== used) {
        q.record.used = used;
        q.version += 1;
        changed = true;
      }
    }
    return changed;
  }

  /** Adds a message record (delivery or send) and its thread. */
  private insertMessage(m: MessageRecord, threadId: string | null): void {
    const b = this.current();
    let thread = threadId ? this.threads.get(threadId) : undefined;
    if (!thread) {
      thread = { id: this.newId('thr_'), messageIds: [], version: 1 };
      this.threads.set(thread.id, thread);
      b.newThreads.add(thread.id);
    }
    m.summary.thread_id = thread.id;
    // Chronological order: received_at, then id.
    let i = thread.messageIds.length;
    while (i > 0) {
      const prev = this.messages.get(thread.messageIds[i - 1] ?? '');
      if (!prev || prev.receivedMs < m.receivedMs || (prev.receivedMs === m.receivedMs && prev.summary.id < m.summary.id)) break;
      i -= 1;
    }
    thread.messageIds.splice(i, 0, m.summary.id);
    this.messages.set(m.summary.id, m);
    this.byReceived.splice(receivedIndex(this.byReceived, m), 0, m);
    this.countIn(m, 1);
    this.storageUsed += m.summary.size_bytes ?? 0;
    this.markMessage(m.summary.id, 'created');
    this.touchThread(thread.id);
    b.quotas = true;
  }

  private removeMessage(m: MessageRecord): void {
    this.countIn(m, -1);
    this.messages.delete(m.summary.id);
    const at = receivedIndex(this.byReceived, m);
    if (this.byReceived[at] === m) this.byReceived.splice(at, 1);
    this.storageUsed -= m.summary.size_bytes ?? 0;
    const t = m.summary.thread_id ? this.threads.get(m.summary.thread_id) : undefined;
    if (t) t.messageIds = t.messageIds.filter((id) => id !== m.summary.id);
    this.markMessage(m.summary.id, 'destroyed');
    this.touchThread(m.summary.thread_id);
    this.current().quotas = true;
  }

  /** Delivers inbound mail; notifies SSE listeners. */
  deliver(input: DeliverInput): MessageRecord {
    const junk = this.folderByRole('junk')?.folder.id;
    const folderId = input.folder_id ?? this.folderByRole('inbox')?.folder.id ?? '';
    if (!this.folders.has(folderId)) throw notFound('Folder', 'folder_id');
    const thread = input.thread_id ? this.threads.get(input.thread_id) : undefined;
    if (input.thread_id && !thread) throw notFound('Thread', 'thread_id');
    const previous = thread ? this.lastMessage(thread) : undefined;
    const nowMs = this.now();
    // Unspecified parts are generated like the seeded mailbox: a known correspondent
    // (or the thread's other party), an on-topic subject and a realistic body.
    const other = previous?.summary.from && previous.summary.from.email !== this.self.email ? previous.summary.from : undefined;
    const person = this.rng.pick(this.people);
    const from = input.from ?? other ?? { name: person.name, email: person.email };
    const fresh = makeSubject(this.rng);
    const topic = (thread && this.topics.get(thread.id)) || fresh.topic;
    const subject = input.subject ?? (previous ? `Re: ${(previous.summary.subject ?? '').replace(/^Re: /, '')}` : fresh.subject);
    let text: string | null = input.text ?? null;
    let html: string | null = input.html ?? null;
    if (text === null && html === null) {
      const body = makeBody(this.rng.seed(), makeLead(this.rng, topic), topic, from.name ?? from.email, previous?.summary.preview ?? null);
      text = body.text;
      html = body.html;
    }
    const m = buildMessage((prefix, length) => this.newId(prefix, length), {
      subject,
      from,
      to: input.to ?? [{ name: this.self.name, email: this.self.email }],
      cc: input.cc ?? [],
      bcc: [],
      text,
      html,
      folderId,
      seen: false,
      keywords: input.keywords ?? [],
      attachments: (input.attachments ?? []).map((a) => ({
        filename: a.filename,
        content_type: a.content_type ?? 'application/octet-stream',
        bytes: a.bytes ?? new TextEncoder().encode(a.content ?? ''),
      })),
      previous,
      receivedMs: nowMs,
      sentMs: nowMs - 1000,
      extraHeaders: [],
      replyTo: [],
    });
    this.mutate(() => this.insertMessage(m, thread?.id ?? null));
    if (!thread && m.summary.thread_id) this.topics.set(m.summary.thread_id, topic);
    const spam = folderId === junk;
    for (const l of this.receivedListeners) l(m, spam);
    return m;
  }

  /**
   * Applies a flag/keyword patch. docs/search-and-batch.md: keyword names are
   * normalised to lowercase; `$seen`/`$flagged` mirror the seen/flagged flags;
   * lifecycle keywords such as `$draft` are read-only.
   */
  setFlags(ids: readonly string[], patch: FlagPatch): { updated: string[]; notFound: string[] } {
    const normalised = normaliseKeywordPatch(patch.keywords);
    const { found: updated, notFound } = this.eachMessage(ids, (m, id) => {
      const kw = new Set(m.summary.keywords);
      for (const [k, on] of normalised) {
        if (on) kw.add(k);
        else kw.delete(k);
      }
      if (patch.seen !== undefined) {
        if (patch.seen) kw.add('$seen');
        else kw.delete('$seen');
      }
      if (patch.flagged !== undefined) {
        if (patch.flagged) kw.add('$flagged');
        else kw.delete('$flagged');
      }
      const keywords = sortedKeywords(kw);
      const s = m.summary;
      if (keywords.join('\u0000') === s.keywords.join('\u0000')) return;
      // The flags mirror the system keywords ($seen, $flagged, $draft, $answered).
      const seen = kw.has('$seen');
      if (seen !== s.flags.seen) {
        this.countIn(m, -1);
        s.flags = { ...s.flags, seen };
        this.countIn(m, 1);
      }
      s.flags = { seen, flagged: kw.has('$flagged'), draft: kw.has('$draft'), answered: kw.has('$answered') };
      s.keywords = keywords;
      m.version += 1;
      this.markMessage(id, 'updated');
      this.touchThread(s.thread_id);
    });
    return { updated, notFound };
  }

  /** Moves messages to Trash (a message already there stays). */
  trash(ids: readonly string[]): { deleted: string[]; notFound: string[] } {
    const trash = this.folderByRole('trash')?.folder.id;
    const { found: deleted, notFound } = this.eachMessage(ids, (m, id) => {
      if (!trash || (m.summary.folder_ids.length === 1 && m.summary.folder_ids[0] === trash)) return;
      this.countIn(m, -1);
      m.summary.folder_ids = [trash];
      this.countIn(m, 1);
      m.version += 1;
      this.markMessage(id, 'updated');
      this.touchThread(m.summary.thread_id);
    });
    return { deleted, notFound };
  }

  /** Permanently removes messages. */
  destroy(ids: readonly string[]): { deleted: string[]; notFound: string[] } {
    const { found: deleted, notFound } = this.eachMessage(ids, (m) => this.removeMessage(m));
    return { deleted, notFound };
  }

  /** Runs `fn` on each existing message of `ids` in one mutation; reports which ids exist. */
  private eachMessage(ids: readonly string[], fn: (m: MessageRecord, id: string) => void): { found: string[]; notFound: string[] } {
    const found: string[] = [];
    const notFound: string[] = [];
    this.mutate(() => {
      for (const id of ids) {
        const m = this.messages.get(id);
        if (!m) {
          notFound.push(id);
          continue;
        }
        found.push(id);
        fn(m, id);
      }
    });
    return { found, notFound };
  }

  createFolder(name: string, parentId: string | null = null, sortOrder?: number): Folder {
    const clean = validateFolderName(name);
    if (parentId !== null && !this.folders.has(parentId)) throw new SimError(422, 'validation_error', 'Parent folder does not exist.', { param: 'parent_id', errors: [{ field: 'parent_id', code: 'not_found', message: 'Parent folder does not exist.' }] });
    this.assertUniqueName(clean, parentId, undefined);
    const siblings = [...this.folders.values()].filter((f) => f.folder.parent_id === parentId);
    const folder: Folder = {
      id: this.newId('fld_', 10),
      name: clean,
      parent_id: parentId,
      role: null,
      sort_order: sortOrder ?? siblings.reduce((n, f) => Math.max(n, f.folder.sort_order ?? 0), 0) + 1,
      total_messages: 0,
      unread_messages: 0,
      can_add_items: true,
    };
    this.mutate(() => {
      this.folders.set(folder.id, { folder, version: 1 });
      this.current().folders.set(folder.id, 'created');
    });
    return folder;
  }

  updateFolder(id: string, patch: { name?: string; parent_id?: string | null; sort_order?: number }): Folder {
    const f = this.folders.get(id);
    if (!f) throw notFound('Folder', 'folder_id');
    const name = patch.name === undefined ? f.folder.name : validateFolderName(patch.name);
    const parentId = patch.parent_id === undefined ? f.folder.parent_id : patch.parent_id;
    if (parentId !== null) {
      if (!this.folders.has(parentId)) throw invalidParam('parent_id', 'Parent folder does not exist.');
      // No cycles: the new parent must not be this folder or one of its descendants.
      for (let p: string | null = parentId; p !== null; p = this.folders.get(p)?.folder.parent_id ?? null) {
        if (p === id) throw invalidParam('parent_id', 'A folder cannot be moved under itself.');
      }
    }
    this.assertUniqueName(name, parentId, id);
    this.mutate(() => {
      f.folder = { ...f.folder, name, parent_id: parentId, sort_order: patch.sort_order ?? f.folder.sort_order };
      f.version += 1;
      this.current().folders.set(id, 'updated');
    });
    return f.folder;
  }

  deleteFolder(id: string): void {
    const f = this.folders.get(id);
    if (!f) throw notFound('Folder', 'folder_id');
    if (f.folder.role !== null) throw conflict('Built-in folders cannot be deleted.', 'folder_id');
    if (f.folder.total_messages > 0) throw conflict('Only empty folders can be deleted.', 'folder_id');
    if ([...this.folders.values()].some((c) => c.folder.parent_id === id)) throw conflict('Folders with subfolders cannot be deleted.', 'folder_id');
    this.mutate(() => {
      this.folders.delete(id);
      this.current().folders.set(id, 'destroyed');
    });
  }

  private assertUniqueName(name: string, parentId: string | null, except: string | undefined): void {
    for (const f of this.folders.values()) {
      if (f.folder.id !== except && f.folder.parent_id === parentId && f.folder.name.toLowerCase() === name.toLowerCase()) {
        throw new SimError(422, 'validation_error', 'A folder with this name already exists here.', { param: 'name', errors: [{ field: 'name', code: 'duplicate', message: 'A folder with this name already exists here.' }] });
      }
    }
  }

  updateIdentity(patch: { name?: string | null; text_signature?: string | null; html_signature?: string | null }): Identity {
    const idn = this.defaultIdentity();
    this.mutate(() => {
      const next = { ...idn.record };
      if (patch.name !== undefined) next.name = patch.name ?? this.self.name;
      if (patch.text_signature !== undefined) next.text_signature = patch.text_signature ?? '';
      if (patch.html_signature !== undefined) next.html_signature = patch.html_signature ?? '';
      idn.record = next;
      idn.version += 1;
      this.log.record('identities', next.id, 'updated');
    });
    return idn.record;
  }

  /** Sends: a message in Sent, a submission, and a copy in the Inbox when sent to self. */
  send(body: OutgoingMessage): { message: MessageRecord; submission: Submission } {
    let identity = this.defaultIdentity().record;
    if (body.from !== undefined) {
      const wanted = body.from.email.toLowerCase();
      const match = [...this.identities.values()].find((i) => i.record.email.toLowerCase() === wanted);
      if (!match) throw new SimError(422, 'validation_error', `This mailbox cannot send as ${body.from.email}.`, { param: 'from', errors: [{ field: 'from.email', code: 'not_an_identity', message: `This mailbox cannot send as ${body.from.email}.` }] });
      identity = match.record;
    }
    const sent = this.folderByRole('sent')?.folder.id ?? '';
    const attachments = (body.attachments ?? []).map((a) => {
      if (a.blob_id !== undefined) {
        const blob = this.blobs.get(a.blob_id);
        if (!blob) throw new SimError(422, 'validation_error', `Unknown blob_id ${a.blob_id}.`, { param: 'attachments', errors: [{ field: 'attachments', code: 'unknown_blob', message: `Unknown blob_id ${a.blob_id}.` }] });
        return { filename: a.filename, content_type: a.content_type, bytes: blob.bytes };
      }
      return { filename: a.filename, content_type: a.content_type, bytes: new Uint8Array(Buffer.from(a.content ?? '', 'base64')) };
    });
    // docs/operations-and-usage.md: sends append the identity's signature per body format.
    const text = body.text_body !== undefined ? `${body.text_body}${identity.text_signature ? `\n\n${identity.text_signature}` : ''}` : null;
    const html = body.html_body !== undefined ? `${body.html_body}${identity.html_signature}` : null;
    const inReplyTo = body.custom_headers?.['In-Reply-To'];
    const parent = inReplyTo ? [...this.messages.values()].find((m) => m.rfc822Id === inReplyTo) : undefined;
    const nowMs = this.now();
    const from = { email: identity.email, name: body.from?.name ?? identity.name };
    const m = buildMessage((prefix, length) => this.newId(prefix, length), {
      subject: body.subject,
      from,
      to: body.to,
      cc: body.cc ?? [],
      bcc: body.bcc ?? [],
      text,
      html,
      folderId: sent,
      seen: true,
      keywords: [],
      attachments,
      previous: parent,
      receivedMs: nowMs,
      sentMs: nowMs,
      extraHeaders: Object.entries(body.custom_headers ?? {}).map(([name, value]) => ({ name, value })),
      replyTo: body.reply_to ?? [],
    });
    const submission = submissionFor(this.newId('sub_'), identity.id, m);
    this.mutate(() => {
      this.insertMessage(m, parent?.summary.thread_id ?? null);
      submission.thread_id = m.summary.thread_id;
      this.submissions.set(submission.id, { record: submission, version: 1 });
      this.current().submissions.set(submission.id, 'created');
    });
    const toSelf = [...body.to, ...(body.cc ?? []), ...(body.bcc ?? [])].some((a) => a.email.toLowerCase() === this.self.email);
    if (toSelf) {
      this.deliver({ subject: body.subject, from, to: body.to, cc: body.cc ?? [], ...(text !== null ? { text } : {}), ...(html !== null ? { html } : {}), thread_id: m.summary.thread_id ?? undefined });
    }
    return { message: m, submission };
  }
}
