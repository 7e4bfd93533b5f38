// Crash tests with real processes (DESIGN.md invariants 1, 4, 6 and 7 on the SQLite
// backend): child processes (child/engine-child.ts) run the engine on one SQLite file
// and are killed with SIGKILL at chosen points; a restarted child resumes from what
// was committed and converges with the simulator. Two children on one file behave
// like two tabs: one leads (the lease in the database), the other reads its commits
// (PRAGMA data_version) and takes over when the leader dies.
//
// Always SQLite, whatever SENDMUX_TEST_STORAGE says; the vitest config runs it in the
// `indexeddb` project only (the `sqlite` project leaves it out).
import { firstDiff } from '../engine/helpers.js';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Message } from '../../src/api/types.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { MailboxDb } from '../../src/store/db.js';
import { sqliteStorage } from '../../src/store/sqlite/index.js';
import { LEASE_KEY } from '../../src/sync/lease.js';
import type { ChildCommand, ChildConfig } from './child/engine-child.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'child', 'engine-child.ts');
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

type Line = { type: string } & Record<string, unknown>;
type Status = { type: 'status'; phase: string; progress: { done: number; total: number | null } | null; leader: boolean; pendingMutations: number; push: string };

/** One engine process, its stdout as parsed lines. */
interface Child {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly lines: Line[];
  /** The first line from index `from` on satisfying `pred` (waits for it). */
  waitFor<T extends Line = Line>(pred: (l: Line) => boolean, what: string, from?: number, ms?: number): Promise<T>;
  /** The latest status line. */
  status(): Status | undefined;
  send(c: ChildCommand): void;
  /** Sends `c` and waits for the next line of type `answer`. */
  ask<T extends Line = Line>(c: ChildCommand, answer: string, ms?: number): Promise<T>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(): Promise<void>;
}

let sim: Simulator | undefined;
let dir: string;
const children: Child[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sendmux-processes-'));
});
afterEach(async () => {
  for (const c of children.splice(0)) await c.kill();
  await sim?.close();
  sim = undefined;
  rmSync(dir, { recursive: true, force: true });
});

function spawnChild(s: Simulator, config: ChildConfig = {}, file = 'replica.sqlite'): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    cwd: ROOT,
    // The key reaches the child only through its environment.
    env: { ...process.env, SENDMUX_API_KEY: s.apiKey, SENDMUX_BASE_URL: s.url, SENDMUX_DB_PATH: join(dir, file), SENDMUX_CHILD: JSON.stringify(config) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: Line[] = [];
  const waiters = new Set<() => void>();
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  createInterface({ input: proc.stdout }).on('line', (text) => {
    try {
      lines.push(JSON.parse(text) as Line);
    } catch {
      lines.push({ type: 'garbage', text });
    }
    for (const w of [...waiters]) w();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  let dead = false;
  void exited.then(() => {
    dead = true;
    for (const w of [...waiters]) w();
  });
  const child: Child = {
    proc,
    lines,
    exited,
    waitFor<T extends Line>(pred: (l: Line) => boolean, what: string, from = 0, ms = 30_000): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => done(new Error(`timed out waiting for ${what}; stderr: ${stderr}`)), ms);
        const done = (error?: Error, line?: Line) => {
          clearTimeout(timer);
          waiters.delete(check);
          if (error) reject(error);
          else resolve(line as T);
        };
        const check = () => {
          const found = lines.slice(from).find(pred);
          if (found) done(undefined, found);
          else if (dead) done(new Error(`child exited while waiting for ${what}; stderr: ${stderr}`));
        };
        waiters.add(check);
        check();
      });
    },
    status: () => lines.filter((l): l is Status => l.type === 'status').at(-1),
    send: (c) => proc.stdin.write(`${JSON.stringify(c)}\n`),
    ask<T extends Line>(c: ChildCommand, answer: string, ms?: number): Promise<T> {
      const from = lines.length;
      child.send(c);
      return child.waitFor<T>((l) => l.type === answer || (l.type === 'error' && l.code === 'command_failed'), answer, from, ms).then((l) => {
        if (l.type !== answer) throw new Error(`${c.cmd} failed: ${String(l.message)}`);
        return l;
      });
    },
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
  children.push(child);
  return child;
}

