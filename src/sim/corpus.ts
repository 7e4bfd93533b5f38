// Word lists and text builders for realistic generated mail. Bodies are rebuilt
// from a per-message seed on demand, so 100k messages cost only their summaries.
import { Rng } from './random.js';
import type { Address } from './types.js';

const FIRST = ['Ada', 'Grace', 'Linus', 'Margaret', 'Alan', 'Barbara', 'Ken', 'Radia', 'Dennis', 'Frances', 'Tim', 'Hedy', 'Guido', 'Sophie', 'Yukihiro', 'Anders', 'Joan', 'Edsger', 'Katherine', 'Bjarne', 'Lynn', 'Donald', 'Carol', 'Niklaus', 'Shafi', 'Leslie', 'Mary', 'Vint', 'Jean', 'Whitfield'];
const LAST = ['Lovelace', 'Hopper', 'Torvalds', 'Hamilton', 'Turing', 'Liskov', 'Thompson', 'Perlman', 'Ritchie', 'Allen', 'Berners-Lee', 'Lamarr', 'van Rossum', 'Wilson', 'Matsumoto', 'Hejlsberg', 'Clarke', 'Dijkstra', 'Johnson', 'Stroustrup', 'Conway', 'Knuth', 'Shaw', 'Wirth', 'Goldwasser', 'Lamport', 'Keller', 'Cerf', 'Sammet', 'Diffie'];
const DOMAINS = ['example.com', 'example.org', 'acme.test', 'globex.test', 'initech.test', 'umbrella.test', 'hooli.test', 'stark.test', 'wayne.test', 'piedpiper.test'];
const SERVICES: Array<[string, string]> = [
  ['GitHub', 'notifications@github.test'],
  ['Linear', 'updates@linear.test'],
  ['Stripe', 'receipts@stripe.test'],
  ['Calendar', 'calendar@example.com'],
  ['Newsletter Weekly', 'news@newsletter.test'],
  ['Shop Deals', 'deals@shop.test'],
  ['Travel Desk', 'bookings@travel.test'],
];
const TOPICS = ['invoice', 'quarterly report', 'launch plan', 'design review', 'contract renewal', 'onboarding', 'API migration', 'budget', 'roadmap', 'offsite', 'security audit', 'hiring loop', 'customer feedback', 'release notes', 'incident follow-up', 'pricing update', 'partnership', 'data export', 'support ticket', 'team lunch'];
const SUBJECT_TEMPLATES = ['Question about the {t}', '{T} for next week', 'Re-checking the {t}', 'Draft: {t}', 'Notes from the {t} call', 'Can we move the {t}?', 'Update on {t}', '{T} — action needed', 'FYI: {t}', 'Thoughts on the {t}?', 'Your {t} is ready', 'Reminder: {t} due Friday'];
const OPENERS = ['Hi there,', 'Hello,', 'Hey,', 'Good morning,', 'Hi all,', 'Thanks for the quick reply.'];
const SENTENCES = [
  'Can you take a look at the {t} before Thursday?',
  'I have attached the latest version of the {t} for review.',
  'We are still waiting on numbers from finance for the {t}.',
  'Let me know if the proposed timeline for the {t} works for you.',
  'The team agreed to push the {t} by one sprint.',
  'I think we should loop in legal on the {t}.',
  'Here is a summary of where we landed on the {t}.',
  'Could you resend the {t}? The link expired.',
  'Thanks, I found it. The {t} looks good to me.',
  'Please confirm the {t} by end of day.',
  'We shipped the first part of the {t} this morning.',
  'There is a small discrepancy in the {t} that we should fix.',
  'I booked a room for the {t} on Tuesday at 10:00.',
  'Happy to help with the {t} if you need another pair of eyes.',
];
const CLOSERS = ['Best,', 'Thanks,', 'Cheers,', 'Regards,', 'Talk soon,'];
export const KEYWORDS = ['work', 'personal', 'receipts', 'travel', 'needs_reply', 'agent_triaged', 'follow_up', 'important'];
const ATTACHMENT_KINDS: Array<[string, string]> = [
  ['report.pdf', 'application/pdf'],
  ['invoice.pdf', 'application/pdf'],
  ['photo.jpg', 'image/jpeg'],
  ['diagram.png', 'image/png'],
  ['notes.txt', 'text/plain'],
  ['data.csv', 'text/csv'],
  ['slides.pptx', 'application/vnd.openxmlformats-officedocument.presentationml.presentation'],
];

