// Seeded generator of a realistic mailbox: standard folders with roles plus custom
// ones, threads of 1–20 messages among a fixed cast, read/unread/flagged mixes,
// keywords, attachments, drafts, spam. Deterministic for a seed; bodies are lazy.
import { Rng, makeId } from './random.js';
import { KEYWORDS, makeLead, makePeople, makeSubject, pickAttachmentKind, type Person } from './corpus.js';
import type { Address, Folder, Identity, MessageRecord, StoredAttachment, Submission, ThreadRecord } from './types.js';

export interface GeneratorOptions {
  seed: number;
  messages: number;
  /** Newest generated mail is received shortly before this instant (ms). */
  endTime?: number;
}

export interface GeneratedMailbox {
  mailboxId: string;
  teamPublicId: string;
  self: Person;
  people: Person[];
  folders: Folder[];
  messages: MessageRecord[];
  threads: ThreadRecord[];
  identities: Identity[];
  submissions: Submission[];
  /** Topic per thread id, so later deliveries into a thread stay on topic. */
  topics: Map<string, string>;
}

/** Fixed default: generated data does not depend on the wall clock. */
export const DEFAULT_END_TIME = Date.UTC(2026, 0, 1);
const SPAN_MS = 3 * 365 * 24 * 3600 * 1000;

export const SELF: Person = { name: 'Sam Agent', email: 'agent@example.com' };

const STANDARD_FOLDERS: Array<[string, string | null]> = [
  ['Inbox', 'inbox'],
  ['Sent', 'sent'],
  ['Drafts', 'drafts'],
  ['Trash', 'trash'],
  ['Junk', 'junk'],
  ['Archive', 'archive'],
  ['Projects', null],
  ['Receipts', null],
  ['Travel', null],
];

/** Thread sizes: mostly short conversations, a long tail up to 20. */
function threadSize(rng: Rng): number {
  const r = rng.next();
  if (r < 0.45) return 1;
  if (r < 0.7) return 2;
  if (r < 0.85) return rng.int(3, 5);
  if (r < 0.96) return rng.int(6, 10);
  return rng.int(11, 20);
}

