// The chaos runner: a seeded schedule of remote actions, local actions and faults
// against two tabs sharing one replica, then heal, quiesce and check the invariants
// (issue 10). The seed fixes every choice the runner makes (steps, targets, pauses,
// the engines' jitter); real sockets and timers still interleave freely, which is
// the point: a failing seed replays the same schedule with `--seed N`.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMailboxApi } from '../../src/api/index.js';
import { getTokens } from '../../src/store/apply.js';
import { ACTIVE_OUTBOX_STATUSES } from '../../src/store/db.js';
import { snapshotDiff, tokenProblems } from './checks.js';
import { createPrng, type Prng } from './prng.js';
import { ChaosWorld, mutationsOf, sendsOf, type LocalOutcome, type Tab } from './world.js';

/** Options of one schedule. */
export interface ChaosConfig {
  seed: number;
  steps: number;
  /** Upper bound of the random pause after each step (ms). Default 8. */
  stepPauseMs?: number;
  /** How long the healed world may take to converge (ms). Default 30 000. */
  quiescenceMs?: number;
  /** Validate every simulator response against the spec (slower). Default false. */
  validateResponses?: boolean;
  /** Include local actions (update/remove) when the engine has them. Default true. */
  local?: boolean;
  /** Called with each step as it runs (verbose mode). */
  onStep?: (line: string) => void;
}