const isStatus = (pred: (s: Status) => boolean) => (l: Line) => l.type === 'status' && pred(l as Status);

/** Stops `child` cleanly and returns the snapshot it took just before. */
async function finalSnapshot(child: Child): Promise<unknown> {
  const { snapshot } = await child.ask<Line & { snapshot: unknown }>({ cmd: 'snapshot' }, 'snapshot');
  await child.ask({ cmd: 'stop' }, 'stopped');
  expect(await child.exited).toEqual({ code: 0, signal: null });
  return snapshot;
}

async function expectConverged(s: Simulator, local: unknown): Promise<void> {
  const remote = JSON.parse(JSON.stringify(await s.snapshot())) as Record<string, { id: string }[]>;
  expect(firstDiff(local as Record<string, { id: string }[]>, remote)).toBeUndefined();
  expect(local).toEqual(remote);
}

const count = (s: Simulator, key: string) => s.stats().byPath[key] ?? 0;
const LIST = 'GET /mailbox/messages';
const BATCH_GET = 'POST /mailbox/messages:batch-get';
const BATCH_UPDATE = 'POST /mailbox/messages:batch-update';
const BATCH_DELETE = 'POST /mailbox/messages:batch-delete';
const SEND = 'POST /mailbox/messages/send';
const EVENTS = 'GET /mailbox/events';

async function until(check: () => boolean, what: string, ms = 30_000, every = 5): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

/**
 * Waits until a restarted `child` leads and has caught up. The killed process's lease
 * is still in the file: the new one follows until it expires (up to the 6 s TTL plus
 * one 3 s retry), then takes over and syncs.
 */
async function leadsAndSynced(child: Child): Promise<void> {
  await child.waitFor(isStatus((st) => st.leader), 'leadership', 0, 20_000);
  await child.ask({ cmd: 'syncNow' }, 'synced');
}

async function unreadInbox(s: Simulator, n: number): Promise<string[]> {
  const snap = await s.snapshot();
  const inbox = snap.folders.find((f) => f.role === 'inbox');
  const found = snap.messages.filter((m: Message) => m.folder_ids.length === 1 && m.folder_ids[0] === inbox?.id && !m.flags.seen && !m.flags.flagged);
  if (found.length < n) throw new Error('the seeded mailbox has too few unread inbox messages');
  return found.slice(0, n).map((m) => m.id);
}