export function generateMailbox(options: GeneratorOptions): GeneratedMailbox {
  const rng = new Rng(options.seed);
  const endTime = options.endTime ?? DEFAULT_END_TIME;
  const mailboxId = makeId('mbx_', rng);
  const teamPublicId = makeId('team_', rng, 12);
  const people = makePeople(rng, 40);
  // makePeople appends the service senders after the humans.
  const humans = people.slice(0, -7);
  const services = people.slice(-7);

  const folders: Folder[] = STANDARD_FOLDERS.map(([name, role], i) => ({
    id: makeId('fld_', rng, 10),
    name,
    parent_id: null,
    role,
    sort_order: i + 1,
    total_messages: 0,
    unread_messages: 0,
    can_add_items: true,
  }));
  const projects = folders[6];
  if (projects) {
    folders.push({ id: makeId('fld_', rng, 10), name: '2026', parent_id: projects.id, role: null, sort_order: 1, total_messages: 0, unread_messages: 0, can_add_items: true });
  }
  const byRole = (role: string): string => folders.find((f) => f.role === role)?.id ?? '';
  const inbox = byRole('inbox');
  const sent = byRole('sent');
  const drafts = byRole('drafts');
  const trash = byRole('trash');
  const junk = byRole('junk');
  const archive = byRole('archive');
  const custom = folders.filter((f) => f.role === null).map((f) => f.id);

  const messages: MessageRecord[] = [];
  const threads: ThreadRecord[] = [];
  const topics = new Map<string, string>();
  const target = Math.max(0, Math.floor(options.messages));

  while (messages.length < target) {
    const size = Math.min(threadSize(rng), target - messages.length);
    const threadId = makeId('thr_', rng);
    const kind = rng.next();
    const isSpam = kind < 0.04;
    const isService = !isSpam && kind < 0.2;
    const { subject, topic } = makeSubject(rng);
    topics.set(threadId, topic);
    const start = endTime - Math.floor(rng.next() * SPAN_MS) - 3600_000;
    const other = isService ? rng.pick(services) : rng.pick(humans);
    const cc: Address[] = !isService && rng.chance(0.2) ? [pickOther(rng, humans, other)] : [];
    const home = isSpam ? junk : rng.chance(0.6) ? inbox : rng.chance(0.6) ? archive : rng.chance(0.7) ? rng.pick(custom) : trash;
    const thread: ThreadRecord = { id: threadId, messageIds: [], version: 1 };
    let at = start;
    let previous: MessageRecord | undefined;
    for (let i = 0; i < size; i++) {
      const outbound = !isSpam && !isService && i % 2 === 1 && rng.chance(0.85);
      const isDraft = outbound && i === size - 1 && rng.chance(0.08);
      const from: Address = outbound ? { ...SELF } : { name: other.name, email: other.email };
      const to: Address[] = outbound ? [{ name: other.name, email: other.email }] : [{ name: SELF.name, email: SELF.email }];
      const folderId = isDraft ? drafts : outbound ? sent : home;
      const msg = makeMessage(rng, {
        threadId,
        subject: i === 0 ? subject : `Re: ${subject}`,
        topic,
        from,
        to,
        cc: i === 0 ? cc : [],
        bcc: outbound && rng.chance(0.05) ? [{ name: null, email: 'archive@example.com' }] : [],
        folderId,
        receivedMs: at,
        outbound,
        isDraft,
        isService,
        previous,
        recent: at > endTime - 14 * 24 * 3600 * 1000,
      });
      if (previous && outbound && !previous.summary.flags.answered && previous.summary.from?.email !== SELF.email) {
        previous.summary.flags.answered = true;
        previous.summary.keywords = sortedKeywords([...previous.summary.keywords, '$answered']);
      }
      messages.push(msg);
      thread.messageIds.push(msg.summary.id);
      previous = msg;
      at += rng.int(5, 60 * 24) * 60_000;
    }
    threads.push(thread);
  }

  const identities: Identity[] = [
    { id: makeId('idn_', rng, 10), name: SELF.name, email: SELF.email, reply_to: [], bcc: [], text_signature: `-- \n${SELF.name}`, html_signature: `<p>-- <br>${SELF.name}</p>`, may_delete: false },
    { id: makeId('idn_', rng, 10), name: 'Support', email: 'support@example.com', reply_to: [{ name: 'Support', email: 'support@example.com' }], bcc: [], text_signature: 'The Support Team', html_signature: '<p>The Support Team</p>', may_delete: true },
  ];
  const defaultIdentity = identities[0];

  // Submissions exist for the most recent outbound mail (older sends predate tracking).
  const submissions: Submission[] = [];
  const outboundRecent = messages.filter((m) => m.summary.folder_ids[0] === sent).sort((a, b) => b.receivedMs - a.receivedMs).slice(0, 100);
  for (const m of outboundRecent) {
    submissions.push(submissionFor(makeId('sub_', rng), defaultIdentity?.id ?? null, m));
  }

  return { mailboxId, teamPublicId, self: SELF, people, folders, messages, threads, identities, submissions, topics };
}

function pickOther(rng: Rng, people: Person[], not: Person): Address {
  for (let i = 0; i < 5; i++) {
    const p = rng.pick(people);
    if (p.email !== not.email) return { name: p.name, email: p.email };
  }
  return { name: null, email: 'team@example.com' };
}

export function sortedKeywords(keywords: Iterable<string>): string[] {
  return [...new Set(keywords)].sort();
}

interface MessageInput {
  threadId: string;
  subject: string;
  topic: string;
  from: Address;
  to: Address[];
  cc: Address[];
  bcc: Address[];
  folderId: string;
  receivedMs: number;
  outbound: boolean;
  isDraft: boolean;
  isService: boolean;
  previous: MessageRecord | undefined;
  recent: boolean;
}