export interface Person extends Address {
  name: string;
}

/** A fixed cast of correspondents for one seed. */
export function makePeople(rng: Rng, count: number): Person[] {
  const people: Person[] = [];
  const used = new Set<string>();
  for (let i = 0; people.length < count && i < count * 4; i++) {
    const first = rng.pick(FIRST);
    const last = rng.pick(LAST);
    const email = `${first}.${last}`.toLowerCase().replace(/[^a-z.]/g, '') + '@' + rng.pick(DOMAINS);
    if (used.has(email)) continue;
    used.add(email);
    people.push({ name: `${first} ${last}`, email });
  }
  for (const [name, email] of SERVICES) people.push({ name, email });
  return people;
}

export function makeSubject(rng: Rng): { subject: string; topic: string } {
  const topic = rng.pick(TOPICS);
  const subject = rng.pick(SUBJECT_TEMPLATES).replace('{t}', topic).replace('{T}', topic[0]?.toUpperCase() + topic.slice(1));
  return { subject, topic };
}

/** The first sentence of a message: its preview, and the opening of its body. */
export function makeLead(rng: Rng, topic: string): string {
  return rng.pick(SENTENCES).replace('{t}', topic);
}

export function pickAttachmentKind(rng: Rng): [string, string] {
  return rng.pick(ATTACHMENT_KINDS);
}

export interface GeneratedBody {
  text: string;
  html: string | null;
}

/**
 * Rebuilds a message body from its seed. Replies quote the previous message and
 * most bodies end with a `-- ` signature block, so clean-content stripping has
 * something real to strip. Some HTML bodies carry remote images and tracking links.
 */
export function makeBody(seed: number, lead: string, topic: string, sender: string, quoted: string | null): GeneratedBody {
  const rng = new Rng(seed);
  const paragraphs: string[] = [rng.pick(OPENERS), lead];
  const extra = rng.int(1, 4);
  for (let i = 0; i < extra; i++) paragraphs.push(rng.pick(SENTENCES).replace('{t}', topic));
  const link = rng.chance(0.4) ? `https://docs.example.com/${topic.replace(/\s+/g, '-')}/${rng.int(100, 999)}` : null;
  if (link) paragraphs.push(`Details: ${link}`);
  const signature = rng.chance(0.8) ? `\n-- \n${sender}\n${rng.pick(DOMAINS)}` : '';
  let text = paragraphs.join('\n\n') + `\n\n${rng.pick(CLOSERS)}\n${sender.split(' ')[0] ?? sender}` + signature;
  if (quoted) text += `\n\nOn an earlier date, someone wrote:\n` + quoted.split('\n').slice(0, 6).map((l) => `> ${l}`).join('\n');
  if (!rng.chance(0.6)) return { text, html: null };
  const image = rng.chance(0.3) ? `<p><img src="https://images.example.com/banner-${rng.int(1, 50)}.png" alt="banner" width="600"></p>` : '';
  const htmlParas = paragraphs.map((p) => (link && p.includes(link) ? `<p>Details: <a href="${link}">${link}</a></p>` : `<p>${escapeHtml(p)}</p>`));
  const tracker = rng.chance(0.2) ? `<img src="https://track.example.com/open/${seed.toString(36)}.gif" width="1" height="1" alt="">` : '';
  const html = `<html><body>${image}${htmlParas.join('')}<p>${escapeHtml(sender)}</p>${tracker}</body></html>`;
  return { text, html };
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Deterministic attachment bytes of a given size. */
export function attachmentBytes(seed: number, size: number, contentType: string): Uint8Array {
  const out = new Uint8Array(size);
  if (contentType.startsWith('text/')) {
    const line = new TextEncoder().encode(`line ${seed.toString(36)} of generated attachment data\n`);
    for (let i = 0; i < size; i++) out[i] = line[i % line.length] ?? 10;
    return out;
  }
  const rng = new Rng(seed);
  for (let i = 0; i < size; i++) out[i] = Math.floor(rng.next() * 256);
  return out;
}