/** Fault kinds counted in the summary. */
export const FAULT_KINDS = ['fail500', 'fail503', 'fail429', 'drop', 'latency', 'cutSse', 'expireLog', 'kill', 'offline'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** What one schedule did and whether its checks held. */
export interface ScheduleResult {
  seed: number;
  /** Steps the schedule was asked for (replay with `--steps`). */
  stepCount: number;
  /** The step list as run (plus refusals and timed fault ends). */
  steps: string[];
  faults: Record<FaultKind, number>;
  actions: Record<string, number>;
  /** Local mutations and what their callers were told. */
  local?: LocalAction[];
  /** Local sends. */
  sends?: LocalSend[];
  /** errors$ emissions of every tab, by code. */
  errors: Record<string, number>;
  /** Heal → converged (ms); NaN when it did not converge. */
  convergenceMs: number;
  /** Undefined when every check passed. */
  failure?: string;
}

/** Paths faults are aimed at (relative to the API base; undefined = any request). */
const FAULT_PATHS = [
  '/mailbox/changes',
  '/mailbox/messages:batch-get',
  '/mailbox/messages',
  '/mailbox/session',
  '/mailbox/events',
  '/mailbox/folders',
  '/mailbox/folders/{id}',
  '/mailbox/threads',
  '/mailbox/threads/{id}',
  undefined,
] as const;

function emptyFaults(): Record<FaultKind, number> {
  return Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
}

/** The runner's own view of what exists on the server, so choices do not depend on timing. */
interface Known {
  messages: string[];
  threads: string[];
  folders: string[];
  /** Writers of each `id|field` over the whole schedule (remote and local). */
  writers: Map<string, number>;
}

/** One local send and what its caller was told. */
export interface LocalSend {
  step: number;
  tab: string;
  subject: string;
  /** The Idempotency-Key once queued. */
  key?: string;
  /** send() rejected (its tab was killed before the draft was queued). */
  rejected?: string;
}

/** One local mutation and what its caller was told. */
export interface LocalAction {
  step: number;
  tab: string;
  kind: 'update' | 'remove';
  ids: string[];
  patch?: { seen?: boolean; flagged?: boolean; keywords?: Record<string, boolean> };
  permanent?: boolean;
  outcome?: LocalOutcome[];
  /** The promise rejected (its tab was killed first); the entry stays queued for the next leader. */
  rejected?: string;
}

function wrote(known: Known, ids: readonly string[], fields: readonly string[]): void {
  for (const id of ids) for (const f of fields) known.writers.set(`${id}|${f}`, (known.writers.get(`${id}|${f}`) ?? 0) + 1);
}

function patchFields(patch: { seen?: boolean; flagged?: boolean; keywords?: Record<string, boolean> }): string[] {
  return [...(patch.seen !== undefined ? ['seen'] : []), ...(patch.flagged !== undefined ? ['flagged'] : []), ...Object.keys(patch.keywords ?? {}).map((k) => `kw:${k}`)];
}

class Schedule {
  readonly steps: string[] = [];
  readonly faults = emptyFaults();
  readonly actions: Record<string, number> = {};
  readonly local: LocalAction[] = [];
  readonly sends: LocalSend[] = [];
  private offlineUntil = -1;
  private latencyUntil = -1;
  private step = 0;

  constructor(
    private readonly world: ChaosWorld,
    private readonly prng: Prng,
    private readonly known: Known,
    private readonly config: ChaosConfig,
  ) {}

  private record(line: string): void {
    const entry = `${String(this.step).padStart(3, ' ')} ${line}`;
    this.steps.push(entry);
    this.config.onStep?.(entry);
  }

  private count(kind: string): void {
    this.actions[kind] = (this.actions[kind] ?? 0) + 1;
  }

  async run(): Promise<void> {
    const p = this.prng;
    for (this.step = 0; this.step < this.config.steps; this.step++) {
      await this.expireTimedFaults();
      const canMutate = this.config.local !== false && [...this.world.tabs.values()].some((t) => mutationsOf(t.sync));
      const kind = p.weighted({ remote: 45, local: canMutate ? 15 : 0, fault: 25, pause: 10, syncNow: 5 });
      if (kind === 'remote') await this.remote();
      else if (kind === 'local') this.localAction();
      else if (kind === 'fault') await this.fault();
      else if (kind === 'pause') {
        const ms = p.int(10, 150);
        this.record(`pause ${ms}ms`);
        await sleep(ms);
      } else {
        const tab = p.pick([...this.world.tabs.values()]) as Tab;
        this.record(`syncNow tab ${tab.name}${tab.generation}`);
        tab.sync.syncNow().catch(() => undefined);
      }
      await sleep(p.int(0, this.config.stepPauseMs ?? 8));
    }
  }

  private async expireTimedFaults(): Promise<void> {
    if (this.step === this.offlineUntil) {
      this.record('online again');
      this.world.network.setOffline(false);
    }
    if (this.step === this.latencyUntil) {
      const ms = this.prng.int(0, 3);
      this.record(`latency back to ${ms}ms`);
      await this.world.sim.control.setLatency(ms);
    }
  }

  /** "Another device" and "the outside world" (sim.control). */
  private async remote(): Promise<void> {
    const p = this.prng;
    const c = this.world.sim.control;
    const k = this.known;
    const action = p.weighted({ deliver: 22, setFlags: 28, keywords: 10, trash: 9, destroy: 7, createFolder: 7, renameFolder: 6, deleteFolder: 5, updateIdentity: 6 });
    this.count(action);
    try {
      switch (action) {
        case 'deliver': {
          const thread = p.chance(0.2) ? p.pick(k.threads) : undefined;
          const folder = p.chance(0.25) ? p.pick(k.folders) : undefined;
          const input = { subject: `chaos ${this.step}`, text: `body ${this.step}`, ...(thread ? { thread_id: thread } : {}), ...(folder ? { folder_id: folder } : {}) };
          const { id } = await c.deliver(input);
          k.messages.push(id);
          this.record(`remote deliver ${id}${folder ? ` into ${folder}` : ''}${thread ? ` in ${thread}` : ''}`);
          break;
        }
        case 'setFlags': {
          const ids = p.some(k.messages, 4);
          const patch = { ...(p.chance(0.7) ? { seen: p.chance(0.5) } : {}), ...(p.chance(0.5) ? { flagged: p.chance(0.5) } : {}) };
          await c.setFlags(ids, patch);
          wrote(k, ids, patchFields(patch));
          this.record(`remote setFlags ${ids.join(',')} ${JSON.stringify(patch)}`);
          break;
        }
        case 'keywords': {
          const ids = p.some(k.messages, 4);
          const patch = { keywords: { [`label${p.int(0, 3)}`]: p.chance(0.6), ...(p.chance(0.3) ? { $important: p.chance(0.5) } : {}) } };
          await c.setFlags(ids, patch);
          wrote(k, ids, patchFields(patch));
          this.record(`remote keywords ${ids.join(',')} ${JSON.stringify(patch)}`);
          break;
        }
        case 'trash': {
          const ids = p.some(k.messages, 3);
          wrote(k, ids, ['place']);
          await c.trash(ids);
          this.record(`remote trash ${ids.join(',')}`);
          break;
        }
        case 'destroy': {
          const ids = p.some(k.messages, 3);
          wrote(k, ids, ['place']);
          await c.destroy(ids);
          k.messages = k.messages.filter((id) => !ids.includes(id));
          this.record(`remote destroy ${ids.join(',')}`);
          break;
        }
        case 'createFolder': {
          const parent = p.chance(0.2) ? p.pick(k.folders) : undefined;
          const { id } = await c.createFolder(`Chaos ${this.step}`, parent ?? null);
          k.folders.push(id);
          this.record(`remote createFolder ${id}${parent ? ` under ${parent}` : ''}`);
          break;
        }
        case 'renameFolder': {
          const id = p.pick(k.folders);
          if (!id) return this.record('remote renameFolder (no folder yet)');
          await c.renameFolder(id, `Renamed ${this.step}`);
          this.record(`remote renameFolder ${id}`);
          break;
        }
        case 'deleteFolder': {
          const id = p.pick(k.folders);
          if (!id) return this.record('remote deleteFolder (no folder yet)');
          this.record(`remote deleteFolder ${id}`);
          await c.deleteFolder(id);
          k.folders = k.folders.filter((f) => f !== id);
          break;
        }
        case 'updateIdentity': {
          const patch = p.chance(0.5) ? { text_signature: `sig ${this.step}` } : { name: `Name ${this.step}` };
          await c.updateIdentity(patch);
          this.record(`remote updateIdentity ${JSON.stringify(patch)}`);
          break;
        }
      }
    } catch (error) {
      // The server refusing an action (a non-empty folder, say) is part of the world.
      this.record(`  refused: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** A user action in one tab: optimistic update/remove, not awaited (the world goes on). */
  private localAction(): void {
    const p = this.prng;
    const tabs = [...this.world.tabs.values()].filter((t) => t.alive && mutationsOf(t.sync));
    const tab = p.pick(tabs);
    const m = tab && mutationsOf(tab.sync);
    if (!tab || !m) return this.record('local (no tab can mutate)');
    const label = `${tab.name}${tab.generation}`;
    const sends = sendsOf(tab.sync);
    if (sends && p.chance(0.15)) {
      const send: LocalSend = { step: this.step, tab: label, subject: `chaos send ${this.world.options.seed}#${this.step}` };
      this.sends.push(send);
      this.count('local.send');
      this.record(`local send from tab ${label} "${send.subject}"`);
      sends.send({ to: [{ email: 'chaos.recipient@example.net', name: 'Chaos' }], subject: send.subject, text_body: `sent at step ${this.step}` }).then(
        (queued) => (send.key = queued.idempotency_key),
        (error: unknown) => (send.rejected = error instanceof Error ? error.message : String(error)),
      );
      return;
    }
    const ids = p.some(this.known.messages, 3);
    let action: LocalAction;
    let promise: Promise<LocalOutcome[]>;
    if (p.chance(0.75)) {
      const patch = {
        ...(p.chance(0.6) ? { seen: p.chance(0.5) } : {}),
        ...(p.chance(0.4) ? { flagged: p.chance(0.5) } : {}),
      };
      const withKeyword = p.chance(0.35) || Object.keys(patch).length === 0;
      const full = withKeyword ? { ...patch, keywords: { [`label${p.int(0, 3)}`]: p.chance(0.6) } } : patch;
      action = { step: this.step, tab: label, kind: 'update', ids, patch: full };
      wrote(this.known, ids, patchFields(full));
      this.count('local.update');
      this.record(`local update from tab ${label} ${ids.join(',')} ${JSON.stringify(full)}`);
      promise = m.update(ids, full);
    } else {
      const permanent = p.chance(0.2);
      action = { step: this.step, tab: label, kind: 'remove', ids, permanent };
      wrote(this.known, ids, ['place']);
      this.count('local.remove');
      this.record(`local remove from tab ${label} ${ids.join(',')}${permanent ? ' (permanent)' : ''}`);
      promise = m.remove(ids, { permanent });
    }
    this.local.push(action);
    promise.then(
      (outcome) => (action.outcome = outcome),
      (error: unknown) => (action.rejected = error instanceof Error ? error.message : String(error)),
    );
  }

  private async fault(): Promise<void> {
    const p = this.prng;
    const c = this.world.sim.control;
    const kind = p.weighted<FaultKind>({ fail500: 1.2, fail503: 1, fail429: 1, drop: 1.5, latency: 1, cutSse: 1, expireLog: 0.6, kill: 1, offline: 0.8 });
    this.faults[kind] += 1;
    switch (kind) {
      case 'fail500':
      case 'fail503':
      case 'fail429': {
        const status = Number(kind.slice(4));
        const path = p.pick(FAULT_PATHS);
        const count = p.int(1, 3);
        const retryAfterSeconds = status === 500 ? undefined : p.chance(0.3) ? 1 : 0;
        await c.failNext({ count, status, ...(path ? { path } : {}), ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}) });
        this.record(`fault failNext ${count}× ${status} ${path ?? '(any)'}${retryAfterSeconds !== undefined ? ` retry-after ${retryAfterSeconds}s` : ''}`);
        break;
      }
      case 'drop': {
        const path = p.pick(FAULT_PATHS);
        const count = p.int(1, 2);
        await c.dropNextResponses({ count, ...(path ? { path } : {}) });
        this.record(`fault dropNextResponses ${count}× ${path ?? '(any)'}`);
        break;
      }
      case 'latency': {
        const ms = p.int(15, 120);
        this.latencyUntil = this.step + p.int(3, 15);
        await c.setLatency(ms);
        this.record(`fault latency ${ms}ms until step ${this.latencyUntil}`);
        break;
      }
      case 'cutSse':
        await c.cutEventStreams();
        this.record('fault cutEventStreams');
        break;
      case 'expireLog':
        await c.expireChangeLog();
        this.record('fault expireChangeLog');
        break;
      case 'kill': {
        const name = p.pick(['A', 'B']) as string;
        const old = this.world.tabs.get(name);
        this.world.kill(name);
        const tab = this.world.openTab(name);
        this.record(`fault kill tab ${name}${old?.generation ?? 0}${old?.status.leader ? ' (leader)' : ''}, reopened as ${name}${tab.generation}`);
        break;
      }
      case 'offline': {
        if (this.world.network.offline) {
          this.record('fault offline (already offline)');
          break;
        }
        this.offlineUntil = this.step + p.int(2, 10);
        this.world.network.setOffline(true);
        this.record(`fault offline until step ${this.offlineUntil}`);
        break;
      }
    }
  }
}

