// Message bodies and the shapes derived from them: detail, raw body, clean content
// (docs/message-content.md), and the capped realtime snapshot (docs/sync.md).
import { attachmentBytes as generatedBytes, makeBody } from './corpus.js';
import { hash32 } from './random.js';
import type { MailboxStore } from './store.js';
import type { Attachment, ContentHeaders, MessageContent, MessageDetail, MessageRecord, RawBody, RealtimeMessage } from './types.js';

/** Realtime body snapshots are capped (docs/sync.md example: 16384). */
export const REALTIME_BODY_MAX_BYTES = 16_384;

const TEXT_CACHE_MAX = 50_000;

export class ContentService {
  private readonly textCache = new Map<string, string>();

  constructor(
    private readonly store: MailboxStore,
    private readonly downloadBase: () => string,
  ) {}

  /** Text and HTML of a message; generated ones are rebuilt from the seed each time. */
  body(m: MessageRecord): { text: string | null; html: string | null } {
    if (m.text !== undefined || m.html !== undefined) return { text: m.text ?? null, html: m.html ?? null };
    // Everything a generated body depends on is fixed at creation, so bodies never change.
    const topic = (m.summary.thread_id && this.store.topics.get(m.summary.thread_id)) || 'update';
    const sender = m.summary.from?.name ?? m.summary.from?.email ?? 'Sender';
    return makeBody(m.seed, m.summary.preview ?? '', topic, sender, m.quoted ?? null);
  }

  /** Body text for searching; bodies are immutable, so a bounded cache by id is safe (destroyed ids are never reused). */
  bodyText(m: MessageRecord): string {
    const hit = this.textCache.get(m.summary.id);
    if (hit !== undefined) return hit;
    const b = this.body(m);
    const text = b.text ?? (b.html ? b.html.replace(/<[^>]*>/g, ' ') : '');
    // When full, stop caching rather than evicting: a full scan would evict every entry
    // before its next use, so a stable half beats a thrashing whole.
    if (this.textCache.size < TEXT_CACHE_MAX) this.textCache.set(m.summary.id, text);
    return text;
  }

  headers(m: MessageRecord): Array<{ name: string; value: string }> {
    const s = m.summary;
    const fmt = (a: { email: string; name: string | null }) => (a.name ? `"${a.name}" <${a.email}>` : a.email);
    const out: Array<{ name: string; value: string }> = [];
    if (s.from) out.push({ name: 'From', value: fmt(s.from) });
    if (s.to.length) out.push({ name: 'To', value: s.to.map(fmt).join(', ') });
    if (s.cc.length) out.push({ name: 'Cc', value: s.cc.map(fmt).join(', ') });
    out.push({ name: 'Subject', value: s.subject ?? '' });
    out.push({ name: 'Date', value: new Date(m.sentMs).toUTCString() });
    out.push({ name: 'Message-ID', value: m.rfc822Id });
    if (m.inReplyTo) out.push({ name: 'In-Reply-To', value: m.inReplyTo });
    if (m.references.length) out.push({ name: 'References', value: m.references.join(' ') });
    if (m.replyTo.length) out.push({ name: 'Reply-To', value: m.replyTo.map(fmt).join(', ') });
    out.push(...m.extraHeaders);
    return out;
  }

  /** Attachment metadata with a short-lived no-header download URL. */
  attachmentsWithUrls(m: MessageRecord): Attachment[] {
    return m.attachments.map((a) => ({
      ...a.meta,
      download_url: `${this.downloadBase()}/mailbox/messages/${m.summary.id}/attachments/${a.meta.id}?download_token=${downloadToken(m.summary.id, a.meta.id)}`,
    }));
  }

  detail(m: MessageRecord): MessageDetail {
    const b = this.body(m);
    return { ...m.summary, attachments: this.attachmentsWithUrls(m), text_body: b.text, html_body: b.html };
  }

  raw(m: MessageRecord, part: 'text' | 'html' | 'both', maxChars: number): RawBody {
    const b = this.body(m);
    let truncated = false;
    const cut = (s: string | null): string | null => {
      if (s === null) return null;
      if (s.length <= maxChars) return s;
      truncated = true;
      return s.slice(0, maxChars);
    };
    const text = part === 'html' ? null : cut(b.text);
    const html = part === 'text' ? null : cut(b.html);
    return {
      id: m.summary.id,
      thread_id: m.summary.thread_id,
      part,
      body: { text, html, is_truncated: truncated, truncated_at_chars: truncated ? maxChars : null },
      states: { email_state: this.store.state('messages') },
    };
  }

