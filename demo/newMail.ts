// Seeded "new mail" for the agent example: a handful of known senders, so
// `--label-from ada@analytical.example` has something to label within seconds.
// Deterministic per seed.
import { mulberry32 } from '../src/sim/random.js';

export interface NewMail {
  subject: string;
  from: { email: string; name: string };
  text: string;
  html: string;
}

const SENDERS = [
  { name: 'Ada Lovelace', email: 'ada@analytical.example' },
  { name: 'Grace Hopper', email: 'grace@navy.example' },
  { name: 'Build Bot', email: 'ci@builds.example' },
  { name: 'Linus T.', email: 'linus@kernel.example' },
  { name: 'Billing', email: 'billing@vendor.example' },
  { name: 'Margaret Hamilton', email: 'margaret@apollo.example' },
];

const SUBJECTS = [
  'Quick question about the release',
  'Build #{n} passed',
  'Invoice {n} is ready',
  'Lunch on Thursday?',
  'Re: design review notes',
  'Your weekly digest',
  'Incident {n}: resolved',
  'Can you take a look at this PR?',
];

const LINES = [
  'Following up on our conversation from earlier this week.',
  'All checks are green; deploying to staging next.',
  'Let me know if the numbers look right to you.',
  'Attached are the notes from the meeting; comments welcome.',
  'No action needed, this is just for your records.',
  'Could you reply by end of day? Thanks!',
];

/** mulberry32: tiny seeded PRNG (deterministic demo mail). */
const prng = mulberry32;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function newMailStream(seed: number): { next(): NewMail } {
  const random = prng(seed ^ 0x5eed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  let n = 1000;
  return {
    next() {
      n += 1;
      const from = pick(SENDERS);
      const subject = pick(SUBJECTS).replace('{n}', String(n));
      const lines = [pick(LINES), pick(LINES)];
      return {
        subject,
        from,
        text: `Hi,\n\n${lines.join('\n\n')}\n\n${from.name}`,
        html: `<p>Hi,</p>${lines.map((l) => `<p>${escapeHtml(l)}</p>`).join('')}<p>${escapeHtml(from.name)}</p>`,
      };
    },
  };
}
