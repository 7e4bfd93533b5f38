// Reply, reply all and forward drafts from a message: recipients, subject prefix
// and the quoted text (the cached body when there is one, else the preview).
import { filter, firstValueFrom, map, race, timer } from 'rxjs';
import type { ComposeDraft } from './Compose.js';
import type { ReplyMode } from './ReadingPane.js';
import { sanitizeHtml, type MailboxSync } from '../../src/index.js';
import type { Address, Identity, Message } from './types.js';
import { formatAddress, longDate, senderName } from './format.js';

/** How long a reply waits for the body before quoting the preview instead. */
const BODY_WAIT_MS = 1500;

/** The body as plain text: the text part, else the sanitized HTML's text. */
async function bodyText(sync: MailboxSync, m: Message): Promise<string> {
  const text = await firstValueFrom(
    race(
      sync.content$(m.id, { include_html: true }).pipe(
        filter((c) => c.status !== 'loading'),
        map((c) => {
          if (c.status !== 'ready') return null;
          const { text: plain, html } = c.content.body;
          if (plain) return plain;
          if (!html) return '';
          // Inert: sanitized, parsed into a document that is never attached or rendered.
          const doc = new DOMParser().parseFromString(sanitizeHtml(html).html, 'text/html');
          return doc.body.textContent ?? '';
        }),
      ),
      timer(BODY_WAIT_MS).pipe(map(() => null)),
    ),
  );
  return (text ?? m.preview ?? '').trim();
}

const prefixed = (prefix: string, subject: string | null) => {
  const s = subject ?? '';
  return new RegExp(`^${prefix}:`, 'i').test(s) ? s : `${prefix}: ${s}`;
};

export async function replyDraft(sync: MailboxSync, m: Message, mode: ReplyMode, identities: Identity[] | null): Promise<ComposeDraft> {
  const mine = new Set((identities ?? []).map((i) => i.email.toLowerCase()));
  const isMine = (a: Address) => mine.has(a.email.toLowerCase());
  // The identity the message was addressed to answers it.
  const fromEmail = [...m.to, ...m.cc].find(isMine)?.email;
  const text = await bodyText(sync, m);
  const when = longDate(m.received_at);
  if (mode === 'forward') {
    const header = [
      '---------- Forwarded message ---------',
      `From: ${m.from ? formatAddress(m.from) : ''}`,
      `Date: ${when}`,
      `Subject: ${m.subject ?? ''}`,
      `To: ${m.to.map(formatAddress).join(', ')}`,
    ].join('\n');
    return { kind: 'forward', relatedId: m.id, ...(fromEmail ? { fromEmail } : {}), to: '', cc: '', subject: prefixed('Fwd', m.subject), body: `\n\n${header}\n\n${text}` };
  }
  // Replying to a message I sent goes to its recipients again.
  const sentByMe = m.from !== null && isMine(m.from);
  const primary: Address[] = sentByMe ? m.to : m.from ? [m.from] : [];
  const seen = new Set(primary.map((a) => a.email.toLowerCase()));
  const cc: Address[] = [];
  if (mode === 'reply-all') {
    for (const a of [...m.to, ...m.cc]) {
      const key = a.email.toLowerCase();
      if (seen.has(key) || isMine(a)) continue;
      seen.add(key);
      cc.push(a);
    }
  }
  const quoted = text.replace(/\n/g, '\n> ');
  return {
    kind: mode,
    relatedId: m.id,
    ...(fromEmail ? { fromEmail } : {}),
    to: primary.map(formatAddress).join(', '),
    cc: cc.map(formatAddress).join(', '),
    subject: prefixed('Re', m.subject),
    body: `\n\nOn ${when}, ${senderName(m.from)} wrote:\n> ${quoted}`,
  };
}