function makeMessage(rng: Rng, input: MessageInput): MessageRecord {
  const id = makeId('msg_', rng);
  const seed = rng.seed();
  const lead = makeLead(rng, input.topic);
  const seen = input.outbound || input.isDraft || rng.chance(input.recent ? 0.45 : 0.9);
  const flagged = rng.chance(0.05);
  const keywords: string[] = [];
  if (seen) keywords.push('$seen');
  if (flagged) keywords.push('$flagged');
  if (input.isDraft) keywords.push('$draft');
  if (rng.chance(0.15)) keywords.push(rng.pick(KEYWORDS));
  const attachments: StoredAttachment[] = [];
  if (!input.isDraft && rng.chance(input.isService ? 0.3 : 0.12)) {
    const count = rng.int(1, 3);
    for (let i = 0; i < count; i++) {
      const [filename, contentType] = pickAttachmentKind(rng);
      const inline = contentType.startsWith('image/') && rng.chance(0.3);
      const attId = makeId('att_', rng, 12);
      attachments.push({
        seed: rng.seed(),
        meta: {
          id: attId,
          filename,
          content_type: contentType,
          size_bytes: rng.int(512, 256 * 1024),
          disposition: inline ? 'inline' : 'attachment',
          content_id: inline ? `<${attId}@example.com>` : null,
        },
      });
    }
  }
  const domain = input.from.email.split('@')[1] ?? 'example.com';
  const references = input.previous ? [...input.previous.references, input.previous.rfc822Id].slice(-10) : [];
  const sizeBytes = 900 + lead.length * 6 + attachments.reduce((n, a) => n + Math.ceil((a.meta.size_bytes ?? 0) * 1.37), 0);
  const sentMs = input.receivedMs - rng.int(1, 90) * 1000;
  return {
    summary: {
      id,
      thread_id: input.threadId,
      folder_ids: [input.folderId],
      subject: input.subject,
      preview: lead,
      from: input.from,
      to: input.to,
      cc: input.cc,
      bcc: input.bcc,
      received_at: new Date(input.receivedMs).toISOString(),
      sent_at: new Date(sentMs).toISOString(),
      size_bytes: sizeBytes,
      has_attachments: attachments.length > 0,
      keywords: sortedKeywords(keywords),
      flags: { seen, flagged, draft: input.isDraft, answered: false },
      attachments: attachments.map((a) => a.meta),
    },
    receivedMs: input.receivedMs,
    sentMs,
    seed,
    quoted: input.previous?.summary.preview ?? null,
    attachments,
    rfc822Id: `<${id.slice(4)}@${domain}>`,
    inReplyTo: input.previous?.rfc822Id ?? null,
    references,
    replyTo: [],
    extraHeaders: input.isService ? [{ name: 'List-Unsubscribe', value: `<https://${domain}/unsubscribe>` }, { name: 'X-Mailer', value: 'BulkSender 2.1' }] : [{ name: 'X-Mailer', value: 'Sendmux Mail' }],
    version: 1,
  };
}

/** A final, delivered submission record for a sent message. */
export function submissionFor(id: string, identityId: string | null, m: MessageRecord): Submission {
  const rcpts = [...m.summary.to, ...m.summary.cc, ...m.summary.bcc];
  return {
    id,
    identity_id: identityId,
    email_id: m.summary.id,
    thread_id: m.summary.thread_id,
    send_at: m.summary.sent_at,
    undo_status: 'final',
    envelope: {
      mail_from: { email: m.summary.from?.email ?? SELF.email, parameters: null },
      rcpt_to: rcpts.map((a) => ({ email: a.email, parameters: null })),
    },
    delivery_status: rcpts.map((a) => ({ email: a.email, smtp_reply: '250 2.0.0 OK', delivered: 'yes', displayed: 'unknown' })),
    dsn_blob_ids: [],
    mdn_blob_ids: [],
  };
}
