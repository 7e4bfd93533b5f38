// Input validation of server records before they reach the replica (issue #10:
// hostile input). Every record a read path writes passes the check of its type: a
// record missing a field the spec marks required, or carrying a mistyped one, is
// refused with a protocol_error and the page it came in is never committed.
//
// One table per type, field → kind, mirroring the spec schema's `required` list and
// declared types (mailbox-openapi.json components MailboxMessageSummary,
// MailboxFolder, MailboxThreadSummary, MailboxIdentity, MailboxQuota,
// MailboxSubmission); test/hostile/records.test.ts derives the same lists from the
// spec and fails when they drift. Nested records are checked where the replica reads
// into them: message flags (the folder index's unread/flagged keys) and a thread's
// `last_message` (the `last_message.received_at` index, the overlay's
// `last_message.id`). Fields the spec does not declare are let through: a newer
// server may add some.
import type { Folder, Identity, Message, Quota, Submission, Thread } from '../api/index.js';
import type { RecordOf, SyncType } from '../store/apply.js';
import { SyncError } from './errors.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string';

/** Predicates of the JSON types the spec declares (`integer` is JSON Schema's: a whole number). */
const KINDS = {
  string: isStr,
  'string|null': (v: unknown) => v === null || isStr(v),
  integer: (v: unknown) => Number.isInteger(v),
  'integer|null': (v: unknown) => v === null || Number.isInteger(v),
  boolean: (v: unknown) => typeof v === 'boolean',
  'string[]': (v: unknown) => Array.isArray(v) && v.every(isStr),
  'object[]': (v: unknown) => Array.isArray(v) && v.every(isObject),
  object: isObject,
  'object|null': (v: unknown) => v === null || isObject(v),
  // MailboxMessageFlags: four required booleans; the replica's membership keys read them.
  flags: (v: unknown) => isObject(v) && ['seen', 'flagged', 'draft', 'answered'].every((k) => typeof v[k] === 'boolean'),
  // MailboxThreadSummary.last_message: a MailboxMessageSummary or null.
  'message|null': (v: unknown) => v === null || (isObject(v) && isStr(v.id) && v.id !== '' && mistyped('messages', v).length === 0 && oversized('messages', v).length === 0),
} satisfies Record<string, (v: unknown) => boolean>;

type Kind = keyof typeof KINDS;

/** What one sync type's record must carry besides a non-empty string `id`. */
interface Shape {
  /** The record's name in error messages. */
  noun: string;
  fields: Readonly<Record<string, Kind>>;
}

const SHAPES: Readonly<Record<SyncType, Shape>> = {
  // MailboxMessageSummary.
  messages: {
    noun: 'message',
    fields: {
      thread_id: 'string|null',
      folder_ids: 'string[]',
      subject: 'string|null',
      preview: 'string|null',
      from: 'object|null',
      to: 'object[]',
      cc: 'object[]',
      bcc: 'object[]',
      received_at: 'string|null',
      sent_at: 'string|null',
      size_bytes: 'integer|null',
      has_attachments: 'boolean',
      keywords: 'string[]',
      flags: 'flags',
    },
  },
  // MailboxFolder: the overlay adds pending deltas to the two counters.
  folders: {
    noun: 'folder',
    fields: {
      name: 'string',
      parent_id: 'string|null',
      role: 'string|null',
      sort_order: 'integer|null',
      total_messages: 'integer',
      unread_messages: 'integer',
      can_add_items: 'boolean',
    },
  },
  // MailboxThreadSummary (the list shape; the detail's `message_ids` is not stored).
  // `folder_ids` is a multi-entry index; the overlay adds deltas to the counters.
  threads: {
    noun: 'thread',
    fields: {
      subject: 'string|null',
      message_count: 'integer',
      unread_count: 'integer',
      has_attachments: 'boolean',
      folder_ids: 'string[]',
      participants: 'object[]',
      last_message: 'message|null',
      states: 'object',
    },
  },
  // MailboxIdentity.
  identities: {
    noun: 'identity',
    fields: {
      name: 'string',
      email: 'string',
      reply_to: 'object[]',
      bcc: 'object[]',
      text_signature: 'string',
      html_signature: 'string',
      may_delete: 'boolean',
    },
  },
  // MailboxQuota.
  quotas: {
    noun: 'quota',
    fields: {
      resource_type: 'string',
      used: 'integer',
      hard_limit: 'integer',
      warn_limit: 'integer|null',
      soft_limit: 'integer|null',
      scope: 'string',
      name: 'string',
      types: 'string[]',
      description: 'string|null',
    },
  },
  // MailboxSubmission (MailboxSubmissionEnvelope is `type: [object, null]`).
  submissions: {
    noun: 'submission',
    fields: {
      identity_id: 'string|null',
      email_id: 'string|null',
      thread_id: 'string|null',
      send_at: 'string|null',
      undo_status: 'string|null',
      envelope: 'object|null',
      delivery_status: 'object[]',
      dsn_blob_ids: 'string[]',
      mdn_blob_ids: 'string[]',
    },
  },
};

/**
 * Size bounds (issue 19: a 50 MB preview was stored as is). A field longer than its
 * bound, or a record larger than {@link MAX_RECORD_CHARS}, is refused like a mistyped
 * one: the page is not committed, so the replica never holds a copy that differs
 * from the server's. The bounds sit far above legitimate data, so a real record
 * always fits and convergence holds.
 * - identities: the spec's own maxLength (UpdateMailboxIdentityBody name 254,
 *   text_signature/html_signature 2047): a server never stores more than it accepts.
 * - message preview: RFC 8621 §4.1.4 caps a preview at 256 characters; 4x that
 *   allows a server counting bytes or adding markup.
 * - subject and every other string: the {@link MAX_STRING_CHARS} default.
 */
