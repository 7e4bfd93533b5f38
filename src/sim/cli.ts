// CLI: `npx sendmux-sim --port 4010 --messages 5000 --seed 1 --control --deliver-every 5`
import { parseArgs } from 'node:util';
import { startSimulator } from './index.js';

const OPTIONS = {
  port: { type: 'string', default: '4010' },
  host: { type: 'string', default: '127.0.0.1' },
  messages: { type: 'string', default: '5000' },
  seed: { type: 'string', default: '1' },
  control: { type: 'boolean', default: false },
  'api-key': { type: 'string', default: 'smx_mbx_test' },
  'deliver-every': { type: 'string' },
  'rate-limit': { type: 'string' },
  'validate-responses': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** A user's mistake or an environment problem: one line on stderr, no stack trace. */
function fail(message: string, code = 1): never {
  console.error(`sendmux-sim: ${message}`);
  process.exit(code);
}

const parseCommandLine = () => {
  try {
    return parseArgs({ options: OPTIONS });
  } catch (error) {
    return fail(`${error instanceof Error ? error.message : String(error)} (see --help)`, 2);
  }
};
const { values } = parseCommandLine();

if (values.help) {
  console.log(`sendmux-sim: a local Sendmux Mailbox API
  --port <n>             listen port (default 4010; 0 picks one)
  --host <addr>          listen address (default 127.0.0.1)
  --messages <n>         generated messages (default 5000)
  --seed <n>             generator seed (default 1)
  --control              serve the control surface under /__sim/
  --api-key <key>        accepted Bearer key (default smx_mbx_test)
  --deliver-every <s>    deliver a new inbound message every s seconds
  --rate-limit <n>       requests per minute per key (default 1800; 0 disables)
  --validate-responses   check every response against the OpenAPI spec`);
  process.exit(0);
}

const num = (name: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) {
    fail(`--${name} must be a non-negative number`, 2);
  }
  return n;
};

const sim = await startSimulator({
  port: num('port', values.port) ?? 4010,
  host: values.host,
  messages: num('messages', values.messages) ?? 5000,
  seed: num('seed', values.seed) ?? 1,
  control: values.control,
  apiKey: values['api-key'],
  validateResponses: values['validate-responses'],
  ...(values['rate-limit'] !== undefined ? { rateLimitPerMinute: num('rate-limit', values['rate-limit']) ?? 1800 } : {}),
}).catch((error: unknown) =>
  fail(error instanceof Error ? error.message : String(error)),
);

console.log(`Sendmux Mailbox API simulator listening
  url:        ${sim.url}
  api key:    ${sim.apiKey}
  mailbox id: ${sim.mailboxId}
  control:    ${values.control ? `${new URL(sim.url).origin}/__sim/<call>` : 'off (use --control)'}`);

let timer: NodeJS.Timeout | undefined;
const every = num('deliver-every', values['deliver-every']);
if (every !== undefined && every > 0) {
  // New mail from the generated cast: mostly new conversations, some replies to
  // recent inbox threads, the odd one to Junk (message.received.spam).
  let n = 0;
  const call = async <T>(path: string): Promise<T> => {
    const r = await fetch(`${sim.url}${path}`, { headers: { Authorization: `Bearer ${sim.apiKey}` } });
    return ((await r.json()) as { data: T }).data;
  };
  const tick = async () => {
    n += 1;
    const folders = await call<Array<{ id: string; role: string | null }>>('/mailbox/folders?limit=100');
    const inbox = folders.find((f) => f.role === 'inbox')?.id ?? '';
    const junk = folders.find((f) => f.role === 'junk')?.id;
    const recent = n % 3 === 0 ? await call<Array<{ id: string }>>(`/mailbox/threads?folder_id=${inbox}&limit=10`) : [];
    const reply = recent[n % Math.max(1, recent.length)];
    const { id } = await sim.control.deliver(reply ? { thread_id: reply.id } : n % 10 === 0 && junk ? { folder_id: junk } : {});
    const m = await call<{ subject: string | null; from: { email: string } | null }>(`/mailbox/messages/${id}`);
    console.log(`delivered ${id} from ${m.from?.email ?? '?'}: ${m.subject ?? ''}`);
  };
  timer = setInterval(() => void tick().catch((err: unknown) => console.error('delivery failed:', err)), every * 1000);
  console.log(`  delivering a new message every ${every}s`);
}

const stop = async () => {
  if (timer) clearInterval(timer);
  await sim.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
