// One chaos "world": a simulator, a shared fake-indexeddb database, the network, and
// two tabs (engines on that database; one leads through the Web Locks polyfill, the
// other follows and takes over when the leader dies).
import { testStore } from '../helpers/storage.js';
import type { Observable, Subscription } from 'rxjs';
import { createMailboxSync, initialStatus, type MailboxSync, type SyncError, type SyncStatus } from '../../src/index.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { MailboxDb } from '../../src/store/db.js';
import { InProcessLocks } from './locks.js';
import { ChaosNetwork } from './network.js';
import type { Prng } from './prng.js';

/** One settled id of a local mutation (MutationOutcome, typed structurally). */
export interface LocalOutcome {
  id: string;
  status: string;
  reason?: string;
}

/** The optimistic mutation entry points, when the engine has them. */
export interface LocalMutations {
  update(ids: readonly string[], patch: { seen?: boolean; flagged?: boolean; keywords?: Record<string, boolean> }): Promise<LocalOutcome[]>;
  remove(ids: readonly string[], options?: { permanent?: boolean }): Promise<LocalOutcome[]>;
}

/** What a send outcome says (SendOutcome, typed structurally). */
export interface LocalSendOutcome {
  status: string;
  idempotency_key: string;
}

/** The send queue of an engine, when it has one. */
export interface LocalSends {
  send(draft: { to: { email: string; name?: string }[]; subject: string; text_body?: string }): Promise<{ seq: number; idempotency_key: string }>;
  readonly sendOutcomes$: Observable<LocalSendOutcome>;
}

/** The send queue of `sync`, or undefined when this build has none. */
export function sendsOf(sync: MailboxSync): LocalSends | undefined {
  const m = sync as unknown as Partial<LocalSends>;
  return typeof m.send === 'function' && m.sendOutcomes$ ? (m as LocalSends) : undefined;
}

/** The mutations of `sync`, or undefined when this build has none yet. */
export function mutationsOf(sync: MailboxSync): LocalMutations | undefined {
  const m = sync as unknown as Partial<LocalMutations>;
  return typeof m.update === 'function' && typeof m.remove === 'function' ? (m as LocalMutations) : undefined;
}

/** One engine instance ("a tab"); a crash replaces it by a new generation. */
export interface Tab {
  readonly name: string;
  readonly generation: number;
  readonly sync: MailboxSync;
  alive: boolean;
  status: SyncStatus;
  readonly errors: SyncError[];
  /** Settles when a killed tab has finished stopping. */
  stopped?: Promise<void>;
  readonly subscriptions: Subscription[];
}

/** Engine knobs a schedule draws from its seed. */
export interface WorldOptions {
  seed: number;
  messages: number;
  pageSize: number;
  changeLogLimit: number;
  validateResponses: boolean;
}

export class ChaosWorld {
  readonly network = new ChaosNetwork();
  readonly store = testStore();
  /** The tabs' shared Web Locks (one origin). */
  readonly locks = new InProcessLocks();
  private inspector: MailboxDb | undefined;
  readonly tabs = new Map<string, Tab>();
  /** Every tab ever created (for errors and cleanup). */
  readonly history: Tab[] = [];
  /** Send outcomes reported by any tab, by Idempotency-Key. */
  readonly sendOutcomes = new Map<string, string[]>();
  private constructor(
    readonly sim: Simulator,
    readonly options: WorldOptions,
    private readonly prng: Prng,
  ) {}

  static async create(options: WorldOptions, prng: Prng): Promise<ChaosWorld> {
    const sim = await startSimulator({
      port: 0,
      seed: options.seed,
      messages: options.messages,
      rateLimitPerMinute: 0,
      changeLogLimit: options.changeLogLimit,
      validateResponses: options.validateResponses,
      pingIntervalMs: 500,
    });
    return new ChaosWorld(sim, options, prng);
  }

  get dbName(): string {
    return `chaos-${this.options.seed}`;
  }

  /** Opens (or reopens, after a crash) tab `name` on the shared database. */
  openTab(name: string): Tab {
    const previous = this.tabs.get(name);
    const generation = previous ? previous.generation + 1 : 1;
    const flags = { alive: true };
    const sync = createMailboxSync({
      apiKey: this.sim.apiKey,
      baseUrl: this.sim.url,
      ...this.store.options,
      dbName: this.dbName,
      leader: 'auto',
      locks: this.locks,
      fetch: this.network.fetchFor(() => flags.alive),
      environment: this.network.environment,
      random: this.prng.fork().next,
      pageSize: this.options.pageSize,
      pushRetryMs: 200,
      poll: { visibleMs: 250, hiddenMs: 250, offlineBackoff: { baseMs: 20, maxMs: 250 } },
      apiOptions: { retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 40 }, rateLimit: false },
    });
    const tab: Tab = {
      name,
      generation,
      sync,
      get alive() {
        return flags.alive;
      },
      set alive(v: boolean) {
        flags.alive = v;
      },
      status: initialStatus,
      errors: [],
      subscriptions: [],
    };
    tab.subscriptions.push(
      sync.status$.subscribe((s) => (tab.status = s)),
      sync.errors$.subscribe((e) => tab.errors.push(e)),
    );
    const sends = sendsOf(sync);
    if (sends) {
      tab.subscriptions.push(
        sends.sendOutcomes$.subscribe((o) => this.sendOutcomes.set(o.idempotency_key, [...(this.sendOutcomes.get(o.idempotency_key) ?? []), o.status])),
      );
    }
    this.tabs.set(name, tab);
    this.history.push(tab);
    // start() rejects only when stopped first (a crash) or on a rejected key.
    sync.start().catch(() => undefined);
    return tab;
  }

  /**
   * Crashes a tab mid-flight: its network is cut at once (nothing it sends after
   * this point reaches the server) and it is stopped without waiting, which releases
   * its leader lock like a browser does for a dead tab.
   */
  kill(name: string): void {
    const tab = this.tabs.get(name);
    if (!tab || !tab.alive) return;
    tab.alive = false;
    tab.stopped = tab.sync.stop().catch(() => undefined);
  }

  /** The live tab that currently leads, if any. */
  leader(): Tab | undefined {
    return [...this.tabs.values()].find((t) => t.alive && t.status.leader);
  }

  /** A separate connection to the shared database, for the checks (never written). */
  async inspect(): Promise<MailboxDb> {
    if (!this.inspector) {
      this.inspector = new MailboxDb(this.dbName, this.store.options);
      await this.inspector.open();
    }
    return this.inspector;
  }

  async close(): Promise<void> {
    this.inspector?.close();
    for (const tab of this.history) {
      if (tab.alive) {
        tab.alive = false;
        tab.stopped = tab.sync.stop().catch(() => undefined);
      }
    }
    await Promise.all(this.history.map((t) => t.stopped));
    for (const tab of this.history) for (const s of tab.subscriptions) s.unsubscribe();
    await this.sim.close();
  }
}