/** Clears every fault, brings the network back, reopens crashed tabs. */
async function heal(world: ChaosWorld): Promise<void> {
  const c = world.sim.control;
  await c.failNext({ count: 0, status: 500 });
  await c.dropNextResponses({ count: 0 });
  await c.setLatency(0);
  world.network.setOffline(false);
  for (const name of ['A', 'B']) if (!world.tabs.get(name)?.alive) world.openTab(name);
}

/**
 * Waits for quiescence: a live leader whose syncNow() succeeds and an empty
 * outbox. Returns undefined, or why it did not get there.
 */
async function quiesce(world: ChaosWorld, deadline: number): Promise<string | undefined> {
  let last = 'no leader';
  while (performance.now() < deadline) {
    const leader = world.leader();
    if (!leader) {
      last = 'no live tab holds the leader lock';
      await sleep(20);
      continue;
    }
    // The event stream must be back (and its Last-Event-ID replay handled) before the
    // final pull, or a replayed delivery could land after it.
    if (leader.status.push !== 'connected') {
      last = `leader push ${leader.status.push}`;
      await sleep(20);
      continue;
    }
    await sleep(150);
    const db = await world.inspect();
    const activeBefore = await db.outbox.where('status').anyOf([...ACTIVE_OUTBOX_STATUSES]).count();
    if (activeBefore > 0) {
      last = `${activeBefore} outbox entries still active`;
      await sleep(20);
      continue;
    }
    try {
      await leader.sync.syncNow();
    } catch (error) {
      last = `syncNow on ${leader.name}${leader.generation} failed: ${error instanceof Error ? error.message : String(error)}`;
      await sleep(20);
      continue;
    }
    // A mutation may have been enqueued by a late caller meanwhile: start over.
    const active = await db.outbox.where('status').anyOf([...ACTIVE_OUTBOX_STATUSES]).count();
    if (active > 0) {
      last = `${active} outbox entries still active`;
      continue;
    }
    if (leader.status.phase !== 'live') {
      last = `leader phase ${leader.status.phase}`;
      await sleep(20);
      continue;
    }
    return undefined;
  }
  return `no quiescence: ${last}`;
}