  /** Deterministic clean content: signature/quote stripping, links, headers, attachments. */
  clean(m: MessageRecord, o: CleanOptions): MessageContent {
    const b = this.body(m);
    const s = m.summary;
    const useHtml = o.part === 'html' || (o.part === 'auto' && b.text === null && b.html !== null);
    let text = b.text ?? (b.html ? htmlToText(b.html) : null);
    let signatureStripped = false;
    let quotesStripped = false;
    if (text !== null && o.strip_quotes) {
      const stripped = stripQuotes(text);
      quotesStripped = stripped !== text;
      text = stripped;
    }
    if (text !== null && o.strip_signature) {
      const idx = text.indexOf('\n-- \n');
      if (idx >= 0) {
        text = text.slice(0, idx).trimEnd();
        signatureStripped = true;
      }
    }
    const links = o.include_links ? extractLinks(`${b.text ?? ''}\n${b.html ?? ''}`) : [];
    let truncated = false;
    if (text !== null && text.length > o.max_body_chars) {
      text = text.slice(0, o.max_body_chars);
      truncated = true;
    }
    let html = o.include_html || useHtml ? b.html : null;
    if (html !== null && html.length > o.max_body_chars) {
      html = html.slice(0, o.max_body_chars);
      truncated = true;
    }
    const headers: ContentHeaders = { mode: o.include_headers, selected: null, full: null };
    if (o.include_headers === 'selected') {
      headers.selected = { message_id: [m.rfc822Id], in_reply_to: m.inReplyTo, references: m.references, reply_to: m.replyTo };
    } else if (o.include_headers === 'full') {
      headers.full = this.headers(m);
    }
    return {
      id: s.id,
      thread_id: s.thread_id,
      subject: s.subject,
      participants: { from: s.from, to: s.to, cc: s.cc, bcc: s.bcc, reply_to: m.replyTo },
      dates: { received_at: s.received_at, sent_at: s.sent_at },
      body: {
        format: useHtml ? 'html' : 'text',
        text,
        html,
        is_truncated: truncated,
        truncated_at_chars: truncated ? o.max_body_chars : null,
        signature_stripped: signatureStripped,
        quotes_stripped: quotesStripped,
        extracted_links: links,
      },
      headers,
      attachments: o.include_attachments === 'metadata' ? this.attachmentsWithUrls(m) : [],
      states: { email_state: this.store.state('messages'), option_hash: optionHash(o) },
    };
  }

  /** The capped body snapshot carried by `message.received` events. */
  realtime(m: MessageRecord): RealtimeMessage {
    const b = this.body(m);
    let truncated = false;
    const cap = (s: string | null): string | null => {
      if (s === null) return null;
      const bytes = Buffer.from(s, 'utf8');
      if (bytes.length <= REALTIME_BODY_MAX_BYTES) return s;
      truncated = true;
      // Cut on a character boundary.
      return bytes.subarray(0, REALTIME_BODY_MAX_BYTES).toString('utf8').replace(/\uFFFD+$/, '');
    };
    const text = cap(b.text);
    const html = cap(b.html);
    return {
      ...m.summary,
      attachments: m.attachments.map((a) => ({ ...a.meta })),
      rfc5322_message_id: m.rfc822Id,
      body: { text, html, is_truncated: truncated, max_bytes: REALTIME_BODY_MAX_BYTES },
    } as RealtimeMessage;
  }

  /** Bytes of an attachment (explicit or generated from its seed). */
  attachmentBytes(m: MessageRecord, attachmentId: string): { bytes: Uint8Array; contentType: string; filename: string | null } | undefined {
    const a = m.attachments.find((x) => x.meta.id === attachmentId);
    if (!a) return undefined;
    const bytes = a.bytes ?? generatedBytes(a.seed, a.meta.size_bytes ?? 0, a.meta.content_type);
    return { bytes, contentType: a.meta.content_type, filename: a.meta.filename };
  }
}


export interface CleanOptions {
  part: 'auto' | 'text' | 'html';
  max_body_chars: number;
  strip_signature: boolean;
  strip_quotes: boolean;
  include_links: boolean;
  include_html: boolean;
  include_headers: 'none' | 'selected' | 'full';
  include_attachments: 'none' | 'metadata';
}

export function optionHash(o: CleanOptions): string {
  return hash32(JSON.stringify(o));
}

/** Download tokens are derived, so the no-header URL works without server state. */
export function downloadToken(messageId: string, attachmentId: string): string {
  return `dt_${hash32(`${messageId}/${attachmentId}/sim`)}`;
}

function htmlToText(html: string): string {
  return html
    .replace(/<\/p>|<br\s*\/?>/gi, '\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

function stripQuotes(text: string): string {
  const lines = text.split('\n');
  const out: string[] = [];
  for (const line of lines) {
    if (/^On .* wrote:$/.test(line)) break;
    if (line.startsWith('>')) continue;
    out.push(line);
  }
  return out.join('\n').trimEnd();
}

function extractLinks(s: string): string[] {
  const found = s.match(/https?:\/\/[^\s"'<>)]+/g) ?? [];
  return [...new Set(found.filter((u) => !u.includes('track.example.com') && !u.includes('images.example.com')))];
}
