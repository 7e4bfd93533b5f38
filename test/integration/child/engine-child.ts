// A child process for test/integration/sqlite-processes.test.ts: one engine on a
// SQLite file, driven over stdin and reporting over stdout, one JSON object a line.
//
// Environment: SENDMUX_API_KEY (the key; never printed), SENDMUX_BASE_URL,
// SENDMUX_DB_PATH, SENDMUX_CHILD (JSON ChildConfig). Reports: `status` (every status$
// value), `ready` (start() resolved), `outcome` / `sendOutcome`, `queued` (a send is in
// the outbox), answers to commands (`snapshot`, `message`, `synced`, `stopped`), and
// `error` (errors$, codes only). Commands: `online`, `offline`, `update`, `remove`,
// `send`, `syncNow`, `snapshot`, `message`, `requests` (this process's own
// request counts), `stop`.
import { createInterface } from 'node:readline';
import { firstValueFrom } from 'rxjs';
import { createMailboxSync } from '../../../src/index.js';
import { sqliteStorage } from '../../../src/store/sqlite/index.js';
import type { LeaderMode } from '../../../src/sync/leader.js';

/** What the parent asks of this child. */
export interface ChildConfig {
  pageSize?: number;
  events?: boolean;
  leader?: LeaderMode;
  /** Start with the network down (every request fails like a lost connection). */
  offline?: boolean;
  /** Polling interval (ms) of the leader's changes loop. */
  pollMs?: number;
  /**
   * Installs a process-local Web Locks `navigator.locks`, as Node 24.5+ has: locks
   * that do not reach other processes on the file.
   */
  processLocalLocks?: boolean;
}

/** A command on stdin. */
export type ChildCommand =
  | { cmd: 'online' | 'offline' | 'syncNow' | 'snapshot' | 'requests' | 'stop' }
  | { cmd: 'update'; ids: string[]; patch: { seen?: boolean; flagged?: boolean } }
  | { cmd: 'remove'; ids: string[] }
  | { cmd: 'send'; subject: string }
  | { cmd: 'message'; id: string };

const out = (line: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};

const apiKey = process.env.SENDMUX_API_KEY ?? '';
const config = JSON.parse(process.env.SENDMUX_CHILD ?? '{}') as ChildConfig;
const net = { online: !config.offline };

if (config.processLocalLocks) {
  const held = new Map<string, Promise<void>>();
  const locks = {
    request(name: string, _options: unknown, cb: (lock: unknown) => Promise<void>): Promise<unknown> {
      const before = held.get(name) ?? Promise.resolve();
      const mine = before.then(() => cb({ name }));
      held.set(name, mine.catch(() => undefined));
      return mine;
    },
  };
  Object.defineProperty(globalThis, 'navigator', { value: { locks }, configurable: true });
}

/** Requests this process sent, by `METHOD /path` (path below the API base). */
const requests: Record<string, number> = {};
const netFetch: typeof fetch = (input, init) => {
  if (!net.online) return Promise.reject(new TypeError('fetch failed (network down in test)'));
  const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
  const key = `${(init?.method ?? 'GET').toUpperCase()} ${url.pathname.replace(/^.*\/api\/v1/, '')}`;
  requests[key] = (requests[key] ?? 0) + 1;
  return fetch(input, init);
};

const sync = createMailboxSync({
  apiKey,
  baseUrl: process.env.SENDMUX_BASE_URL as string,
  storage: sqliteStorage({ path: process.env.SENDMUX_DB_PATH as string }),
  dbName: 'replica',
  fetch: netFetch,
  ...(config.leader ? { leader: config.leader } : {}),
  ...(config.pageSize ? { pageSize: config.pageSize } : {}),
  events: config.events ?? false,
  poll: { visibleMs: config.pollMs ?? 60_000, hiddenMs: config.pollMs ?? 60_000, offlineBackoff: { baseMs: 50, maxMs: 200 } },
  apiOptions: { retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 50 }, rateLimit: false },
  outbox: { backoff: { baseDelayMs: 20, maxDelayMs: 100 } },
  content: { prefetch: false },
});

sync.status$.subscribe((s) => {
  out({ type: 'status', phase: s.phase, progress: s.progress, leader: s.leader, pendingMutations: s.pendingMutations, push: s.push });
});
sync.errors$.subscribe((e) => out({ type: 'error', code: e.code }));
sync.outcomes$.subscribe((o) => out({ type: 'outcome', outcome: o }));
sync.sendOutcomes$.subscribe((o) => out({ type: 'sendOutcome', outcome: o }));

async function handle(c: ChildCommand): Promise<void> {
  switch (c.cmd) {
    case 'online':
      net.online = true;
      await sync.syncNow().catch(() => undefined);
      return;
    case 'offline':
      net.online = false;
      return;
    case 'update':
      // Resolves when the server answered; durability is the outbox count in `status`.
      void sync.update(c.ids, c.patch).catch(() => undefined);
      return;
    case 'remove':
      void sync.remove(c.ids).catch(() => undefined);
      return;
    case 'send': {
      const { seq, idempotency_key } = await sync.send({ to: [{ email: 'customer@example.com', name: 'Customer' }], subject: c.subject, text_body: `Body of ${c.subject}` });
      out({ type: 'queued', seq, idempotency_key });
      return;
    }
    case 'syncNow':
      await sync.syncNow();
      out({ type: 'synced' });
      return;
    case 'requests':
      out({ type: 'requests', requests });
      return;
    case 'snapshot':
      out({ type: 'snapshot', snapshot: await sync.snapshot() });
      return;
    case 'message': {
      out({ type: 'message', id: c.id, message: (await firstValueFrom(sync.message$(c.id))) ?? null });
      return;
    }
    case 'stop':
      await sync.stop();
      out({ type: 'stopped' });
      process.exit(0);
  }
}

// Commands run one after another, in the order they arrive.
let queue = Promise.resolve();
createInterface({ input: process.stdin }).on('line', (line) => {
  if (!line.trim()) return;
  const c = JSON.parse(line) as ChildCommand;
  queue = queue.then(() => handle(c)).catch((e: unknown) => out({ type: 'error', code: 'command_failed', cmd: c.cmd, message: String((e as Error)?.message ?? e) }));
});
// The parent going away (its end of stdin closing) ends the child too.
process.stdin.on('end', () => process.exit(0));

sync.start().then(
  () => out({ type: 'ready' }),
  (e: unknown) => out({ type: 'error', code: 'start_failed', message: String((e as Error)?.message ?? e) }),
);