type SimSnap = Awaited<ReturnType<ChaosWorld['sim']['snapshot']>>;
const SETTLED = new Set(['applied', 'rebased', 'rolled_back']);

/**
 * Check (2): every local action was applied on the server or reported rolled back
 * with a reason. Callers of live tabs must have been told, for every id. Where a
 * field of an initial message had exactly one writer in the whole schedule (this
 * action), the server's final value proves it: the patch when applied, the
 * initial value when rolled back. Removes with a single writer likewise: gone or
 * in Trash when applied.
 */
async function localActionProblems(actions: readonly LocalAction[], known: Known, initial: SimSnap, remote: SimSnap, world: ChaosWorld): Promise<string | undefined> {
  // Outcomes reach callers a tick after the outbox empties.
  for (let i = 0; i < 50 && actions.some((a) => !a.outcome && !a.rejected); i++) await sleep(20);
  const before = new Map(initial.messages.map((m) => [m.id, m]));
  const after = new Map(remote.messages.map((m) => [m.id, m]));
  const trash = initial.folders.find((f) => f.role === 'trash')?.id;
  for (const a of actions) {
    const what = `step ${a.step} ${a.kind} from tab ${a.tab} ${a.ids.join(',')}`;
    if (!a.outcome) {
      if (a.rejected) continue;
      const tab = world.tabs.get(a.tab.replace(/\d+$/, ''));
      return `${what}: the caller was never told the outcome${tab ? ` (tab now ${tab.name}${tab.generation})` : ''}`;
    }
    const told = new Set(a.outcome.map((o) => o.id));
    const missing = a.ids.filter((id) => !told.has(id));
    if (missing.length > 0) return `${what}: no outcome for ${missing.join(',')}`;
    for (const o of a.outcome) {
      if (!SETTLED.has(o.status)) return `${what}: outcome ${o.id} has status ${o.status}`;
      if (o.status === 'rolled_back' && !o.reason) return `${what}: ${o.id} rolled back without a reason`;
    }
    for (const o of a.outcome) {
      const was = before.get(o.id);
      if (!was) continue;
      const now = after.get(o.id);
      const applied = o.status !== 'rolled_back';
      if (a.kind === 'update' && a.patch && now) {
        for (const field of patchFields(a.patch)) {
          if (known.writers.get(`${o.id}|${field}`) !== 1 || known.writers.has(`${o.id}|place`)) continue;
          const value = (m: typeof now, f: string) => (f.startsWith('kw:') ? m.keywords.includes(f.slice(3)) : m.flags[f as 'seen' | 'flagged']);
          const wanted = applied ? (field.startsWith('kw:') ? a.patch.keywords?.[field.slice(3)] : a.patch[field as 'seen' | 'flagged']) : value(was, field);
          if (value(now, field) !== wanted) return `${what}: ${o.id} ${field} is ${String(value(now, field))} on the server, but the caller was told ${o.status}`;
        }
      }
      if (a.kind === 'remove' && applied && known.writers.get(`${o.id}|place`) === 1) {
        const gone = !now || (!a.permanent && trash !== undefined && now.folder_ids.includes(trash));
        if (!gone) return `${what}: ${o.id} still outside Trash on the server, but the caller was told ${o.status}`;
      }
    }
  }
  return undefined;
}

