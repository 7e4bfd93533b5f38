// `npm run demo:agent -- [--label-from ada@analytical.example] [--label agent_triaged]`
//
// A mailbox memory for an agent, in one short file: a full local replica of the
// mailbox in Node (a SQLite file), kept live by the engine, read with RxJS views,
// and written to with optimistic mutations. It prints a digest of unread mail per
// sender whenever that changes, and labels new mail from one sender.
//
// Starts its own simulator (with new mail every few seconds) unless
// SENDMUX_API_KEY is set (then SENDMUX_BASE_URL and SENDMUX_MAILBOX_ID apply).
import { parseArgs } from 'node:util';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asyncScheduler, concatMap, debounceTime, distinctUntilChanged, filter, first, firstValueFrom, map, throttleTime } from 'rxjs';
import { createMailboxSync, type Message } from '../src/index.js';
import { sqliteStorage } from '../src/sqlite.js';
import { startSimulator, type Simulator } from '../src/sim/index.js';
import { newMailStream } from './newMail.js';

const USAGE = `npm run demo:agent -- [options]

A mailbox memory for an agent: a live local replica, a digest of unread mail per
sender, and new mail from one sender labelled through optimistic mutations.
Starts its own simulator unless SENDMUX_API_KEY is set (then SENDMUX_BASE_URL and
SENDMUX_MAILBOX_ID apply).

  --label-from <email>    label new mail from this sender
  --label <keyword>       the keyword to add (default agent_triaged)
  --messages <n>          simulator: generated messages (default 2000)
  --seed <n>              simulator: generator seed (default 1)
  --deliver-every <s>     simulator: new mail every s seconds (default 4)
  --top <n>               senders shown in the digest (default 8)
  --replica <file>        the SQLite replica (default agent-replica.sqlite with
                          SENDMUX_API_KEY; a fresh temporary file for the simulator)
  -h, --help              this help`;

const parseCommandLine = () => {
  try {
    return parseArgs({
      options: {
        'label-from': { type: 'string' },
        label: { type: 'string', default: 'agent_triaged' },
        messages: { type: 'string', default: '2000' },
        seed: { type: 'string', default: '1' },
        'deliver-every': { type: 'string', default: '4' },
        top: { type: 'string', default: '8' },
        replica: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    console.error(`demo:agent: ${error instanceof Error ? error.message : String(error)} (see --help)`);
    process.exit(2);
  }
};
const { values: args } = parseCommandLine();
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}

// 1. Where the mailbox lives: the real service, or a local simulator.
let sim: Simulator | undefined;
let deliveries: ReturnType<typeof setInterval> | undefined;
let apiKey = process.env.SENDMUX_API_KEY;
let baseUrl = process.env.SENDMUX_BASE_URL;
if (!apiKey) {
  sim = await startSimulator({ seed: Number(args.seed), messages: Number(args.messages), control: true });
  ({ apiKey, url: baseUrl } = sim);
  const mail = newMailStream(Number(args.seed));
  const simulator = sim;
  deliveries = setInterval(() => void simulator.control.deliver(mail.next()), Number(args['deliver-every']) * 1000);
  console.log(`simulator: ${sim.url} (${args.messages} messages, new mail every ${args['deliver-every']}s)`);
}

// 2. The replica: a SQLite file, so the next run only catches up. The built-in
// simulator is a new mailbox every run, so its replica is a fresh temporary file.
const replica = args.replica ?? (sim ? join(mkdtempSync(join(tmpdir(), 'sendmux-agent-')), 'replica.sqlite') : 'agent-replica.sqlite');
console.log(`replica: ${replica}`);
const sync = createMailboxSync({
  apiKey,
  ...(baseUrl ? { baseUrl } : {}),
  ...(process.env.SENDMUX_MAILBOX_ID ? { mailboxId: process.env.SENDMUX_MAILBOX_ID } : {}),
  storage: sqliteStorage({ path: replica }),
});
sync.errors$.subscribe((e) => console.error(`sync: ${e.code}: ${e.message}`));
sync.status$
  .pipe(
    map((s) => (s.phase === 'bootstrapping' && s.progress ? `bootstrapping ${s.progress.done}/${s.progress.total ?? '?'}` : s.phase)),
    distinctUntilChanged(),
    throttleTime(1000, asyncScheduler, { leading: true, trailing: true }),
  )
  .subscribe((line) => console.log(`status: ${line}`));

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) process.exit(130);
  stopping = true;
  console.log('\nshutting down...');
  if (deliveries) clearInterval(deliveries);
  await sync.stop();
  await sim?.close();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());

await sync.start();
const inbox = await firstValueFrom(sync.folders$().pipe(map((fs) => fs.find((f) => f.role === 'inbox')), first(Boolean)));

// 3. Memory queries are live views: the digest re-renders whenever unread mail changes.
sync
  .messages$({ folderId: inbox.id, unread: true })
  .pipe(debounceTime(250), map(digest))
  .subscribe((text) => console.log(text));

function digest(unread: Message[]): string {
  const bySender = new Map<string, { count: number; latest: string }>();
  for (const m of unread) {
    const who = m.from?.email ?? '(unknown)';
    const entry = bySender.get(who) ?? { count: 0, latest: m.subject ?? '' };
    entry.count += 1;
    bySender.set(who, entry);
  }
  const rows = [...bySender].sort((a, b) => b[1].count - a[1].count).slice(0, Number(args.top));
  const lines = rows.map(([who, { count, latest }]) => `  ${String(count).padStart(4)}  ${who.padEnd(32)} ${latest.slice(0, 50)}`);
  return [`\n── unread in ${inbox.name}: ${unread.length} from ${bySender.size} senders (${new Date().toLocaleTimeString()})`, ...lines].join('\n');
}

// 4. Acting on memory: label new mail from one sender (optimistic, durable, guarded).
const labelFrom = args['label-from']?.toLowerCase();
if (labelFrom) {
  const seen = new Set<string>();
  let primed = false;
  sync
    .messages$({ folderId: inbox.id, limit: 50 })
    .pipe(
      map((latest) => {
        const fresh = primed ? latest.filter((m) => !seen.has(m.id)) : [];
        for (const m of latest) seen.add(m.id);
        primed = true;
        return fresh.filter((m) => m.from?.email.toLowerCase() === labelFrom && !m.keywords.includes(args.label));
      }),
      filter((fresh) => fresh.length > 0),
      // The label shows in every view at once; the engine sends it (batched, guarded
      // by if_in_state) and settles with one outcome per id.
      concatMap((fresh) => sync.update(fresh.map((m) => m.id), { keywords: { [args.label]: true } })),
    )
    .subscribe((outcomes) => {
      const ok = outcomes.filter((o) => o.status !== 'rolled_back').length;
      console.log(`labelled ${ok}/${outcomes.length} new message(s) from ${labelFrom} with "${args.label}"`);
    });
}
