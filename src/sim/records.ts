// Building message records and the small validation rules shared by mutations.
import { sortedKeywords } from './generator.js';
import { SimError, invalidParam } from './errors.js';
import type { Address, MessageRecord, StoredAttachment } from './types.js';

/** A new message record (deliveries and sends); the store assigns its thread. */
export function buildMessage(newId: (prefix: string, length?: number) => string, p: {
  subject: string;
  from: Address;
  to: Address[];
  cc: Address[];
  bcc: Address[];
  text: string | null;
  html: string | null;
  folderId: string;
  seen: boolean;
  keywords: string[];
  attachments: Array<{ filename: string; content_type: string; bytes: Uint8Array }>;
  previous: MessageRecord | undefined;
  receivedMs: number;
  sentMs: number;
  extraHeaders: { name: string; value: string }[];
  replyTo: Address[];
}): MessageRecord {
  const id = newId('msg_');
  const attachments: StoredAttachment[] = p.attachments.map((a) => ({
    seed: 0,
    bytes: a.bytes,
    meta: { id: newId('att_', 12), filename: a.filename, content_type: a.content_type, size_bytes: a.bytes.length, disposition: 'attachment', content_id: null },
  }));
  const keywords = p.keywords.map((k) => k.toLowerCase());
  if (p.seen) keywords.push('$seen');
  const bodyBytes = (p.text?.length ?? 0) + (p.html?.length ?? 0);
  const preview = (p.text ?? stripTags(p.html ?? '')).replace(/\s+/g, ' ').trim().slice(0, 160) || null;
  const domain = p.from.email.split('@')[1] ?? 'example.com';
  return {
    summary: {
      id,
      thread_id: null,
      folder_ids: [p.folderId],
      subject: p.subject,
      preview,
      from: p.from,
      to: p.to,
      cc: p.cc,
      bcc: p.bcc,
      received_at: new Date(p.receivedMs).toISOString(),
      sent_at: new Date(p.sentMs).toISOString(),
      size_bytes: 600 + bodyBytes + attachments.reduce((n, a) => n + Math.ceil((a.meta.size_bytes ?? 0) * 1.37), 0),
      has_attachments: attachments.length > 0,
      keywords: sortedKeywords(keywords),
      flags: { seen: p.seen, flagged: false, draft: false, answered: false },
      attachments: attachments.map((a) => a.meta),
    },
    receivedMs: p.receivedMs,
    sentMs: p.sentMs,
    seed: 0,
    text: p.text,
    html: p.html,
    attachments,
    rfc822Id: `<${id.slice(4)}@${domain}>`,
    inReplyTo: p.previous?.rfc822Id ?? null,
    references: p.previous ? [...p.previous.references, p.previous.rfc822Id].slice(-10) : [],
    replyTo: p.replyTo,
    extraHeaders: p.extraHeaders,
    version: 1,
  };
}

export function compareReceived(a: MessageRecord, b: MessageRecord): number {
  return a.receivedMs - b.receivedMs || (a.summary.id < b.summary.id ? -1 : a.summary.id > b.summary.id ? 1 : 0);
}

/** First index in `list` whose message sorts at or after `m`. */
export function receivedIndex(list: MessageRecord[], m: MessageRecord): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareReceived(list[mid] as MessageRecord, m) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function stripTags(html: string): string {
  return html.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
}

export function validateFolderName(name: string): string {
  const clean = name.trim();
  if (clean.length === 0 || clean.length > 255 || clean.includes('/')) {
    throw new SimError(422, 'validation_error', 'Folder names must be 1–255 characters without "/".', { param: 'name', errors: [{ field: 'name', code: 'invalid', message: 'Folder names must be 1–255 characters without "/".' }] });
  }
  return clean;
}

const KEYWORD_RE = /^[\x21-\x7e]{1,255}$/;
const FORBIDDEN_KEYWORD_CHARS = /[(){\]%*"\\]/;
const READ_ONLY_KEYWORDS = new Set(['$draft']);

/** Validates and lowercases a keyword patch (docs/search-and-batch.md). */
export function normaliseKeywordPatch(keywords: Record<string, boolean> | undefined): Array<[string, boolean]> {
  if (!keywords) return [];
  const out: Array<[string, boolean]> = [];
  for (const [raw, on] of Object.entries(keywords)) {
    const k = raw.toLowerCase();
    if (!KEYWORD_RE.test(k) || FORBIDDEN_KEYWORD_CHARS.test(k)) throw invalidParam(`keywords.${raw}`, `Invalid keyword "${raw}".`);
    if (READ_ONLY_KEYWORDS.has(k)) throw invalidParam(`keywords.${raw}`, `Keyword ${k} is read-only.`);
    out.push([k, on]);
  }
  return out;
}