/** The stack of the first error whose cause is not an API/network failure (a local bug). */
function firstLocalFailure(world: ChaosWorld): string | undefined {
  for (const tab of world.history) {
    for (const e of tab.errors) {
      const cause = e.cause;
      if (cause instanceof Error && cause.name !== 'SendmuxApiError' && cause.name !== 'AbortError') {
        return `${tab.name}${tab.generation} ${e.code}: ${cause.stack ?? cause.message}`.split('\n').slice(0, 12).join('\n    ');
      }
    }
  }
  return undefined;
}

/**
 * Check (3) for sends: none delivered twice; one not delivered must have been
 * reported failed (a failed send waits in the outbox for the user's retry/discard).
 */
async function sendProblems(sends: readonly LocalSend[], remote: SimSnap, world: ChaosWorld): Promise<string | undefined> {
  const db = await world.inspect();
  const failedKeys = new Set(
    (await db.outbox.where('status').equals('failed').toArray())
      .map((e) => (e as { send?: { idempotency_key?: string } }).send?.idempotency_key)
      .filter((k): k is string => typeof k === 'string'),
  );
  for (const s of sends) {
    const copies = remote.messages.filter((m) => m.subject === s.subject).length;
    const what = `step ${s.step} send from tab ${s.tab} "${s.subject}"`;
    if (copies > 1) return `${what} was delivered ${copies} times`;
    if (copies === 1 || !s.key) continue;
    const told = world.sendOutcomes.get(s.key) ?? [];
    if (!told.includes('failed') && !failedKeys.has(s.key)) return `${what} was queued (${s.key}) but never delivered nor reported failed (told: ${told.join(',') || 'nothing'})`;
  }
  return undefined;
}

