/**
 * `sendmux-sync/sim`: a local, faithful Sendmux Mailbox API for tests, demos and
 * benchmarks (Node only): real HTTP and SSE, seeded mailboxes, and a control surface
 * that acts as another device or the outside world. Start one with {@link startSimulator}.
 *
 * @packageDocumentation
 */
import { createControl, controlHttpHandler, snapshotOf, type SimControl, type SimSnapshot } from './control.js';
import { SimServer, type SimStats } from './server.js';
import { ResponseValidator } from './validate.js';

export type { SimControl, SimSnapshot, ControlDeliverInput } from './control.js';
export type { SimStats } from './server.js';
export type { FlagPatch } from './store.js';

/** Options of {@link startSimulator}; every field has a default. */
export interface SimulatorOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Generator seed (default 1): same seed, same mailbox. */
  seed?: number;
  /** Messages to generate (default 500). */
  messages?: number;
  /** The one accepted Bearer key (default 'smx_mbx_test'). */
  apiKey?: string;
  /** Requests per minute per key (default 1800); 0 or Infinity disables limiting. */
  rateLimitPerMinute?: number;
  /** Changes retained for /changes (default 10 000); older tokens answer sync_required. */
  changeLogLimit?: number;
  /** SSE events retained for Last-Event-ID replay (default 1000). */
  eventLogLimit?: number;
  /** Serve /__sim/* control calls over HTTP (default false). */
  control?: boolean;
  /** Validate every JSON response against the spec; violations become loud 500s (default false). */
  validateResponses?: boolean;
  /** Spec location for validateResponses (default SENDMUX_OPENAPI or ../shared/sendmux/mailbox-openapi.json). */
  specPath?: string;
  /** Heartbeat interval override for tests; otherwise the `ping` parameter (seconds). */
  pingIntervalMs?: number;
  /** Milliseconds in one second of SSE timing (`ping`, `close_after`); default 1000, tests shorten it. */
  secondMs?: number;
  /** When false, /mailbox/events answers 503 and the session reports events gated (default true). */
  eventsEnabled?: boolean;
  /** Concurrent SSE streams before 429 (default 50). */
  maxEventStreams?: number;
  /** Clock (ms) for new mail, rate-limit windows and expiries (default Date.now). */
  now?: () => number;
}

/** A running simulator. */
export interface Simulator {
  /** API base URL, e.g. http://127.0.0.1:4010/api/v1 */
  readonly url: string;
  /** The Bearer key it accepts (`apiKey` option; default `smx_mbx_test`). */
  readonly apiKey: string;
  /** The public id of its one mailbox. */
  readonly mailboxId: string;
  /** "Another device" and "the outside world": deliver mail, change flags, inject faults. */
  readonly control: SimControl;
  /** Every record of every type, sorted by id, as the list endpoints return them (minus threads' states and download URLs). */
  snapshot(): Promise<SimSnapshot>;
  /** Request counters since start or the last resetStats(). */
  stats(): SimStats;
  /** Zeroes the request counters. */
  resetStats(): void;
  /** Spec violations found by validateResponses (empty when none or when off). */
  validationFailures(): readonly string[];
  /** Closes the server and every open event stream. */
  close(): Promise<void>;
}

/**
 * Starts a simulator on `host:port` (default 127.0.0.1:4010; port 0 picks a free one)
 * with a seeded mailbox of `messages` messages.
 *
 * ```ts
 * const sim = await startSimulator({ port: 0, seed: 1, messages: 500 });
 * await sim.control.deliver({ subject: 'Hello' });
 * await sim.close();
 * ```
 */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const apiKey = options.apiKey ?? 'smx_mbx_test';
  const validator = options.validateResponses ? new ResponseValidator(options.specPath) : undefined;
  const server = new SimServer({
    seed: options.seed ?? 1,
    messages: options.messages ?? 500,
    apiKey,
    rateLimitPerMinute: options.rateLimitPerMinute ?? 1800,
    changeLogLimit: options.changeLogLimit ?? 10_000,
    eventLogLimit: options.eventLogLimit ?? 1000,
    ...(options.pingIntervalMs !== undefined ? { pingIntervalMs: options.pingIntervalMs } : {}),
    secondMs: options.secondMs ?? 1000,
    eventsEnabled: options.eventsEnabled ?? true,
    maxEventStreams: options.maxEventStreams ?? 50,
    now: options.now ?? Date.now,
    ...(validator ? { validator } : {}),
  });
  const control = createControl(server);
  if (options.control) server.setControlHandler(controlHttpHandler(server, control));
  const url = await server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  let closed: Promise<void> | undefined;
  return {
    url,
    apiKey,
    mailboxId: server.store.mailboxId,
    control,
    snapshot: async () => snapshotOf(server),
    stats: () => server.getStats(),
    resetStats: () => server.resetStats(),
    validationFailures: () => server.validationFailures,
    close: () => (closed ??= server.close()),
  };
}