// One project is enough: the children always use SQLite.
describe('SQLite replica across real processes (SIGKILL)', () => {
  it('SIGKILL mid-bootstrap: a restarted process resumes from the saved cursor and converges', { timeout: 90_000 }, async () => {
    const total = 3000;
    const pageSize = 50;
    sim = await startSimulator({ port: 0, seed: 11, messages: total, rateLimitPerMinute: 0 });
    const first = spawnChild(sim, { pageSize });
    // Killed once well into the full listing (the inbox's first page comes before it).
    await first.waitFor(isStatus((st) => st.phase === 'bootstrapping' && (st.progress?.done ?? 0) >= 1000), 'bootstrap progress 1000');
    await first.kill();
    const firstListing = count(sim, LIST);
    const doneAtKill = first.status()?.progress?.done ?? 0;
    expect(doneAtKill).toBeLessThan(total);

    // The world moves on while no process runs.
    await sim.control.deliver({ subject: 'while dead' });
    const snap = await sim.snapshot();
    await sim.control.setFlags(snap.messages.slice(0, 20).map((m) => m.id), { flagged: true });
    await sim.control.trash(snap.messages.slice(20, 25).map((m) => m.id));

    const second = spawnChild(sim, { pageSize });
    await second.waitFor((l) => l.type === 'ready', 'ready after resume');
    await leadsAndSynced(second);
    const resumedListing = count(sim, LIST) - firstListing;
    // A full bootstrap lists the inbox page plus ceil(3000 / 50) pages. Resumed, only
    // what the first process had not committed is listed: the pages it did commit
    // (at least doneAtKill / 50 of them, minus the inbox page) are not fetched again,
    // and at most the one page in flight at the kill is fetched twice.
    const full = 1 + Math.ceil(total / pageSize);
    expect(resumedListing).toBeLessThanOrEqual(full - Math.floor(doneAtKill / pageSize) + 1);
    expect(firstListing + resumedListing).toBeLessThanOrEqual(full + 2);
    await expectConverged(sim, await finalSnapshot(second));
  });

  it('SIGKILL mid-changes: committed changes pages are kept, the rest is re-pulled, and the replica converges', { timeout: 90_000 }, async () => {
    sim = await startSimulator({ port: 0, seed: 12, messages: 2000, rateLimitPerMinute: 0 });
    const first = spawnChild(sim);
    await first.waitFor((l) => l.type === 'ready', 'first sync');
    // A lot changes: 1800 flag changes, 150 moves to Trash, 50 deliveries (2000 ids).
    const ids = (await sim.snapshot()).messages.map((m) => m.id);
    await sim.control.setFlags(ids.slice(0, 1800), { flagged: true });
    await sim.control.trash(ids.slice(1800, 1950));
    for (let i = 0; i < 50; i++) await sim.control.deliver({ subject: `burst ${i}` });
    const before = count(sim, BATCH_GET);

    // The world keeps changing while the child pulls.
    let churning = true;
    const churn = (async () => {
      for (let i = 0; churning; i++) {
        if (i % 2) await sim.control.setFlags([ids[(i * 7) % 1800] as string], { seen: i % 4 === 1 });
        else await sim.control.deliver({ subject: `during pull ${i}` });
        await new Promise((r) => setTimeout(r, 15));
      }
    })();
    first.send({ cmd: 'syncNow' });
    // Changes pages hold 500 ids (5 batch-gets each) and each is committed with its
    // token before the next is requested: after 13 batch-gets, two pages are in.
    await until(() => count(sim as Simulator, BATCH_GET) >= before + 13, '13 batch-gets', 30_000, 1);
    await first.kill();
    const firstGets = count(sim, BATCH_GET) - before;
    churning = false;
    await churn;

    const second = spawnChild(sim);
    await leadsAndSynced(second);
    const secondGets = count(sim, BATCH_GET) - before - firstGets;
    // Without the committed pages the restart would fetch all >= 2000 changed ids again
    // (>= 20 batch-gets); with them, at most the remaining ~1000 plus what changed since.
    expect(firstGets).toBeLessThan(20);
    expect(secondGets).toBeLessThanOrEqual(15);
    await expectConverged(sim, await finalSnapshot(second));
  });

  it('mutations and a send queued offline survive SIGKILL and are applied, and delivered, exactly once', { timeout: 60_000 }, async () => {
    sim = await startSimulator({ port: 0, seed: 7, messages: 200, rateLimitPerMinute: 0 });
    const [a, b, c, d, e, f, g] = (await unreadInbox(sim, 7)) as [string, string, string, string, string, string, string];
    const first = spawnChild(sim);
    await first.waitFor((l) => l.type === 'ready', 'first sync');
    first.send({ cmd: 'offline' });
    first.send({ cmd: 'update', ids: [a, b, c], patch: { seen: true } });
    first.send({ cmd: 'update', ids: [d, e], patch: { flagged: true } });
    first.send({ cmd: 'remove', ids: [f, g] });
    first.send({ cmd: 'send', subject: 'Queued while offline' });
    await first.waitFor((l) => l.type === 'queued', 'send queued');
    // Durable: the outbox rows are committed (status$ counts them from the database).
    await first.waitFor(isStatus((st) => st.pendingMutations === 4), 'four outbox entries');
    const optimistic = (await first.ask<Line & { message: Message }>({ cmd: 'message', id: a }, 'message')).message;
    expect(optimistic.flags.seen).toBe(true);
    await first.kill();
    for (const key of [BATCH_UPDATE, BATCH_DELETE, SEND]) expect(count(sim, key)).toBe(0);

    const second = spawnChild(sim);
    // Before it leads, the restarted process shows the queued state from the file.
    await second.waitFor(isStatus((st) => st.pendingMutations === 4), 'the queued entries, read back');
    await leadsAndSynced(second);
    await second.waitFor((l) => l.type === 'sendOutcome' && ['sent', 'linked'].includes((l.outcome as { status: string }).status), 'send outcome');
    await second.waitFor(isStatus((st) => st.leader && st.pendingMutations === 0), 'outbox drained');
    await second.ask({ cmd: 'syncNow' }, 'synced');
    const outcomes = second.lines.filter((l) => l.type === 'outcome').map((l) => l.outcome as { id: string; status: string });
    expect(outcomes.map((o) => o.id).sort()).toEqual([a, b, c, d, e, f, g].sort());
    for (const o of outcomes) expect(['applied', 'rebased']).toContain(o.status);

    const snap = await sim.snapshot();
    const byId = new Map(snap.messages.map((m) => [m.id, m]));
    for (const id of [a, b, c]) expect(byId.get(id)?.flags.seen).toBe(true);
    for (const id of [d, e]) expect(byId.get(id)?.flags.flagged).toBe(true);
    const trash = snap.folders.find((x) => x.role === 'trash')?.id;
    for (const id of [f, g]) expect(byId.get(id)?.folder_ids).toEqual([trash]);
    // Coalesced: one request per entry, plus one retry for an entry answered 409 (the
    // send moved the messages state first) and rebased; the send was delivered once.
    const rebased = (group: string[]) => (outcomes.some((o) => group.includes(o.id) && o.status === 'rebased') ? 1 : 0);
    expect(count(sim, BATCH_UPDATE)).toBe(2 + rebased([a, b, c]) + rebased([d, e]));
    expect(count(sim, BATCH_DELETE)).toBe(1 + rebased([f, g]));
    expect(count(sim, SEND)).toBe(1);
    const sent = snap.messages.filter((m) => m.subject === 'Queued while offline');
    expect(sent).toHaveLength(1);
    expect(snap.submissions.filter((x) => x.email_id === sent[0]?.id)).toHaveLength(1);
    await expectConverged(sim, await finalSnapshot(second));
  });

  it('a send whose response was lost when its process was killed is resent with its key and delivered once', { timeout: 60_000 }, async () => {
    sim = await startSimulator({ port: 0, seed: 14, messages: 100, rateLimitPerMinute: 0 });
    const first = spawnChild(sim);
    await first.waitFor((l) => l.type === 'ready', 'first sync');
    // The server applies every send, but no answer reaches the process.
    await sim.control.dropNextResponses({ count: 100, path: '/mailbox/messages/send' });
    first.send({ cmd: 'send', subject: 'Lost answer' });
    await until(() => count(sim as Simulator, SEND) >= 1, 'the send reached the server');
    await first.kill();
    expect(first.lines.some((l) => l.type === 'sendOutcome')).toBe(false);
    await sim.control.dropNextResponses({ count: 0 });

    const second = spawnChild(sim);
    await leadsAndSynced(second);
    await second.waitFor((l) => l.type === 'sendOutcome' && ['sent', 'linked'].includes((l.outcome as { status: string }).status), 'send outcome');
    await second.waitFor(isStatus((st) => st.leader && st.pendingMutations === 0), 'outbox drained');
    await second.ask({ cmd: 'syncNow' }, 'synced');
    expect(count(sim, SEND)).toBeGreaterThanOrEqual(2);
    const snap = await sim.snapshot();
    const sent = snap.messages.filter((m) => m.subject === 'Lost answer');
    expect(sent).toHaveLength(1);
    expect(snap.submissions.filter((x) => x.email_id === sent[0]?.id)).toHaveLength(1);
    await expectConverged(sim, await finalSnapshot(second));
  });

  it('two processes on one file: one leads, the follower writes through it, and takes over after SIGKILL', { timeout: 90_000 }, async () => {
    sim = await startSimulator({ port: 0, seed: 15, messages: 200, rateLimitPerMinute: 0 });
    const [x] = (await unreadInbox(sim, 1)) as [string];
    // Default leader mode: in Node, the lease in the database.
    const leader = spawnChild(sim, { events: true });
    await leader.waitFor((l) => l.type === 'ready', 'leader synced');
    await leader.waitFor(isStatus((st) => st.leader && st.push === 'connected'), 'leader stream open');
    const follower = spawnChild(sim, { events: true });
    await follower.waitFor((l) => l.type === 'ready', 'follower ready');
    expect(follower.status()?.leader).toBe(false);

    // A mutation made in the follower reaches the server through the leader.
    follower.send({ cmd: 'update', ids: [x], patch: { flagged: true } });
    await follower.waitFor((l) => l.type === 'outcome' && (l.outcome as { id: string }).id === x, 'outcome in the follower');
    expect((await sim.snapshot()).messages.find((m) => m.id === x)?.flags.flagged).toBe(true);
    // New mail: the leader's stream and pull commit it; the follower's views see the commit.
    const { id: mail1 } = await sim.control.deliver({ subject: 'seen by both' });
    await pollMessage(follower, mail1);
    // One writer to the network: the follower never sent a request, one stream is open.
    const followerRequests = (await follower.ask<Line & { requests: Record<string, number> }>({ cmd: 'requests' }, 'requests')).requests;
    expect(followerRequests).toEqual({});
    expect(count(sim, EVENTS)).toBe(1);
    expect(sim.stats().sseConnectionsOpen).toBe(1);
    expect(count(sim, BATCH_UPDATE)).toBe(1);

    // The leader dies; the follower takes over once the lease expires (TTL 6 s).
    const killedAt = Date.now();
    await leader.kill();
    await follower.waitFor(isStatus((st) => st.leader), 'takeover', 0, 20_000);
    const takeoverMs = Date.now() - killedAt;
    // Expiry ≤ 6 s after the last renewal, checked every 3 s by a waiting engine.
    expect(takeoverMs).toBeLessThan(6_000 + 3_000 + 1_500);
    await follower.waitFor(isStatus((st) => st.leader && st.push === 'connected'), 'new leader stream', 0, 20_000);
    const { id: mail2 } = await sim.control.deliver({ subject: 'after takeover' });
    await pollMessage(follower, mail2);
    expect(sim.stats().sseConnectionsOpen).toBe(1);
    await follower.ask({ cmd: 'syncNow' }, 'synced');
    await expectConverged(sim, await finalSnapshot(follower));
  });

  it('a leader that stops and exits at once hands its lease over in the file: the next process need not wait it out', { timeout: 60_000 }, async () => {
    sim = await startSimulator({ port: 0, seed: 17, messages: 20, rateLimitPerMinute: 0 });
    const first = spawnChild(sim);
    await leadsAndSynced(first);
    // The child calls process.exit(0) right after stop() resolves (as the CLI does).
    await finalSnapshot(first);
    const db = new MailboxDb('replica', { storage: sqliteStorage({ path: join(dir, 'replica.sqlite') }) });
    try {
      await db.open();
      expect(await db.syncState.get(LEASE_KEY)).toBeUndefined();
    } finally {
      db.close();
    }
  });

  it('processes with a process-local navigator.locks (Node 24.5+) still elect one leader on the file', { timeout: 60_000 }, async () => {
    sim = await startSimulator({ port: 0, seed: 16, messages: 50, rateLimitPerMinute: 0 });
    // Web Locks in Node do not span processes: 'auto' must not trust them for a file
    // other processes open too.
    const first = spawnChild(sim, { events: true, processLocalLocks: true });
    await first.waitFor(isStatus((st) => st.leader && st.push === 'connected'), 'first leads');
    const second = spawnChild(sim, { events: true, processLocalLocks: true });
    await second.waitFor((l) => l.type === 'ready', 'second ready');
    await new Promise((r) => setTimeout(r, 1_000));
    expect(second.lines.some(isStatus((st) => st.leader))).toBe(false);
    expect(sim.stats().sseConnectionsOpen).toBe(1);
    expect((await second.ask<Line & { requests: Record<string, number> }>({ cmd: 'requests' }, 'requests')).requests).toEqual({});
  });
});

/** Asks `child` for message `id` until its views have it. */
async function pollMessage(child: Child, id: string, ms = 20_000): Promise<Message> {
  const deadline = Date.now() + ms;
  for (;;) {
    const { message } = await child.ask<Line & { message: Message | null }>({ cmd: 'message', id }, 'message');
    if (message) return message;
    if (Date.now() > deadline) throw new Error(`message ${id} never reached the child's views`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