const FIELD_MAX_CHARS: Readonly<Partial<Record<SyncType, Readonly<Record<string, number>>>>> = {
  messages: { preview: 1_024 },
  identities: { name: 254, text_signature: 2_047, html_signature: 2_047 },
};
/** Default bound of one string (a subject, a name, an address, a description). */
export const MAX_STRING_CHARS = 16_384;
/** Bound of a whole record: characters of its strings and keys (a message to thousands of recipients fits). */
export const MAX_RECORD_CHARS = 1_000_000;

/** Characters of every string and key in `value`; stops counting past `budget`. */
function charsOf(value: unknown, budget: number): number {
  let total = 0;
  const stack: unknown[] = [value];
  // Plain loops: this runs over every field of every listed record.
  while (stack.length > 0 && total <= budget) {
    const v = stack.pop();
    if (typeof v === 'string') total += v.length;
    else if (typeof v !== 'object' || v === null) total += 1;
    else if (Array.isArray(v)) {
      total += v.length;
      for (let i = 0; i < v.length; i++) stack.push(v[i]);
    } else {
      for (const k in v) {
        if (!Object.hasOwn(v, k)) continue;
        total += k.length + 1;
        stack.push((v as Record<string, unknown>)[k]);
      }
    }
  }
  return total;
}

/** Top-level string fields of a record past their bound, and `(record)` when the whole record is. */
function oversized(type: SyncType, record: Record<string, unknown>): string[] {
  const bad: string[] = [];
  const limits = FIELD_MAX_CHARS[type] ?? {};
  for (const field in record) {
    const v = record[field];
    if (typeof v === 'string' && Object.hasOwn(record, field) && v.length > (Object.hasOwn(limits, field) ? (limits[field] as number) : MAX_STRING_CHARS)) bad.push(field);
  }
  if (charsOf(record, MAX_RECORD_CHARS) > MAX_RECORD_CHARS) bad.push('(record)');
  return bad;
}

/** Each type's fields with the check of their kind, in table order. */
const FIELD_CHECKS: Readonly<Record<string, readonly (readonly [string, (v: unknown) => boolean])[]>> = Object.fromEntries(
  Object.entries(SHAPES).map(([type, shape]) => [type, Object.entries(shape.fields).map(([field, kind]) => [field, KINDS[kind]] as const)]),
);

/** Fields of a record object that are missing or of the wrong kind, in table order. */
function mistyped(type: SyncType, record: Record<string, unknown>): string[] {
  const bad: string[] = [];
  for (const [field, check] of FIELD_CHECKS[type] ?? []) {
    if (!(field in record) || !check(record[field])) bad.push(field);
  }
  return bad;
}

/**
 * Returns `value` as a record of `type`, or throws `SyncError('protocol_error')`
 * naming the missing or mistyped fields. `where` names the call the record came
 * from (e.g. `GET /mailbox/folders`) and prefixes the message.
 */
export function checkRecord<T extends SyncType>(type: T, value: unknown, where: string): RecordOf[T] {
  const { noun } = SHAPES[type];
  const fail = (why: string) => new SyncError('protocol_error', `${where}: ${why}`);
  if (!isObject(value)) throw fail(`${noun} is not an object`);
  if (!isStr(value.id) || value.id === '') throw fail(`${noun} has no id`);
  const bad = mistyped(type, value);
  if (bad.length > 0) throw fail(`${noun} ${value.id} has missing or mistyped ${bad.join(', ')}`);
  const big = oversized(type, value);
  if (big.length > 0) throw fail(`${noun} ${value.id} is larger than the engine accepts (${big.join(', ')})`);
  return value as unknown as RecordOf[T];
}

/** Refuses a message that breaks MailboxMessageSummary (see {@link checkRecord}). */
export function checkMessage(value: unknown, where: string): Message {
  return checkRecord('messages', value, where);
}

/** Refuses a folder that breaks MailboxFolder (see {@link checkRecord}). */
export function checkFolder(value: unknown, where: string): Folder {
  return checkRecord('folders', value, where);
}

/** Refuses a thread that breaks MailboxThreadSummary, its last message included (see {@link checkRecord}). */
export function checkThread(value: unknown, where: string): Thread {
  return checkRecord('threads', value, where);
}

/** Refuses an identity that breaks MailboxIdentity (see {@link checkRecord}). */
export function checkIdentity(value: unknown, where: string): Identity {
  return checkRecord('identities', value, where);
}

/** Refuses a quota that breaks MailboxQuota (see {@link checkRecord}). */
export function checkQuota(value: unknown, where: string): Quota {
  return checkRecord('quotas', value, where);
}

/** Refuses a submission that breaks MailboxSubmission (see {@link checkRecord}). */
export function checkSubmission(value: unknown, where: string): Submission {
  return checkRecord('submissions', value, where);
}

/**
 * Checks every record of one listing page (`data` of a list response) and refuses a
 * page that is not an array or carries an id twice (two versions of one record:
 * which one the replica would keep is undefined).
 */
export function checkPage<T extends SyncType>(type: T, data: unknown, where: string): RecordOf[T][] {
  if (!Array.isArray(data)) throw new SyncError('protocol_error', `${where}: data is not a list`);
  const seen = new Set<string>();
  return data.map((value: unknown) => {
    const record = checkRecord(type, value, where);
    const { id } = record as { id: string };
    if (seen.has(id)) throw new SyncError('protocol_error', `${where}: ${SHAPES[type].noun} ${id} appears twice in one page`);
    seen.add(id);
    return record;
  });
}