function describeTabs(world: ChaosWorld): string {
  const local = firstLocalFailure(world);
  return (local ? `first local failure: ${local}\n  ` : '') + world.history
    .map((t) => `${t.name}${t.generation}(${t.alive ? 'alive' : 'killed'} phase=${t.status.phase} leader=${t.status.leader} push=${t.status.push} errors=[${t.errors.slice(-3).map((e) => `${e.code}: ${e.message}`).join(' | ')}])`)
    .join('; ');
}

/** Runs one seeded schedule and checks the invariants. Never throws. */
export async function runSchedule(config: ChaosConfig): Promise<ScheduleResult> {
  const prng = createPrng(config.seed);
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  const options = {
    seed: config.seed,
    messages: prng.int(50, 200),
    pageSize: prng.pick([20, 35, 50, 100]) as number,
    changeLogLimit: prng.chance(0.3) ? prng.int(20, 80) : 10_000,
    validateResponses: config.validateResponses ?? false,
  };
  const result: ScheduleResult = { seed: config.seed, stepCount: config.steps, steps: [], faults: emptyFaults(), actions: {}, errors: {}, convergenceMs: Number.NaN };
  let world: ChaosWorld | undefined;
  try {
    world = await ChaosWorld.create(options, prng);
    const initial = await world.sim.snapshot();
    const known: Known = { messages: initial.messages.map((m) => m.id), threads: initial.threads.map((t) => t.id), folders: [], writers: new Map() };
    world.openTab('A');
    world.openTab('B');
    const schedule = new Schedule(world, prng, known, config);
    result.steps = schedule.steps;
    result.faults = schedule.faults;
    result.actions = schedule.actions;
    result.local = schedule.local;
    result.sends = schedule.sends;
    schedule.steps.push(`config ${JSON.stringify({ ...options, validateResponses: undefined })}`);
    await schedule.run();

    const healedAt = performance.now();
    await heal(world);
    const why = await quiesce(world, healedAt + (config.quiescenceMs ?? 30_000));
    if (why) {
      result.failure = `${why}\n  tabs: ${describeTabs(world)}`;
      return result;
    }
    const leader = world.leader() as Tab;
    const [local, remote] = await Promise.all([leader.sync.snapshot(), world.sim.snapshot()]);
    const diff = snapshotDiff(local, remote);
    if (diff) {
      if (process.env.CHAOS_DEBUG) {
        const id = /messages (msg_\w+)/.exec(diff)?.[1];
        const db = await world.inspect();
        if (id) console.warn('DEBUG', JSON.stringify({ outbox: await db.outbox.where('ids').equals(id).toArray(), all: (await db.outbox.toArray()).length, shadow: await db.shadows.get(id), tabs: describeTabs(world) }, null, 1));
      }
      result.failure = `(1) replica != server after quiescence: ${diff}\n  tabs: ${describeTabs(world)}`;
      return result;
    }
    result.convergenceMs = performance.now() - healedAt;
    // Every live tab reads the same replica.
    for (const tab of world.tabs.values()) {
      if (tab === leader) continue;
      const other = snapshotDiff(await tab.sync.snapshot(), remote);
      if (other) {
        result.failure = `(1) follower ${tab.name}${tab.generation} sees a different replica: ${other}`;
        return result;
      }
    }
    const db = await world.inspect();
    const stuck = await db.outbox.where('status').noneOf(['acked', 'failed']).count();
    if (stuck > 0) {
      result.failure = `(3) ${stuck} outbox entries left behind`;
      return result;
    }
    const lost = await localActionProblems(schedule.local, known, initial, remote, world);
    if (lost) {
      result.failure = `(2) ${lost}`;
      return result;
    }
    const twice = await sendProblems(schedule.sends, remote, world);
    if (twice) {
      result.failure = `(3) ${twice}`;
      return result;
    }
    const api = createMailboxApi({ apiKey: world.sim.apiKey, baseUrl: world.sim.url, rateLimit: false, retry: { attempts: 1 } });
    const tokens = await tokenProblems(api, await getTokens(db));
    if (tokens) {
      result.failure = `(3) tokens inconsistent with data: ${tokens}`;
      return result;
    }
    const invalid = world.sim.validationFailures();
    if (invalid.length > 0) {
      result.failure = `simulator emitted responses that break the spec: ${invalid.slice(0, 3).join(' | ')}`;
      return result;
    }
  } catch (error) {
    result.failure = `runner error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
  } finally {
    if (world) {
      for (const tab of world.history) for (const e of tab.errors) result.errors[e.code] = (result.errors[e.code] ?? 0) + 1;
      await world.close().catch((error: unknown) => {
        result.failure ??= `cleanup failed: ${error instanceof Error ? error.message : String(error)}`;
      });
    }
    // Rejections surface a tick late; give them the chance before judging.
    await sleep(5);
    process.off('unhandledRejection', onUnhandled);
    if (unhandled.length > 0 && !result.failure) {
      const first = unhandled[0];
      result.failure = `(3) ${unhandled.length} unhandled rejection(s): ${first instanceof Error ? (first.stack ?? first.message) : String(first)}`;
    }
  }
  return result;
}

/** Totals over many schedules (the CLI summary). */
export interface ChaosSummary {
  schedules: number;
  steps: number;
  faults: Record<FaultKind, number>;
  actions: Record<string, number>;
  errors: Record<string, number>;
  /** Local mutation outcomes by status (and reason), plus promises rejected by a crash. */
  outcomes: Record<string, number>;
  maxConvergenceMs: number;
  failures: ScheduleResult[];
}

export function summarize(results: readonly ScheduleResult[]): ChaosSummary {
  const s: ChaosSummary = { schedules: 0, steps: 0, faults: emptyFaults(), actions: {}, errors: {}, outcomes: {}, maxConvergenceMs: 0, failures: [] };
  for (const r of results) {
    s.schedules += 1;
    s.steps += r.stepCount;
    for (const k of FAULT_KINDS) s.faults[k] += r.faults[k];
    for (const [k, v] of Object.entries(r.actions)) s.actions[k] = (s.actions[k] ?? 0) + v;
    for (const [k, v] of Object.entries(r.errors)) s.errors[k] = (s.errors[k] ?? 0) + v;
    for (const x of r.sends ?? []) {
      const k = x.rejected ? 'send rejected (tab crashed)' : x.key ? 'send queued' : 'send unsettled';
      s.outcomes[k] = (s.outcomes[k] ?? 0) + 1;
    }
    for (const a of r.local ?? []) {
      const keys = a.outcome ? a.outcome.map((o) => (o.reason ? `${o.status}:${o.reason}` : o.status)) : [a.rejected ? 'caller rejected (tab crashed)' : 'unsettled'];
      for (const k of keys) s.outcomes[k] = (s.outcomes[k] ?? 0) + 1;
    }
    if (Number.isFinite(r.convergenceMs)) s.maxConvergenceMs = Math.max(s.maxConvergenceMs, r.convergenceMs);
    if (r.failure) s.failures.push(r);
  }
  return s;
}

/** A failure report: the seed, what broke, and the step list to replay it. */
export function describeFailure(r: ScheduleResult): string {
  const local = (r.local ?? []).map(
    (a) => `  step ${a.step} ${a.kind} from ${a.tab} ${a.ids.join(',')}: ${a.outcome ? a.outcome.map((o) => `${o.id} ${o.status}${o.reason ? `:${o.reason}` : ''}`).join(', ') : (a.rejected ?? 'unsettled')}`,
  );
  return [
    `chaos seed ${r.seed} FAILED: ${r.failure}`,
    `replay: npm run chaos -- --seed ${r.seed} --steps ${r.stepCount}`,
    'steps:',
    ...r.steps.map((l) => `  ${l}`),
    ...(local.length > 0 ? ['local actions (what each caller was told):', ...local] : []),
  ].join('\n');
}
